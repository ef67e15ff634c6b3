import { describe, expect, it } from 'vitest';
import { parseOffsetBound, type OffsetBound } from '../core/offset-bound.ts';
import { parsePartitions, planReplay, type PartitionOffsets } from './replay-plan.ts';

const nowMs = Date.UTC(2026, 10, 22, 12, 0, 0);

function bound(text: string): OffsetBound {
  const result = parseOffsetBound(text, nowMs);
  if (!result.ok) throw new Error(result.detail);
  return result.value;
}

const offsets: PartitionOffsets[] = [
  { partition: 0, low: 0n, high: 1000n },
  { partition: 1, low: 200n, high: 900n },
  { partition: 2, low: 0n, high: 0n },
];

describe('parseOffsetBound', () => {
  it('reads earliest, latest, offsets, zoned RFC 3339 times and times relative to now', () => {
    expect(bound('earliest')).toEqual({ kind: 'earliest' });
    expect(bound('latest')).toEqual({ kind: 'latest' });
    expect(bound('1200')).toEqual({ kind: 'offset', offset: 1200n });
    expect(bound('2026-11-22T08:00:00Z')).toEqual({ kind: 'time', timestampMs: Date.UTC(2026, 10, 22, 8) });
    expect(bound('2026-11-22T09:30:00.5+01:00')).toEqual({ kind: 'time', timestampMs: Date.UTC(2026, 10, 22, 8, 30, 0, 500) });
    expect(bound('-15m')).toEqual({ kind: 'time', timestampMs: nowMs - 15 * 60_000 });
    expect(bound('-2h')).toEqual({ kind: 'time', timestampMs: nowMs - 2 * 3_600_000 });
    expect(bound('-1d')).toEqual({ kind: 'time', timestampMs: nowMs - 86_400_000 });
    expect(bound('now-30s')).toEqual({ kind: 'time', timestampMs: nowMs - 30_000 });
  });

  it('refuses a time without a zone, negative offsets and words it does not know, saying what it expects', () => {
    for (const text of ['2026-11-22T08:00:00', '2026-11-22', '-5', 'yesterday', '', '12e3', '2026-13-40T99:00:00Z']) {
      const result = parseOffsetBound(text, nowMs);
      expect(result.ok, text).toBe(false);
      if (!result.ok) expect(result.detail).toContain('RFC 3339');
    }
  });
});

describe('planReplay', () => {
  const atTime = (timestampMs: number): ReadonlyMap<number, bigint> => new Map([[0, BigInt(Math.floor(timestampMs / 1000) % 1000)], [1, 500n]]);

  it('resolves offsets, earliest and latest per partition, clamped to what the log holds', () => {
    const plan = planReplay({ partitions: [1, 0], from: bound('earliest'), to: bound('latest'), offsets, offsetsAtTime: atTime });
    expect(plan).toEqual({
      ok: true,
      value: {
        ranges: [
          { partition: 0, fromOffset: '0', toOffset: '1000' },
          { partition: 1, fromOffset: '200', toOffset: '900' },
        ],
        notes: [],
      },
    });
  });

  it('clamps offsets outside the retained log and says so', () => {
    const plan = planReplay({ partitions: [1], from: bound('100'), to: bound('5000'), offsets, offsetsAtTime: atTime });
    expect(plan.ok && plan.value.ranges).toEqual([{ partition: 1, fromOffset: '200', toOffset: '900' }]);
    expect(plan.ok && plan.value.notes).toEqual([
      'partition 1: offsets below 200 are no longer retained; starting at 200 instead of 100',
      'partition 1: the log ends at 900; stopping there instead of 5000',
    ]);
  });

  it('resolves time bounds through the per-partition offsets at that time', () => {
    const plan = planReplay({ partitions: [0, 1], from: { kind: 'time', timestampMs: 100_000 }, to: { kind: 'time', timestampMs: 700_000 }, offsets, offsetsAtTime: atTime });
    expect(plan.ok && plan.value.ranges).toEqual([
      { partition: 0, fromOffset: '100', toOffset: '700' },
      { partition: 1, fromOffset: '500', toOffset: '500' },
    ]);
    expect(plan.ok && plan.value.notes).toEqual(['partition 1: nothing to replay in [500, 500)']);
  });

  it('makes an empty range of an empty partition or a reversed range', () => {
    const plan = planReplay({ partitions: [0, 2], from: bound('800'), to: bound('300'), offsets, offsetsAtTime: atTime });
    expect(plan.ok && plan.value.ranges).toEqual([
      { partition: 0, fromOffset: '800', toOffset: '800' },
      { partition: 2, fromOffset: '0', toOffset: '0' },
    ]);
  });

  it('refuses partitions the topic does not have and bounds that can only be empty', () => {
    expect(planReplay({ partitions: [7], from: bound('earliest'), to: bound('latest'), offsets, offsetsAtTime: atTime })).toMatchObject({ ok: false, reason: 'unknown_partition' });
    expect(planReplay({ partitions: [0], from: bound('latest'), to: bound('latest'), offsets, offsetsAtTime: atTime })).toMatchObject({ ok: false, reason: 'invalid_bound' });
    expect(planReplay({ partitions: [0], from: bound('earliest'), to: bound('earliest'), offsets, offsetsAtTime: atTime })).toMatchObject({ ok: false, reason: 'invalid_bound' });
  });
});

describe('parsePartitions', () => {
  it('reads numbers, comma lists and all, without repeats', () => {
    expect(parsePartitions(['3'], 12)).toEqual({ ok: true, value: [3] });
    expect(parsePartitions(['5,1', '1'], 12)).toEqual({ ok: true, value: [1, 5] });
    expect(parsePartitions(['all'], 4)).toEqual({ ok: true, value: [0, 1, 2, 3] });
  });

  it('refuses nothing and non-numbers', () => {
    expect(parsePartitions([], 4)).toMatchObject({ ok: false, reason: 'invalid_partition' });
    expect(parsePartitions(['two'], 4)).toMatchObject({ ok: false, reason: 'invalid_partition' });
    expect(parsePartitions(['-1'], 4)).toMatchObject({ ok: false, reason: 'invalid_partition' });
  });
});
