import { describe, expect, it } from 'vitest';
import { findKnee, renderSweepPlots, type SweepPoint } from './sweep-analysis.ts';

const point = (offered: number, achieved: number, lost = 0): SweepPoint => ({ offeredPerSec: offered, achievedPerSec: achieved, ackedPerSec: achieved, lost, p99PubackMs: offered / 1000, p99QueryableMs: offered / 100 });

describe('knee', () => {
  it('is the last rate carried before throughput falls behind', () => {
    const knee = findKnee([point(5000, 4990), point(2000, 2000), point(10_000, 9600), point(20_000, 12_000)]);
    expect(knee.sustainedPerSec).toBe(10_000);
    expect(knee.firstSaturatedPerSec).toBe(20_000);
    expect(knee.reason).toContain('20000');
  });

  it('stops at the first rate with a loss, however fast', () => {
    const knee = findKnee([point(2000, 2000), point(5000, 5000, 3), point(10_000, 10_000)]);
    expect(knee).toMatchObject({ sustainedPerSec: 2000, firstSaturatedPerSec: 5000 });
    expect(knee.reason).toContain('3 acknowledged messages lost');
  });

  it('says when every rate was carried, or none', () => {
    expect(findKnee([point(1000, 1000)])).toMatchObject({ sustainedPerSec: 1000, firstSaturatedPerSec: null });
    expect(findKnee([point(1000, 10)])).toMatchObject({ sustainedPerSec: null, firstSaturatedPerSec: 1000 });
  });
});

describe('sweep plots', () => {
  it('plots achieved and latency series against offered load', () => {
    const { throughputSvg, latencySvg } = renderSweepPlots([point(2000, 2000), point(4000, 3000)], 'test');
    expect(throughputSvg.match(/<polyline/g)).toHaveLength(3);
    expect(latencySvg).toContain('publish→queryable');
    expect(latencySvg.match(/<polyline/g)).toHaveLength(2);
  });
});
