/**
 * Open-loop rate scheduling: how many messages are due at a moment, given a fixed offered rate.
 * Counting from the start (not from the last tick) means timer jitter never drifts the rate: a late
 * tick simply releases more messages.
 */

export interface RateSchedule {
  /** Messages that became due since the previous call (the first call counts from `startMs`). */
  due(nowMs: number): number;
  /** Messages due in total up to the last `due` call. */
  released(): number;
}

/** Creates a schedule of `ratePerSec` messages per second starting at `startMs` (epoch or monotonic ms). */
export function createRateSchedule(options: { ratePerSec: number; startMs: number }): RateSchedule {
  const { ratePerSec, startMs } = options;
  if (!Number.isFinite(ratePerSec) || ratePerSec <= 0) throw new RangeError(`rate must be positive, got ${ratePerSec}`);
  let released = 0;
  return {
    due(nowMs) {
      const target = Math.floor(((nowMs - startMs) * ratePerSec) / 1000);
      if (target <= released) return 0;
      const fresh = target - released;
      released = target;
      return fresh;
    },
    released: () => released,
  };
}

/**
 * Chooses the devices whose every message is followed to QuestDB (the publish→queryable probes):
 * evenly spread, and few enough that they offer at most `maxProbeRatePerSec` messages per second.
 */
export function chooseProbeDevices(deviceCount: number, ratePerSec: number, maxProbeRatePerSec: number): number[] {
  if (deviceCount <= 0) return [];
  const perDevice = ratePerSec / deviceCount;
  const wanted = Math.max(1, Math.min(deviceCount, Math.floor(maxProbeRatePerSec / Math.max(perDevice, 1e-9))));
  const step = deviceCount / wanted;
  return Array.from({ length: wanted }, (_, i) => Math.floor(i * step));
}
