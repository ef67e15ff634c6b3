import { describe, expect, it } from 'vitest';
import { createLatencyHistogram, percentileOfBucketsMs } from './latency-histogram.ts';

function exactPercentile(sorted: number[], fraction: number): number {
  return sorted[Math.max(0, Math.ceil(fraction * sorted.length) - 1)]!;
}

describe('latency histogram', () => {
  it('reports zeros when empty', () => {
    const summary = createLatencyHistogram().summary();
    expect(summary).toMatchObject({ count: 0, p50Ms: 0, p99Ms: 0, maxMs: 0, meanMs: 0 });
  });

  it('keeps small values exact', () => {
    const histogram = createLatencyHistogram();
    for (const ms of [0.001, 0.05, 0.1]) histogram.recordMs(ms);
    expect(histogram.percentileMs(1 / 3)).toBe(0.001);
    expect(histogram.percentileMs(2 / 3)).toBe(0.05);
    expect(histogram.maxMs()).toBe(0.1);
  });

  it('matches exact percentiles within 1 % over a wide range', () => {
    const histogram = createLatencyHistogram();
    const values: number[] = [];
    let seed = 42;
    for (let i = 0; i < 20_000; i += 1) {
      seed = (seed * 1_103_515_245 + 12_345) % 2 ** 31;
      // log-uniform between 0.1 ms and 10 s
      const ms = Math.round(10 ** (-1 + 5 * (seed / 2 ** 31)) * 1000) / 1000;
      values.push(ms);
      histogram.recordMs(ms);
    }
    values.sort((a, b) => a - b);
    for (const fraction of [0.5, 0.9, 0.95, 0.99, 0.999]) {
      const exact = exactPercentile(values, fraction);
      const approx = histogram.percentileMs(fraction);
      expect(Math.abs(approx - exact) / exact, `p${fraction * 100}: ${approx} vs ${exact}`).toBeLessThan(0.01);
    }
    expect(histogram.maxMs()).toBe(values.at(-1));
    expect(histogram.summary().minMs).toBe(values[0]);
    expect(histogram.summary().meanMs).toBeCloseTo(values.reduce((a, b) => a + b, 0) / values.length, 6);
  });

  it('clamps negatives to zero and huge values to the trackable maximum', () => {
    const histogram = createLatencyHistogram();
    histogram.recordMs(-5);
    histogram.recordMs(1e12);
    expect(histogram.percentileMs(0.5)).toBe(0);
    expect(histogram.maxMs()).toBeCloseTo((2 ** 32 - 1) / 1000, 3);
  });

  it('merges counts and keeps the exact maximum', () => {
    const a = createLatencyHistogram();
    const b = createLatencyHistogram();
    for (let i = 1; i <= 100; i += 1) a.recordMs(i);
    for (let i = 101; i <= 200; i += 1) b.recordMs(i);
    a.merge(b);
    expect(a.count()).toBe(200);
    expect(a.maxMs()).toBe(200);
    expect(Math.abs(a.percentileMs(0.5) - 100) / 100).toBeLessThan(0.01);
  });

  it('reports only what was recorded after a reset', () => {
    const histogram = createLatencyHistogram();
    for (let i = 0; i < 1000; i += 1) histogram.recordMs(5000);
    histogram.reset();
    expect(histogram.summary()).toMatchObject({ count: 0, minMs: 0, maxMs: 0, meanMs: 0, p99Ms: 0 });
    for (const ms of [2, 3, 4]) histogram.recordMs(ms);
    expect(histogram.summary()).toMatchObject({ count: 3, minMs: 2, meanMs: 3, maxMs: 4 });
    // the 1,000 values of before the reset are in no bucket
    expect(histogram.buckets().map(([, count]) => count)).toEqual([1, 1, 1]);
  });

  it('reads a percentile from buckets alone as the histogram does', () => {
    const histogram = createLatencyHistogram();
    for (let i = 1; i <= 1000; i += 1) histogram.recordMs(i / 10);
    const buckets = histogram.buckets();
    for (const fraction of [0.01, 0.5, 0.99]) expect(percentileOfBucketsMs(buckets, fraction)).toBe(histogram.percentileMs(fraction));
    // Buckets do not know the exact maximum: the top one's bound stands for it (within 1/128).
    expect(percentileOfBucketsMs(buckets, 1)).toBeGreaterThanOrEqual(100);
    expect(percentileOfBucketsMs(buckets, 1)).toBeLessThan(100 * (1 + 1 / 128));
    expect(percentileOfBucketsMs([], 0.99)).toBe(0);
  });
});
