/**
 * The offset ranges a replay reads, resolved against the topic as it is now: the one way the CLI
 * and the replay job turn bounds into ranges (planning itself is pure, in replay-plan.ts).
 */
import type { KafkaAdminPort } from '../core/kafka-port.ts';
import type { OffsetBound } from '../core/offset-bound.ts';
import type { Result } from '../core/result.ts';
import { parsePartitions, planReplay, type ReplayPlan } from './replay-plan.ts';

/**
 * Resolves `partitions` (numbers, comma lists or `all`, as the CLI takes them) and the bounds;
 * a refusal (unknown topic or partition, impossible bounds) is returned, not thrown.
 */
export async function resolveReplayRanges(admin: KafkaAdminPort, topic: string, partitions: readonly string[], from: OffsetBound, to: OffsetBound): Promise<Result<ReplayPlan>> {
  if (!(await admin.topicExists(topic))) return { ok: false, reason: 'unknown_topic', detail: `topic ${topic} does not exist (TRIBUTARY_TOPIC_TELEMETRY names the telemetry topic)` };
  const [lows, highs] = await Promise.all([admin.startOffsets(topic), admin.endOffsets(topic)]);
  const highByPartition = new Map(highs.map(({ partition, offset }) => [partition, BigInt(offset)]));
  const offsets = lows.map(({ partition, offset }) => ({ partition, low: BigInt(offset), high: highByPartition.get(partition) ?? BigInt(offset) }));
  const parsed = parsePartitions(partitions, offsets.length);
  if (!parsed.ok) return parsed;
  // Time bounds are answered by the brokers before planning, which itself is pure.
  const atTime = new Map<number, ReadonlyMap<number, bigint>>();
  for (const bound of [from, to]) {
    if (bound.kind !== 'time' || atTime.has(bound.timestampMs)) continue;
    const answer = await admin.offsetsForTime(topic, bound.timestampMs);
    atTime.set(bound.timestampMs, new Map(answer.map(({ partition, offset }) => [partition, BigInt(offset)])));
  }
  return planReplay({ partitions: parsed.value, from, to, offsets, offsetsAtTime: (timestampMs) => atTime.get(timestampMs) ?? new Map() });
}
