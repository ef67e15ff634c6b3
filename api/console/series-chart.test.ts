import { describe, expect, it } from 'vitest';
import { chartGeometry } from './series-chart.ts';

describe('series chart geometry', () => {
  it('fits the points into the box, y downwards, and breaks the line at a gap', () => {
    const points = [
      { tsMs: 0, value: 10 },
      { tsMs: 1000, value: 20 },
      { tsMs: 2000, value: null },
      { tsMs: 3000, value: 15 },
      { tsMs: 4000, value: 10 },
    ];
    expect(chartGeometry(points, 400, 100)).toEqual({ path: 'M0 100 L100 0 M300 50 L400 100', min: 10, max: 20, valued: 4 });
  });

  it('gives equal values a range around them, and nothing to draw without a value', () => {
    expect(chartGeometry([{ tsMs: 0, value: 5 }, { tsMs: 10, value: 5 }], 10, 10)).toEqual({ path: 'M0 5 L10 5', min: 4.5, max: 5.5, valued: 2 });
    expect(chartGeometry([{ tsMs: 0, value: null }], 10, 10)).toBeNull();
    expect(chartGeometry([], 10, 10)).toBeNull();
  });
});
