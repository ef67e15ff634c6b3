/**
 * Replay planning: the operator's `--from`/`--to` bounds (offsets, times, earliest/latest) and the
 * topic's current offsets → the exact offset range to read per partition. Pure; no I/O.
 */
import { durationUnitsMs } from '../core/duration.ts';
import type { PartitionRange } from '../core/kafka-port.ts';
import type { Result } from '../core/result.ts';

export type OffsetBound = { kind: 'earliest' } | { kind: 'latest' } | { kind: 'offset'; offset: bigint } | { kind: 'time'; timestampMs: number };

/**
 * Parses a bound: `earliest`, `latest`, an offset (`1200`), an RFC 3339 time with its zone
 * (`2026-11-22T08:00:00Z`), or a time relative to `nowMs` (`now-15m`, `now-2h`, `now-1d`, `now-30s`;
 * `-2h` works too, written `--from=-2h` since a leading dash reads as an option).
 */
export function parseOffsetBound(text: string, nowMs: number): Result<OffsetBound> {
  const value = text.trim();
  if (value === 'earliest' || value === 'latest') return { ok: true, value: { kind: value } };
  if (/^\d{1,19}$/.test(value)) return { ok: true, value: { kind: 'offset', offset: BigInt(value) } };
  const relative = /^(?:now)?-(\d{1,9})([smhd])$/.exec(value);
  if (relative) return { ok: true, value: { kind: 'time', timestampMs: nowMs - Number(relative[1]) * durationUnitsMs[relative[2]!]! } };
  // A zone is required: a time without one would silently mean the operator's local time.
  if (/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2}(\.\d{1,9})?)?(Z|[+-]\d{2}:\d{2})$/i.test(value)) {
    const timestampMs = Date.parse(value);
    if (Number.isFinite(timestampMs)) return { ok: true, value: { kind: 'time', timestampMs } };
  }
  return {
    ok: false,
    reason: 'invalid_bound',
    detail: `${JSON.stringify(text)}: expected earliest, latest, an offset, an RFC 3339 time with zone (2026-11-22T08:00:00Z) or a relative time (now-15m, now-2h, now-1d)`,
  };
}

/** What the topic holds now, per partition. */
export interface PartitionOffsets {
  partition: number;
  /** First retained offset. */
  low: bigint;
  /** Log end: the offset the next record will get. */
  high: bigint;
}

export interface ReplayPlan {
  ranges: PartitionRange[];
  /** What the operator should know: clamped bounds, empty ranges. */
  notes: string[];
}

/**
 * Resolves the bounds per partition. `offsetsAtTime` answers a time bound per partition (the
 * first offset at or after it, or the log end). A range is clamped to what the log holds, so it
 * always ends: `latest` means the log end when the replay starts, not a moving target.
 */
export function planReplay(input: {
  partitions: readonly number[];
  from: OffsetBound;
  to: OffsetBound;
  offsets: readonly PartitionOffsets[];
  offsetsAtTime: (timestampMs: number) => ReadonlyMap<number, bigint>;
}): Result<ReplayPlan> {
  const byPartition = new Map(input.offsets.map((entry) => [entry.partition, entry]));
  const unknown = input.partitions.filter((partition) => !byPartition.has(partition));
  if (unknown.length > 0) {
    return { ok: false, reason: 'unknown_partition', detail: `the topic has partitions 0-${input.offsets.length - 1}; no partition ${unknown.join(', ')}` };
  }
  if (input.from.kind === 'latest') return { ok: false, reason: 'invalid_bound', detail: '--from latest would replay nothing' };
  if (input.to.kind === 'earliest') return { ok: false, reason: 'invalid_bound', detail: '--to earliest would replay nothing' };
  const fromAtTime = input.from.kind === 'time' ? input.offsetsAtTime(input.from.timestampMs) : null;
  const toAtTime = input.to.kind === 'time' ? input.offsetsAtTime(input.to.timestampMs) : null;

  const resolve = (bound: OffsetBound, atTime: ReadonlyMap<number, bigint> | null, log: PartitionOffsets): bigint => {
    switch (bound.kind) {
      case 'earliest':
        return log.low;
      case 'latest':
        return log.high;
      case 'offset':
        return bound.offset;
      case 'time':
        return atTime?.get(log.partition) ?? log.high;
    }
  };

  const ranges: PartitionRange[] = [];
  const notes: string[] = [];
  for (const partition of [...new Set(input.partitions)].sort((a, b) => a - b)) {
    const log = byPartition.get(partition)!;
    let from = resolve(input.from, fromAtTime, log);
    let to = resolve(input.to, toAtTime, log);
    if (from < log.low) {
      notes.push(`partition ${partition}: offsets below ${log.low} are no longer retained; starting at ${log.low} instead of ${from}`);
      from = log.low;
    }
    if (to > log.high) {
      notes.push(`partition ${partition}: the log ends at ${log.high}; stopping there instead of ${to}`);
      to = log.high;
    }
    if (from > log.high) from = log.high;
    if (from >= to) {
      notes.push(`partition ${partition}: nothing to replay in [${from}, ${to})`);
      to = from;
    }
    ranges.push({ partition, fromOffset: from.toString(), toOffset: to.toString() });
  }
  return { ok: true, value: { ranges, notes } };
}

/** Parses `--partition` values: numbers, comma lists, `all`. */
export function parsePartitions(values: readonly string[], partitionCount: number): Result<number[]> {
  const partitions: number[] = [];
  for (const item of values.flatMap((value) => value.split(','))) {
    const text = item.trim();
    if (text === 'all') partitions.push(...Array.from({ length: partitionCount }, (_, index) => index));
    else if (/^\d{1,6}$/.test(text)) partitions.push(Number(text));
    else return { ok: false, reason: 'invalid_partition', detail: `--partition expects a partition number, a comma list or all; got ${JSON.stringify(item)}` };
  }
  if (partitions.length === 0) return { ok: false, reason: 'invalid_partition', detail: '--partition is required (a number, a comma list, or all)' };
  return { ok: true, value: [...new Set(partitions)].sort((a, b) => a - b) };
}
