import { describe, expect, it } from 'vitest';
import { scheduleFault } from './e2e-bench.ts';
import type { Fault, FaultEnvironment } from './faults/fault.ts';

/** A fault that records what it did; `failAfterStart` makes its injection do part of its work, then throw. */
function recordingFault(failAfterStart: boolean): Fault & { undone: () => boolean } {
  let started = false;
  let undone = false;
  return {
    kind: 'test-fault',
    describe: () => 'test fault',
    inject: async () => {
      started = true;
      if (failAfterStart) throw new Error('timed out waiting for the broker to leave the ISRs');
    },
    heal: async () => {
      if (started) undone = true;
    },
    undone: () => undone,
  };
}

// The scheduler hands the environment to the fault only; these faults do not read it.
const environment = {} as FaultEnvironment;

describe('scheduleFault', () => {
  it('heals a fault whose injection failed part-way, so nothing it did outlives the run', async () => {
    const fault = recordingFault(true);
    const schedule = scheduleFault({ fault, atMs: 0, forMs: 60_000 }, performance.now(), environment);
    await new Promise((resolve) => setTimeout(resolve, 20));
    await schedule.healNow();
    expect(schedule.timeline.error).toMatch(/timed out/);
    expect(schedule.timeline.injectedAtMs).toBeNull();
    expect(fault.undone()).toBe(true);
  });

  it('heals an injected fault once, and does not heal one never injected', async () => {
    const injected = recordingFault(false);
    const schedule = scheduleFault({ fault: injected, atMs: 0, forMs: 60_000 }, performance.now(), environment);
    await new Promise((resolve) => setTimeout(resolve, 20));
    await Promise.all([schedule.healNow(), schedule.healNow()]);
    expect(schedule.timeline.injectedAtMs).not.toBeNull();
    expect(schedule.timeline.healedAtMs).not.toBeNull();
    expect(injected.undone()).toBe(true);

    const never = recordingFault(false);
    const early = scheduleFault({ fault: never, atMs: 60_000, forMs: 1000 }, performance.now(), environment);
    await early.healNow();
    expect(never.undone()).toBe(false);
    expect(early.timeline.healedAtMs).toBeNull();
  });
});
