/**
 * GroupConsumerPort and TopicFollowerPort on kafkajs. Offsets are committed only when the caller
 * says so (after its write succeeded); kafkajs' auto-commit and auto-resolve are off.
 *
 * kafkajs fetches each partition from its in-memory "resolved" offset, which only eachBatch's
 * `resolveOffset` moves; committing does not. So after each batch the fetch position is moved to
 * what the handler committed: a batch handled and committed is not fetched again, and a batch the
 * handler returned from without committing (or threw on) is delivered again.
 */
import type { Admin, Consumer, IHeaders, Kafka, KafkaMessage } from 'kafkajs';
import { consumerHeartbeatIntervalMs, consumerSessionTimeoutMs, type ConsumedRecord, type GroupConsumerOptions, type GroupConsumerPort, type TopicFollowerPort } from '../core/kafka-port.ts';
import { InfraError } from '../core/errors.ts';
import type { Logger } from '../core/logger.ts';
import { createCommitBatcher } from './commit-batcher.ts';
import { createRepeatedText } from './repeated-text.ts';
import { useIdleFetch } from './kafkajs-idle-fetch.ts';
import { retryTransient } from './kafkajs-retry.ts';

/**
 * Header values by their position in the record, for when kafkajs decoded them as Buffers (its own
 * decoder: ours, ADR 0022, hands over text already); most are the same in every record.
 */
const headerValues = createRepeatedText(16);

function headersOf(headers: IHeaders | undefined): Record<string, string> {
  const result: Record<string, string> = {};
  if (!headers) return result;
  let slot = 0;
  for (const name in headers) {
    const value = headers[name];
    if (value === undefined) continue;
    const first = Array.isArray(value) ? value[0] : value;
    if (first !== undefined) result[name] = typeof first === 'string' ? first : headerValues(first, 0, first.length, slot);
    slot += 1;
  }
  return result;
}

export function toConsumedRecord(topic: string, partition: number, message: KafkaMessage): ConsumedRecord {
  return {
    topic,
    partition,
    offset: message.offset,
    key: message.key,
    value: message.value,
    headers: headersOf(message.headers),
    timestampMs: Number(message.timestamp),
  };
}

/** kafkajs error types it answers by rejoining the group (runner.js, scheduleFetchManager). */
const rejoinTypes = new Set(['UNKNOWN_MEMBER_ID', 'REBALANCE_IN_PROGRESS', 'ILLEGAL_GENERATION', 'NOT_COORDINATOR_FOR_GROUP']);

/** The kafkajs protocol error in `error`'s cause chain that means "this member must rejoin", if any. */
export function groupMembershipError(error: unknown): Error | null {
  for (let current: unknown = error; current instanceof Error; current = current.cause) {
    const type = (current as { type?: unknown }).type;
    if (typeof type === 'string' && rejoinTypes.has(type)) return current;
  }
  return null;
}

/** An idle consumer with the default 1 byte asks once a second; a stop waits for the fetch in flight, up to this. */
const defaultFetchMaxWaitMs = 1000;

