import { describe, expect, it } from 'vitest';
import { medianProbeMs, parseCpuTimes, probeHostSpeed, sampleHostSpeed, stealShare } from './host-speed.ts';

describe('host speed', () => {
  it('reads total and steal ticks from the aggregate cpu line of /proc/stat', () => {
    const stat = 'cpu  447178 131 114612 5518711 11265 0 15786 13740 0 0\ncpu0 1 2 3 4 5 6 7 8 0 0\nintr 1\n';
    expect(parseCpuTimes(stat)).toEqual({ totalTicks: 447178 + 131 + 114612 + 5518711 + 11265 + 0 + 15786 + 13740, stealTicks: 13740 });
    expect(parseCpuTimes('intr 1\n')).toBeNull();
    expect(parseCpuTimes('cpu  1 2 x 4 5 6 7 8\n')).toBeNull();
  });

  it('gives the stolen share of the CPU time between two readings', () => {
    expect(stealShare({ totalTicks: 1000, stealTicks: 10 }, { totalTicks: 3000, stealTicks: 60 })).toBe(2.5);
    expect(stealShare(null, { totalTicks: 3000, stealTicks: 60 })).toBeNull();
    expect(stealShare({ totalTicks: 3000, stealTicks: 60 }, { totalTicks: 3000, stealTicks: 60 })).toBeNull();
  });

  it('times the fixed work in CPU milliseconds', () => {
    const ms = probeHostSpeed(2);
    expect(ms).toBeGreaterThan(0);
    expect(ms).toBeLessThan(10_000);
  });

  it('probes in a worker thread while the caller\'s loop runs on, until stopped', async () => {
    const sampler = sampleHostSpeed(50);
    await new Promise((resolve) => setTimeout(resolve, 400));
    const probes = await sampler.stop();
    expect(probes.length).toBeGreaterThan(0);
    for (const ms of probes) expect(ms).toBeGreaterThan(0);
    // Stopping again (a run's cleanup after its normal end) is harmless.
    await expect(sampler.stop()).resolves.toEqual(probes);
  });

  it('takes the median of the probes', () => {
    expect(medianProbeMs([3, 1, 2])).toBe(2);
    expect(medianProbeMs([4, 1, 2, 3])).toBe(2.5);
    expect(medianProbeMs([])).toBeNull();
  });
});
