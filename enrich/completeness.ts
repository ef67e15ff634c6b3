/**
 * Per-device sequence tracking: from each device's message counter (`seq`), count what was lost
 * (gaps), received twice (duplicates) and restarted (resets). In memory, per process; feeds metrics
 * and the device_completeness table. Pure; no I/O, no timers.
 *
 * Each device keeps a ring bitmap of the last `windowSize` seqs below its highest one, so:
 * - a jump forward by n counts n-1 missing seqs as gaps;
 * - a late arrival inside the window fills its gap (un-counts it, counts a late arrival) instead of
 *   being taken for a duplicate;
 * - a seq already seen inside the window is a duplicate;
 * - a seq that drops below the window is a device restart (one reset, not thousands of duplicates);
 * - a jump forward by `maxGap` or more is taken as a restart too, so one corrupt counter cannot
 *   report billions of lost messages.
 * A restart whose new counter stays inside the window is indistinguishable from a redelivery by seq
 * alone; it counts as duplicates until the counter passes the old highest seq.
 *
 * Memory is bounded: past `maxDevices` a device not seen for a while is forgotten (its totals stay):
 * second-chance eviction, which approximates least recently seen. Seeing a device only sets a flag;
 * an eviction walks the devices in insertion order, giving each flagged one another round (flag
 * cleared, moved to the back) and forgetting the first unflagged one. (Keeping exact recency order
 * cost a Map delete and insert per message, 5 % of the enricher's CPU.)
 */

/** How one observed seq relates to the device's history. A late arrival that fills a gap is 'new'. */
export type SeqObservation = 'new' | 'duplicate' | 'gap' | 'reset';

export interface CompletenessCounters {
  /** Distinct messages: everything but duplicates. */
  received: number;
  duplicates: number;
  /** Seqs currently known missing. Falls when a late arrival fills one, so it is a gauge, not a counter. */
  gaps: number;
  /** Late arrivals that filled a gap; `gaps + lateArrivals` only ever grows. */
  lateArrivals: number;
  resets: number;
}

export interface DeviceCompleteness extends CompletenessCounters {
  deviceId: string;
  /** Highest seq of the device's current run. */
  highestSeq: number;
}

export interface CompletenessSnapshot {
  devices: DeviceCompleteness[];
  /** Sums over every device seen by this tracker, including forgotten ones. */
  totals: CompletenessCounters;
  trackedDevices: number;
  evictedDevices: number;
}

export interface CompletenessTracker {
  observe(deviceId: string, seq: number): SeqObservation;
  /** One device's counters, or null when it is not tracked. */
  device(deviceId: string): DeviceCompleteness | null;
  /** The sums of `snapshot()` without building a view per device; cheap enough for every metrics scrape. */
  totals(): CompletenessCounters;
  snapshot(): CompletenessSnapshot;
}

export interface CompletenessOptions {
  /** Devices tracked at once; default 100 000 (about 300 bytes each with the default window). */
  maxDevices?: number;
  /** Seqs remembered below the highest, a multiple of 32; default 1024. */
  windowSize?: number;
  /** A forward jump at least this large is a restart, not a gap; default 1 000 000. */
  maxGap?: number;
}

interface DeviceState {
  high: number;
  /** First seq of the current run; seqs below it were never counted missing. */
  low: number;
  bits: Uint32Array;
  /** Seen since the eviction walk last passed this device. */
  seen: boolean;
  received: number;
  duplicates: number;
  gaps: number;
  lateArrivals: number;
  resets: number;
}