export function createKafkajsGroupConsumer(options: GroupConsumerOptions & { kafka: Kafka; logger: Logger }): GroupConsumerPort {
  const { kafka, logger } = options;
  const { fetch } = options;
  if (fetch?.idleMaxWaitMs !== undefined && useIdleFetch(options.groupId, { ...fetch, idleMaxWaitMs: fetch.idleMaxWaitMs }) === 'unpatched') {
    logger.warn({ groupId: options.groupId }, 'kafkajs has changed shape: the consumer fetches with its batching settings also when idle');
  }
  const consumer: Consumer = kafka.consumer({
    groupId: options.groupId,
    sessionTimeout: consumerSessionTimeoutMs,
    heartbeatInterval: consumerHeartbeatIntervalMs,
    minBytes: options.fetch?.minBytes ?? 1,
    // With 1 byte the broker answers as soon as a record arrives: the wait only spaces idle polls.
    maxWaitTimeInMs: options.fetch?.maxWaitMs ?? defaultFetchMaxWaitMs,
    retry: { retries: 10, initialRetryTime: 300, maxRetryTime: 5000 },
  });
  let admin: Admin | null = null;
  // topic|partition -> next offset, as last committed through `commit`.
  const committed = new Map<string, bigint>();
  const keyOf = (topic: string, partition: number): string => `${topic}|${partition}`;
  // Partition batches handled together commit together: one OffsetCommit request for all of them.
  const commitBatched = createCommitBatcher(async (offsets) => {
    await consumer.commitOffsets(offsets.map(({ topic, partition, offset }) => ({ topic, partition, offset })));
    for (const { topic, partition, offset } of offsets) committed.set(keyOf(topic, partition), BigInt(offset));
  });

  return {
    async start() {
      consumer.on(consumer.events.GROUP_JOIN, (event) => {
        const assigned = Object.entries(event.payload.memberAssignment).flatMap(([topic, partitions]) => partitions.map((partition) => ({ topic, partition })));
        logger.info({ assigned: assigned.length, memberId: event.payload.memberId }, 'joined consumer group');
        void options.onPartitionsAssigned?.(assigned);
      });
      consumer.on(consumer.events.CRASH, (event) => {
        logger.error({ err: event.payload.error, restart: event.payload.restart }, 'consumer crashed');
        if (!event.payload.restart) options.onCrash?.(event.payload.error);
      });
      await consumer.connect();
      await consumer.subscribe({ topics: [...options.topics], fromBeginning: options.fromBeginning });
      await consumer.run({
        autoCommit: false,
        eachBatchAutoResolve: false,
        partitionsConsumedConcurrently: options.partitionsConcurrently ?? 1,
        eachBatch: async ({ batch, heartbeat, isRunning, isStale, resolveOffset }) => {
          if (batch.messages.length === 0 || isStale()) return;
          const records = batch.messages.map((message) => toConsumedRecord(batch.topic, batch.partition, message));
          try {
            await options.onBatch(
              { topic: batch.topic, partition: batch.partition, records },
              { isRunning: () => isRunning() && !isStale(), heartbeat },
            );
          } catch (error) {
            // kafkajs rejoins the group on its own membership errors and crashes for good on anything
            // else it is not told is retriable: a commit refused because this member was dropped (a
            // session that expired while a broker was paused) must rejoin, not stop the worker.
            throw groupMembershipError(error) ?? error;
          }
          const next = committed.get(keyOf(batch.topic, batch.partition));
          if (next !== undefined && next > BigInt(records[0]!.offset)) resolveOffset((next - 1n).toString());
        },
      });
    },
    async commit(offsets) {
      try {
        await commitBatched(offsets);
      } catch (error) {
        // After a rebalance the partition belongs to another worker; it re-reads from the last
        // committed offset and DEDUP keys make the overlap harmless.
        throw new InfraError('KAFKA_COMMIT_FAILED', `offset commit failed: ${String(error)}`, { retriable: false, cause: error });
      }
    },
    async lagByPartition() {
      if (!admin) {
        admin = kafka.admin();
        await admin.connect();
      }
      const result: Array<{ topic: string; partition: number; lag: number }> = [];
      for (const topic of options.topics) {
        const [ends, committed] = await Promise.all([admin.fetchTopicOffsets(topic), admin.fetchOffsets({ groupId: options.groupId, topics: [topic] })]);
        const committedByPartition = new Map((committed[0]?.partitions ?? []).map((p) => [p.partition, Number(p.offset)]));
        for (const end of ends) {
          const done = committedByPartition.get(end.partition) ?? -1;
          const from = done < 0 ? Number(end.low) : done;
          result.push({ topic, partition: end.partition, lag: Math.max(0, Number(end.high) - from) });
        }
      }
      return result;
    },
    async stop() {
      await consumer.disconnect();
      await admin?.disconnect();
      admin = null;
    },
  };
}

let followersMade = 0;

/** Reads a topic from the beginning and follows it; no commits (a throwaway group id). */
export function createKafkajsFollower(options: { kafka: Kafka; logger: Logger; topic: string; clientId: string }): TopicFollowerPort {
  const { kafka, topic } = options;
  // A fetch returns as soon as one new record arrives (min bytes 1), so the wait only sets how
  // often an idle follower asks: once a second per broker, and a stop waits at most that long.
  // Unique per follower: two followers of one client built in the same millisecond (a registry and
  // a job store) must not share a group, or the group splits their topics between them.
  followersMade += 1;
  const consumer = kafka.consumer({ groupId: `${options.clientId}-follower-${process.pid}-${Date.now()}-${followersMade}`, maxWaitTimeInMs: 1000 });
  let resolveCaughtUp: () => void = () => {};
  const caughtUp = new Promise<void>((resolve) => (resolveCaughtUp = resolve));
  // Partitions still behind the end offsets seen at start: partition -> offset to reach.
  const behind = new Map<number, bigint>();

  let joined = false;
  const markRead = (partition: number, nextOffset: bigint): void => {
    const target = behind.get(partition);
    if (target !== undefined && nextOffset >= target) behind.delete(partition);
    if (behind.size === 0 && joined) resolveCaughtUp();
  };

  return {
    async start(onRecord) {
      const admin = kafka.admin();
      await admin.connect();
      try {
        for (const { partition, high, low } of await retryTransient(() => admin.fetchTopicOffsets(topic))) {
          if (BigInt(high) > BigInt(low)) behind.set(partition, BigInt(high));
        }
      } finally {
        await admin.disconnect();
      }
      // Caught up only once joined: a join that crashes (e.g. the coordinator still loading) schedules a restart
      // that kafkajs' stop does not cancel when the stop comes first, and the restarted consumer keeps the process alive.
      consumer.on(consumer.events.GROUP_JOIN, () => {
        joined = true;
        if (behind.size === 0) resolveCaughtUp();
      });
      await consumer.connect();
      await consumer.subscribe({ topic, fromBeginning: true });
      await consumer.run({
        autoCommit: false,
        eachBatch: async ({ batch }) => {
          for (const message of batch.messages) onRecord(toConsumedRecord(batch.topic, batch.partition, message));
          const last = batch.messages.at(-1);
          if (last) markRead(batch.partition, BigInt(last.offset) + 1n);
          // A compacted tail may end in removed offsets: the high watermark also proves we are done.
          if (BigInt(batch.highWatermark) <= BigInt(batch.lastOffset()) + 1n) markRead(batch.partition, BigInt(batch.highWatermark));
          await Promise.resolve();
        },
      });
    },
    caughtUp: () => caughtUp,
    async stop() {
      await consumer.disconnect();
    },
  };
}
