/**
 * Reading a few figures from a service's Prometheus /metrics text: counter totals and histogram
 * quantiles (as the upper bound of the bucket holding the quantile, which is all buckets can say).
 * Pure.
 */

const sampleLine = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(\{[^}]*\})?\s+(\S+)/;

function samples(text: string, name: string): Array<{ labels: string; value: number }> {
  const found: Array<{ labels: string; value: number }> = [];
  for (const line of text.split('\n')) {
    const match = sampleLine.exec(line);
    if (match?.[1] === name) found.push({ labels: match[2] ?? '', value: Number(match[3]) });
  }
  return found;
}

/** Sum of a counter (or gauge) over all its label sets, or those that have every label of `where`; 0 when absent. */
export function metricTotal(text: string, name: string, where: Record<string, string> = {}): number {
  const wanted = Object.entries(where).map(([label, value]) => `${label}=${JSON.stringify(value)}`);
  return samples(text, name)
    .filter((sample) => wanted.every((pair) => sample.labels.includes(pair)))
    .reduce((sum, sample) => sum + (Number.isFinite(sample.value) ? sample.value : 0), 0);
}

export interface HistogramReading {
  count: number;
  sum: number;
  /** Cumulative counts by upper bound (le), ascending, +Inf last. */
  buckets: Array<[number, number]>;
}

/** A histogram summed over its label sets; null when absent. */
export function readHistogram(text: string, name: string): HistogramReading | null {
  const byBound = new Map<number, number>();
  for (const { labels, value } of samples(text, `${name}_bucket`)) {
    const le = /le="([^"]+)"/.exec(labels)?.[1];
    if (le === undefined) continue;
    const bound = le === '+Inf' ? Number.POSITIVE_INFINITY : Number(le);
    byBound.set(bound, (byBound.get(bound) ?? 0) + value);
  }
  if (byBound.size === 0) return null;
  return { count: metricTotal(text, `${name}_count`), sum: metricTotal(text, `${name}_sum`), buckets: [...byBound].sort((a, b) => a[0] - b[0]) };
}

/** Upper bound of the bucket that holds quantile `q` (0..1); null when empty. */
export function histogramQuantileBound(histogram: HistogramReading, q: number): number | null {
  const total = histogram.buckets.at(-1)?.[1] ?? 0;
  if (total === 0) return null;
  const rank = q * total;
  return histogram.buckets.find(([, cumulative]) => cumulative >= rank)?.[0] ?? null;
}
