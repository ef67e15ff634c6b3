import { describe, expect, it } from 'vitest';
import { stageThroughput, type CountSample } from './stage-throughput.ts';

const linear = (perSec: number, untilMs: number, stepMs = 1000): CountSample[] =>
  Array.from({ length: untilMs / stepMs + 1 }, (_, i) => ({ atMs: i * stepMs, count: (i * stepMs * perSec) / 1000 }));

describe('stage throughput', () => {
  it('reports the rate of a stage that keeps up', () => {
    const result = stageThroughput(linear(1000, 10_000), 10_000, 10_000);
    expect(result).toEqual({ count: 10_000, completedAfterMs: 10_000, perSec: 1000, steadyPerSec: 1000, peakPerSec: 1000 });
  });

  it('charges a stage that lags for the time its backlog took', () => {
    // 10 s of load at 1000/s offered, but the stage drains at 500/s and finishes after 20 s
    const samples = linear(500, 20_000);
    const result = stageThroughput(samples, 10_000, 10_000);
    expect(result.completedAfterMs).toBe(20_000);
    expect(result.perSec).toBe(500);
    expect(result.steadyPerSec).toBe(500);
  });

  it('says null when the stage never got everything', () => {
    const result = stageThroughput(linear(100, 5000), 10_000, 5000);
    expect(result.completedAfterMs).toBeNull();
    expect(result.perSec).toBe(0);
    expect(result.steadyPerSec).toBe(100);
  });

  it('handles an empty stage', () => {
    expect(stageThroughput([], 0, 1000)).toEqual({ count: 0, completedAfterMs: 0, perSec: 0, steadyPerSec: 0, peakPerSec: 0 });
  });
});
