/**
 * A small HDR-style latency histogram: log-linear buckets with 128 sub-buckets per power of two, so
 * any recorded value is reported within 1/128 (< 0.8 %) of itself, in constant memory (~4k counters)
 * and O(1) per record. Values are microseconds (integers); percentiles are read back in milliseconds.
 */

const subBucketBits = 7;
const subBucketCount = 1 << subBucketBits;
// 2^32 µs ≈ 71 minutes: anything longer is clamped, a latency that long is a failure anyway.
const maxTrackableUs = 2 ** 32 - 1;
const bucketCount = subBucketCount + (32 - subBucketBits) * subBucketCount;

export interface LatencySummary {
  count: number;
  minMs: number;
  meanMs: number;
  p50Ms: number;
  p90Ms: number;
  p95Ms: number;
  p99Ms: number;
  p999Ms: number;
  maxMs: number;
}

export interface LatencyHistogram {
  /** Records one latency in milliseconds (fractions kept to the microsecond; negatives count as 0). */
  recordMs(valueMs: number): void;
  /** Adds every value of `other` to this histogram. */
  merge(other: LatencyHistogram): void;
  /** Forgets every value recorded so far (a warm-up's), as if new. */
  reset(): void;
  count(): number;
  /** The value (ms) at or below which `fraction` (0..1] of the recorded values lie; 0 when empty. */
  percentileMs(fraction: number): number;
  maxMs(): number;
  summary(): LatencySummary;
  /** Non-empty buckets as [upper bound µs, count] pairs, for merging across processes or plotting. */
  buckets(): Array<[number, number]>;
}

function indexOf(valueUs: number): number {
  if (valueUs < subBucketCount) return valueUs;
  const exponent = 31 - Math.clz32(valueUs) - subBucketBits;
  const sub = valueUs >>> exponent;
  return subBucketCount + exponent * subBucketCount + (sub - subBucketCount);
}

function upperBoundUs(index: number): number {
  if (index < subBucketCount) return index;
  const exponent = Math.floor((index - subBucketCount) / subBucketCount);
  const sub = (index - subBucketCount) % subBucketCount + subBucketCount;
  return (sub + 1) * 2 ** exponent - 1;
}

/** Creates an empty histogram. */
export function createLatencyHistogram(): LatencyHistogram {
  const counts = new Float64Array(bucketCount);
  let total = 0;
  let sumUs = 0;
  let minUs = Number.POSITIVE_INFINITY;
  let maxUs = 0;

  const addUs = (valueUs: number, times: number): void => {
    counts[indexOf(valueUs)]! += times;
    total += times;
    sumUs += valueUs * times;
    if (valueUs < minUs) minUs = valueUs;
    if (valueUs > maxUs) maxUs = valueUs;
  };

  const histogram: LatencyHistogram = {
    recordMs(valueMs) {
      const us = Number.isFinite(valueMs) ? Math.min(maxTrackableUs, Math.max(0, Math.round(valueMs * 1000))) : maxTrackableUs;
      addUs(us, 1);
    },
    merge(other) {
      if (other.count() === 0) return;
      const [previousMin, previousMax] = [minUs, maxUs];
      for (const [upper, count] of other.buckets()) addUs(upper, count);
      // Bucket bounds stand in for the other histogram's values; its exact min and max are known.
      const theirs = other.summary();
      minUs = Math.min(previousMin, Math.round(theirs.minMs * 1000));
      maxUs = Math.max(previousMax, Math.round(theirs.maxMs * 1000));
    },
    reset() {
      counts.fill(0);
      total = 0;
      sumUs = 0;
      minUs = Number.POSITIVE_INFINITY;
      maxUs = 0;
    },
    count: () => total,
    // A bucket's bound can lie above the largest value recorded: the exact maximum caps it.
    percentileMs: (fraction) => Math.min(percentileOfBucketsMs(histogram.buckets(), fraction), maxUs / 1000),
    maxMs: () => maxUs / 1000,
    summary() {
      const p = (fraction: number): number => histogram.percentileMs(fraction);
      return {
        count: total,
        minMs: total === 0 ? 0 : minUs / 1000,
        meanMs: total === 0 ? 0 : sumUs / total / 1000,
        p50Ms: p(0.5),
        p90Ms: p(0.9),
        p95Ms: p(0.95),
        p99Ms: p(0.99),
        p999Ms: p(0.999),
        maxMs: maxUs / 1000,
      };
    },
    buckets() {
      const pairs: Array<[number, number]> = [];
      for (let index = 0; index < bucketCount; index += 1) {
        if (counts[index]! > 0) pairs.push([upperBoundUs(index), counts[index]!]);
      }
      return pairs;
    },
  };
  return histogram;
}

/**
 * The value (ms) at or below which `fraction` of the counts in `buckets` lie (pairs as
 * {@link LatencyHistogram.buckets} gives them, in ascending bounds); 0 when they hold nothing.
 * For a percentile of part of a run: the difference of two snapshots of one histogram's buckets.
 */
export function percentileOfBucketsMs(buckets: ReadonlyArray<readonly [number, number]>, fraction: number): number {
  const total = buckets.reduce((sum, [, count]) => sum + count, 0);
  if (total === 0) return 0;
  const rank = Math.max(1, Math.ceil(Math.min(1, Math.max(0, fraction)) * total));
  let seen = 0;
  for (const [upperUs, count] of buckets) {
    seen += count;
    if (seen >= rank) return upperUs / 1000;
  }
  return buckets[buckets.length - 1]![0] / 1000;
}
