import { describe, expect, it } from 'vitest';
import { chooseProbeDevices, createRateSchedule } from './rate-schedule.ts';

describe('rate schedule', () => {
  it('releases exactly rate × elapsed whatever the tick spacing', () => {
    const schedule = createRateSchedule({ ratePerSec: 2000, startMs: 1000 });
    let total = 0;
    for (const now of [1000, 1003, 1004.5, 1017, 1500, 1500, 1999, 2000]) total += schedule.due(now);
    expect(total).toBe(2000);
    expect(schedule.released()).toBe(2000);
  });

  it('catches up after a late tick instead of drifting', () => {
    const schedule = createRateSchedule({ ratePerSec: 100, startMs: 0 });
    expect(schedule.due(10)).toBe(1);
    expect(schedule.due(510)).toBe(50);
    expect(schedule.due(505)).toBe(0);
  });

  it('handles fractional rates', () => {
    const schedule = createRateSchedule({ ratePerSec: 0.5, startMs: 0 });
    expect(schedule.due(1999)).toBe(0);
    expect(schedule.due(2000)).toBe(1);
  });

  it('refuses a rate that is not positive', () => {
    expect(() => createRateSchedule({ ratePerSec: 0, startMs: 0 })).toThrow(RangeError);
  });
});

describe('probe devices', () => {
  it('spreads probes and bounds their message rate', () => {
    // 1000 devices at 10,000 msg/s: 10 msg/s each, so 30 probes give 300 msg/s
    const probes = chooseProbeDevices(1000, 10_000, 300);
    expect(probes).toHaveLength(30);
    expect(new Set(probes).size).toBe(30);
    expect(probes[0]).toBe(0);
    expect(Math.max(...probes)).toBeLessThan(1000);
  });

  it('takes every device when they are few or slow, and at least one', () => {
    expect(chooseProbeDevices(5, 50, 300)).toEqual([0, 1, 2, 3, 4]);
    expect(chooseProbeDevices(10, 100_000, 300)).toEqual([0]);
    expect(chooseProbeDevices(0, 100, 300)).toEqual([]);
  });
});
