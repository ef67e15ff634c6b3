import { describe, expect, it } from 'vitest';
import { fillSeries, type FillMode } from './series-fill.ts';

const fromMs = 1_000_000;
const stepMs = 1000;
const at = (index: number, value: number | null) => ({ tsMs: fromMs + index * stepMs, value });
const values = (fill: FillMode, buckets = [at(1, 10), at(4, 40)], points = 6) => fillSeries(buckets, { fromMs, stepMs, points, fill }).map((point) => point.value);

describe('fillSeries', () => {
  it('gives one point per step from `from`, each at its bucket start', () => {
    expect(fillSeries([at(1, 10)], { fromMs, stepMs, points: 3, fill: 'null' })).toEqual([at(0, null), at(1, 10), at(2, null)]);
  });

  it('fills empty buckets as asked', () => {
    expect(values('null')).toEqual([null, 10, null, null, 40, null]);
    expect(values('zero')).toEqual([0, 10, 0, 0, 40, 0]);
    expect(values('prev')).toEqual([null, 10, 10, 10, 40, 40]);
    expect(values('linear')).toEqual([null, 10, 20, 30, 40, null]);
  });

  it('leaves empty buckets out with none', () => {
    expect(fillSeries([at(1, 10), at(4, 40)], { fromMs, stepMs, points: 6, fill: 'none' })).toEqual([at(1, 10), at(4, 40)]);
  });

  it('treats a bucket whose aggregate is null as empty, and ignores buckets outside the range', () => {
    expect(values('prev', [at(-1, 5), at(0, 1), at(2, null), at(6, 9)])).toEqual([1, 1, 1, 1, 1, 1]);
  });

  it('places buckets by the nearest step even when QuestDB rounds the timestamp', () => {
    expect(values('null', [{ tsMs: fromMs + 2 * stepMs - 1, value: 7 }], 3)).toEqual([null, null, 7]);
  });
});
