import { describe, expect, it } from 'vitest';
import { histogramQuantileBound, metricTotal, readHistogram } from './prometheus-text.ts';

const text = `# HELP x_total things
# TYPE x_total counter
x_total{reason="a"} 3
x_total{reason="b"} 4
lat_seconds_bucket{le="0.01"} 50
lat_seconds_bucket{le="0.1"} 98
lat_seconds_bucket{le="1"} 100
lat_seconds_bucket{le="+Inf"} 100
lat_seconds_sum 2.5
lat_seconds_count 100
`;

describe('Prometheus text', () => {
  it('sums a counter over its labels', () => {
    expect(metricTotal(text, 'x_total')).toBe(7);
    expect(metricTotal(text, 'absent_total')).toBe(0);
  });

  it('sums only the label sets that match', () => {
    expect(metricTotal(text, 'x_total', { reason: 'b' })).toBe(4);
    expect(metricTotal(text, 'x_total', { reason: 'c' })).toBe(0);
  });

  it('reads a histogram and the bucket bound of a quantile', () => {
    const histogram = readHistogram(text, 'lat_seconds');
    expect(histogram).toEqual({ count: 100, sum: 2.5, buckets: [[0.01, 50], [0.1, 98], [1, 100], [Number.POSITIVE_INFINITY, 100]] });
    expect(histogramQuantileBound(histogram!, 0.5)).toBe(0.01);
    expect(histogramQuantileBound(histogram!, 0.99)).toBe(1);
    expect(readHistogram(text, 'absent')).toBeNull();
  });
});
