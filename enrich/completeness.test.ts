import { describe, expect, it } from 'vitest';
import { createCompletenessTracker, type CompletenessTracker } from './completeness.ts';

function feed(tracker: CompletenessTracker, deviceId: string, seqs: number[]): string[] {
  return seqs.map((seq) => tracker.observe(deviceId, seq));
}

function counters(tracker: CompletenessTracker, deviceId: string) {
  const device = tracker.device(deviceId);
  if (device === null) throw new Error(`${deviceId} is not tracked`);
  return device;
}

describe('createCompletenessTracker', () => {
  it('reports an in-order stream as new with nothing missing', () => {
    const tracker = createCompletenessTracker();
    expect(feed(tracker, 'a', [5, 6, 7, 8])).toEqual(['new', 'new', 'new', 'new']);
    expect(counters(tracker, 'a')).toEqual({ deviceId: 'a', highestSeq: 8, received: 4, duplicates: 0, gaps: 0, lateArrivals: 0, resets: 0 });
  });

  it('counts the number of missing seqs on a jump', () => {
    const tracker = createCompletenessTracker();
    expect(feed(tracker, 'a', [1, 2, 6, 7, 9])).toEqual(['new', 'new', 'gap', 'new', 'gap']);
    expect(counters(tracker, 'a')).toMatchObject({ received: 5, gaps: 4 });
  });

  it('counts a repeated seq as a duplicate, not as received', () => {
    const tracker = createCompletenessTracker();
    expect(feed(tracker, 'a', [1, 2, 2, 3, 1])).toEqual(['new', 'new', 'duplicate', 'new', 'duplicate']);
    expect(counters(tracker, 'a')).toMatchObject({ received: 3, duplicates: 2, gaps: 0 });
  });

  it('lets a late arrival fill its gap and un-count it, and a second copy of it is a duplicate', () => {
    const tracker = createCompletenessTracker();
    expect(feed(tracker, 'a', [10, 13, 11, 12, 12])).toEqual(['new', 'gap', 'new', 'new', 'duplicate']);
    expect(counters(tracker, 'a')).toMatchObject({ received: 4, duplicates: 1, gaps: 0, lateArrivals: 2 });
  });

  it('does not un-count a gap for a late seq from before the first one seen', () => {
    const tracker = createCompletenessTracker();
    expect(feed(tracker, 'a', [100, 101, 99, 99])).toEqual(['new', 'new', 'new', 'duplicate']);
    expect(counters(tracker, 'a')).toMatchObject({ received: 3, gaps: 0, lateArrivals: 0, duplicates: 1 });
  });

  it('fills a gap up to the window edge; one window or more below is a reset', () => {
    const inside = createCompletenessTracker({ windowSize: 64 });
    feed(inside, 'a', [0, 2]);
    for (let seq = 3; seq <= 64; seq++) inside.observe('a', seq);
    expect(inside.observe('a', 1)).toBe('new'); // 63 below the highest
    expect(counters(inside, 'a')).toMatchObject({ gaps: 0, lateArrivals: 1, resets: 0 });

    const beyond = createCompletenessTracker({ windowSize: 64 });
    feed(beyond, 'a', [0, 2]);
    for (let seq = 3; seq <= 65; seq++) beyond.observe('a', seq);
    expect(beyond.observe('a', 1)).toBe('reset'); // 64 below the highest
    expect(counters(beyond, 'a')).toMatchObject({ gaps: 1, lateArrivals: 0, resets: 1 });
  });

  it('counts a drop far below the window as one reset, then follows the new run', () => {
    const tracker = createCompletenessTracker({ windowSize: 64 });
    for (let seq = 0; seq < 500; seq++) tracker.observe('a', seq);
    expect(feed(tracker, 'a', [0, 1, 2, 4])).toEqual(['reset', 'new', 'new', 'gap']);
    expect(counters(tracker, 'a')).toMatchObject({ resets: 1, duplicates: 0, gaps: 1, received: 504, highestSeq: 4 });
  });

  it('treats a huge forward jump as a reset, not billions of gaps', () => {
    const tracker = createCompletenessTracker({ maxGap: 10_000 });
    expect(feed(tracker, 'a', [1, 2, 2 ** 40, 3])).toEqual(['new', 'new', 'reset', 'reset']);
    expect(counters(tracker, 'a')).toMatchObject({ gaps: 0, resets: 2 });
  });

  it('clears window slots that a jump passes over, so reused slots are not false duplicates', () => {
    const tracker = createCompletenessTracker({ windowSize: 32 });
    expect(feed(tracker, 'a', [0, 1, 2, 20, 36])).toEqual(['new', 'new', 'new', 'gap', 'gap']);
    // 34 shares its slot with 2, which was seen; the jump to 36 must have cleared it.
    expect(tracker.observe('a', 34)).toBe('new');
    expect(counters(tracker, 'a')).toMatchObject({ gaps: 17 + 15 - 1, lateArrivals: 1 });
    // A jump of a whole window or more clears everything.
    expect(feed(tracker, 'a', [200, 190, 200])).toEqual(['gap', 'new', 'duplicate']);
    expect(counters(tracker, 'a')).toMatchObject({ gaps: 31 + 163 - 1, lateArrivals: 2, duplicates: 1 });
  });

  it('keeps devices independent', () => {
    const tracker = createCompletenessTracker();
    feed(tracker, 'a', [1, 2, 3]);
    expect(feed(tracker, 'b', [1, 3])).toEqual(['new', 'gap']);
    expect(counters(tracker, 'a').gaps).toBe(0);
    expect(counters(tracker, 'b').gaps).toBe(1);
  });

  it('evicts the least recently seen device past maxDevices, keeping totals', () => {
    const tracker = createCompletenessTracker({ maxDevices: 2 });
    feed(tracker, 'a', [1, 3]);
    feed(tracker, 'b', [1]);
    tracker.observe('a', 4); // a is now more recent than b
    tracker.observe('c', 1);
    expect(tracker.device('b')).toBeNull();
    expect(tracker.device('a')).not.toBeNull();
    const snapshot = tracker.snapshot();
    expect(snapshot.trackedDevices).toBe(2);
    expect(snapshot.evictedDevices).toBe(1);
    expect(snapshot.devices.map((d) => d.deviceId).sort()).toEqual(['a', 'c']);
    expect(snapshot.totals).toEqual({ received: 5, duplicates: 0, gaps: 1, lateArrivals: 0, resets: 0 });
    expect(tracker.totals()).toEqual(snapshot.totals);
    // A forgotten device starts afresh.
    expect(tracker.observe('b', 9)).toBe('new');
  });

  it('gives a device seen since the last eviction another round, and evicts within one lap when all were seen', () => {
    const tracker = createCompletenessTracker({ maxDevices: 3 });
    for (const id of ['a', 'b', 'c']) tracker.observe(id, 1);
    tracker.observe('b', 2);
    tracker.observe('c', 2);
    tracker.observe('d', 1); // a was never seen again: the walk forgets it first
    expect(tracker.device('a')).toBeNull();
    for (const id of ['b', 'c', 'd']) tracker.observe(id, 3);
    tracker.observe('e', 1); // every device was seen: one lap clears the flags, then the oldest goes
    expect(tracker.snapshot().devices.map((d) => d.deviceId).sort()).toEqual(['c', 'd', 'e']);
    expect(tracker.snapshot().evictedDevices).toBe(2);
    expect(tracker.device('c')?.highestSeq).toBe(3);
  });

  it('snapshots are copies', () => {
    const tracker = createCompletenessTracker();
    tracker.observe('a', 1);
    const before = tracker.snapshot();
    tracker.observe('a', 3);
    expect(before.totals.gaps).toBe(0);
    const totals = tracker.totals();
    tracker.observe('a', 6);
    expect(totals.gaps).toBe(1);
    expect(before.devices[0]?.highestSeq).toBe(1);
    expect(tracker.snapshot().totals.gaps).toBe(3);
  });

  it('refuses nonsensical options', () => {
    expect(() => createCompletenessTracker({ maxDevices: 0 })).toThrow(RangeError);
    expect(() => createCompletenessTracker({ windowSize: 100 })).toThrow(RangeError);
    expect(() => createCompletenessTracker({ windowSize: 64, maxGap: 64 })).toThrow(RangeError);
  });
});
