/**
 * Turns the buckets QuestDB returned for a series (only those with data, each aligned to `from`)
 * into the dense series a chart draws, one point per step, with the requested fill for empty
 * buckets. Done here rather than with QuestDB's FILL: QuestDB 9.3.4 ignores a bound `TO` when
 * filling (no trailing points), and with a bound `FROM` FILL(PREV) puts values before the first
 * row and FILL(LINEAR) fills nothing (checked over the PG wire, 2026-12-02). Pure; no I/O.
 */

export const fillModes = ['null', 'prev', 'linear', 'zero', 'none'] as const;
export type FillMode = (typeof fillModes)[number];

export interface SeriesPoint {
  /** Bucket start, epoch ms. */
  tsMs: number;
  value: number | null;
}

/**
 * `buckets` are in time order and inside [fromMs, fromMs + points × stepMs). `none` returns only
 * the buckets with data; the other modes return exactly `points` points: `null` leaves empty
 * buckets null, `zero` makes them 0, `prev` repeats the last value before (null before the first),
 * `linear` interpolates between the values either side (null outside them).
 */
export function fillSeries(buckets: readonly SeriesPoint[], options: { fromMs: number; stepMs: number; points: number; fill: FillMode }): SeriesPoint[] {
  const { fromMs, stepMs, points, fill } = options;
  if (fill === 'none') return buckets.map((bucket) => ({ ...bucket }));
  const values: Array<number | null> = new Array<number | null>(points).fill(null);
  const known: boolean[] = new Array<boolean>(points).fill(false);
  for (const bucket of buckets) {
    const index = Math.round((bucket.tsMs - fromMs) / stepMs);
    if (index < 0 || index >= points || bucket.value === null) continue;
    values[index] = bucket.value;
    known[index] = true;
  }
  let previous: number | null = null;
  let previousIndex = -1;
  for (let index = 0; index < points; index++) {
    if (known[index]) {
      if (fill === 'linear' && previousIndex >= 0 && previous !== null && index - previousIndex > 1) {
        const slope = ((values[index] as number) - previous) / (index - previousIndex);
        for (let gap = previousIndex + 1; gap < index; gap++) values[gap] = previous + slope * (gap - previousIndex);
      }
      previous = values[index] as number;
      previousIndex = index;
    } else if (fill === 'prev') values[index] = previous;
    else if (fill === 'zero') values[index] = 0;
  }
  return values.map((value, index) => ({ tsMs: fromMs + index * stepMs, value }));
}
