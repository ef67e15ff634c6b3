/**
 * Replay planning: the operator's `--from`/`--to` bounds (core/offset-bound.ts) and the
 * topic's current offsets → the exact offset range to read per partition. Pure; no I/O.
 */
import type { PartitionRange } from '../core/kafka-port.ts';
import type { OffsetBound } from '../core/offset-bound.ts';
import type { Result } from '../core/result.ts';

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