/** Create a tracker. Throws RangeError on nonsensical options (a programming or config error). */
export function createCompletenessTracker(options: CompletenessOptions = {}): CompletenessTracker {
  const maxDevices = options.maxDevices ?? 100_000;
  const windowSize = options.windowSize ?? 1024;
  const maxGap = options.maxGap ?? 1_000_000;
  if (!Number.isSafeInteger(maxDevices) || maxDevices < 1) throw new RangeError('maxDevices must be a positive integer');
  if (!Number.isSafeInteger(windowSize) || windowSize < 32 || windowSize % 32 !== 0) {
    throw new RangeError('windowSize must be a positive multiple of 32');
  }
  if (!Number.isSafeInteger(maxGap) || maxGap <= windowSize) throw new RangeError('maxGap must be an integer above windowSize');

  const words = windowSize / 32;
  const devices = new Map<string, DeviceState>();
  const totals: CompletenessCounters = { received: 0, duplicates: 0, gaps: 0, lateArrivals: 0, resets: 0 };
  let evictedDevices = 0;

  function isSet(bits: Uint32Array, seq: number): boolean {
    const slot = seq % windowSize;
    return ((bits[slot >>> 5] ?? 0) & (1 << (slot & 31))) !== 0;
  }
  function set(bits: Uint32Array, seq: number): void {
    const slot = seq % windowSize;
    bits[slot >>> 5] = (bits[slot >>> 5] ?? 0) | (1 << (slot & 31));
  }
  function clear(bits: Uint32Array, seq: number): void {
    const slot = seq % windowSize;
    bits[slot >>> 5] = (bits[slot >>> 5] ?? 0) & ~(1 << (slot & 31));
  }

  /** Forgets the first device in insertion order not seen since the walk last passed it. */
  function evictOne(): void {
    // Map iteration is insertion order; a flagged device goes to the back, so this ends within one lap.
    for (const [deviceId, state] of devices) {
      devices.delete(deviceId);
      if (state.seen) {
        state.seen = false;
        devices.set(deviceId, state);
        continue;
      }
      evictedDevices++;
      return;
    }
  }

  /** The device's counter started over (reboot, or a jump too far to track): a new window at `seq`. */
  function restart(state: DeviceState, seq: number): 'reset' {
    state.high = seq;
    state.low = seq;
    state.bits.fill(0);
    set(state.bits, seq);
    state.resets++;
    state.received++;
    totals.resets++;
    totals.received++;
    return 'reset';
  }

  function observe(deviceId: string, seq: number): SeqObservation {
    let state = devices.get(deviceId);
    if (state === undefined) {
      if (devices.size >= maxDevices) evictOne();
      state = { high: seq, low: seq, bits: new Uint32Array(words), seen: false, received: 1, duplicates: 0, gaps: 0, lateArrivals: 0, resets: 0 };
      set(state.bits, seq);
      devices.set(deviceId, state);
      totals.received++;
      return 'new';
    }
    state.seen = true;

    if (seq > state.high) {
      const jump = seq - state.high;
      if (jump >= maxGap) {
        return restart(state, seq);
      }
      if (jump >= windowSize) {
        state.bits.fill(0);
      } else {
        // Slots for the seqs passed over now stand for new seqs: clear them.
        for (let s = state.high + 1; s < seq; s++) clear(state.bits, s);
      }
      set(state.bits, seq);
      state.high = seq;
      state.received++;
      totals.received++;
      if (jump === 1) return 'new';
      state.gaps += jump - 1;
      totals.gaps += jump - 1;
      return 'gap';
    }

    if (state.high - seq >= windowSize) {
      return restart(state, seq);
    }
    if (isSet(state.bits, seq)) {
      state.duplicates++;
      totals.duplicates++;
      return 'duplicate';
    }
    set(state.bits, seq);
    state.received++;
    totals.received++;
    // Only seqs above the run's first were counted missing when the counter jumped past them.
    if (seq > state.low) {
      state.gaps--;
      state.lateArrivals++;
      totals.gaps--;
      totals.lateArrivals++;
    }
    return 'new';
  }

  function view(deviceId: string, state: DeviceState): DeviceCompleteness {
    return {
      deviceId,
      highestSeq: state.high,
      received: state.received,
      duplicates: state.duplicates,
      gaps: state.gaps,
      lateArrivals: state.lateArrivals,
      resets: state.resets,
    };
  }

  return {
    observe,
    device(deviceId) {
      const state = devices.get(deviceId);
      return state === undefined ? null : view(deviceId, state);
    },
    totals: () => ({ ...totals }),
    snapshot() {
      const list: DeviceCompleteness[] = [];
      for (const [deviceId, state] of devices) list.push(view(deviceId, state));
      return { devices: list, totals: { ...totals }, trackedDevices: devices.size, evictedDevices };
    },
  };
}
