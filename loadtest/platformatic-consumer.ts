/**
 * GroupConsumerPort on @platformatic/kafka: the candidate the consumer comparison measured against
 * the product's kafkajs adapter (ADR 0011 kept kafkajs), so it lives here, beside the comparison,
 * and the group consumer integration test holds it to the same contract. The client's Consumer does the group membership
 * (join, sync, heartbeats on its own timer, rejoin) and the offset requests; the fetching is ours,
 * through `Consumer.fetch`, because its MessagesStream reads ahead and delivers record by record,
 * while the port needs per-partition batches that are fetched again from the committed position
 * when the handler did not commit them.
 *
 * One fetch loop per broker asks for every assigned partition that broker leads and that has no
 * batch in flight; a partition is claimed by one loop at a time, so its batches are handled one
 * after the other in offset order. After a batch the partition's position is what the handler
 * committed, else the batch's first offset (delivered again). A new generation (rebalance, rejoin)
 * ends the loops of the old one once their batches are done and starts from the broker's
 * committed offsets. Fetches use a connection pool of their own, so a long-poll never delays a
 * heartbeat or a commit.
 *
 * Unlike kafkajs, heartbeats do not depend on the handler: a handler that stalls keeps the
 * membership, and `heartbeat` only reports (by throwing) that the batch's generation has ended.
 */
import { ConnectionPool, Consumer, IS_CONTROL, ListOffsetTimestamps, type ClusterMetadata, type KafkaRecord } from '@platformatic/kafka';
import { consumerHeartbeatIntervalMs, consumerSessionTimeoutMs, type ConsumedRecord, type GroupConsumerOptions, type GroupConsumerPort } from '../core/kafka-port.ts';
import { InfraError, describeError } from '../core/errors.ts';
import type { Logger } from '../core/logger.ts';

type RawConsumer = Consumer<Buffer, Buffer, Buffer, Buffer>;
type FetchResponse = Awaited<ReturnType<RawConsumer['fetch']>>;

/** Kafka's error code OFFSET_OUT_OF_RANGE (the client does not export its table). */
const offsetOutOfRange = 1;

interface PartitionState {
  topic: string;
  partition: number;
  /** The next offset to fetch. */
  position: bigint;
  /** Claimed by a fetch loop (fetch or batch in flight). */
  claimed: boolean;
}

/** Kafka keeps a partition's earlier batches whole: records before the requested offset are dropped. */
function recordsFrom(topic: string, partition: number, batches: FetchResponse['responses'][number]['partitions'][number]['records'], from: bigint): ConsumedRecord[] {
  const records: ConsumedRecord[] = [];
  for (const batch of batches ?? []) {
    // Transaction markers are not records.
    if (batch.attributes & IS_CONTROL) continue;
    for (const record of batch.records) {
      const offset = batch.firstOffset + BigInt(record.offsetDelta);
      if (offset < from) continue;
      records.push(toConsumedRecord(topic, partition, offset, batch.firstTimestamp, record));
    }
  }
  return records;
}

function toConsumedRecord(topic: string, partition: number, offset: bigint, firstTimestamp: bigint, record: KafkaRecord): ConsumedRecord {
  const headers: Record<string, string> = {};
  for (const [name, value] of record.headers) if (name !== null && value !== null) headers[name.toString()] = value.toString();
  return { topic, partition, offset: offset.toString(), key: record.key, value: record.value, headers, timestampMs: Number(firstTimestamp + record.timestampDelta) };
}

/** The offset after the last record of a fetched partition, or null when nothing was fetched. */
function endOf(batches: FetchResponse['responses'][number]['partitions'][number]['records']): bigint | null {
  const last = batches?.at(-1);
  return last ? last.firstOffset + BigInt(last.lastOffsetDelta) + 1n : null;
}

function createLimiter(limit: number): <T>(task: () => Promise<T>) => Promise<T> {
  let active = 0;
  const waiting: Array<() => void> = [];
  return async (task) => {
    if (active >= limit) await new Promise<void>((resolve) => waiting.push(resolve));
    active += 1;
    try {
      return await task();
    } finally {
      active -= 1;
      waiting.shift()?.();
    }
  };
}

export function createPlatformaticGroupConsumer(options: GroupConsumerOptions & { brokers: readonly string[]; clientId: string; logger: Logger }): GroupConsumerPort {
  const { logger } = options;
  const topics = [...options.topics];
  const minBytes = options.fetch?.minBytes ?? 1;
  const maxWaitTime = options.fetch?.maxWaitMs ?? 200;
  const consumer: RawConsumer = new Consumer({
    clientId: options.clientId,
    bootstrapBrokers: [...options.brokers],
    groupId: options.groupId,
    autocommit: false,
    sessionTimeout: consumerSessionTimeoutMs,
    heartbeatInterval: consumerHeartbeatIntervalMs,
    // kafkajs' default: how long the group waits for every member to rejoin.
    rebalanceTimeout: 60_000,
    minBytes,
    maxWaitTime,
  });
  const fetchPool = new ConnectionPool(`${options.clientId}-fetch`);
  const limit = createLimiter(Math.max(1, options.partitionsConcurrently ?? 1));
  // Bounds one fetch's memory as kafkajs' defaults do (10 MiB a fetch, 1 MiB a partition).
  const maxBytes = 10 * 1024 * 1024;
  const partitionMaxBytes = 1024 * 1024;
  const committed = new Map<string, bigint>();
  const keyOf = (topic: string, partition: number): string => `${topic}|${partition}`;
  const stopping = new AbortController();
  // Bumped on every rebalance, join and stop: loops and batches of an older generation stop.
  let generation = 0;
  let partitions = new Map<string, PartitionState>();
  const loops = new Map<number, Promise<void>>();
  const batches = new Set<Promise<void>>();
  let crashed = false;
  let stopped: Promise<void> | undefined;

  const isCurrent = (gen: number): boolean => gen === generation && !stopping.signal.aborted;
  const sleep = (ms: number): Promise<void> =>
    new Promise((resolve) => {
      const done = (): void => {
        clearTimeout(timer);
        stopping.signal.removeEventListener('abort', done);
        resolve();
      };
      const timer = setTimeout(done, ms);
      stopping.signal.addEventListener('abort', done, { once: true });
    });
  const crash = (error: unknown): void => {
    if (crashed || stopping.signal.aborted) return;
    crashed = true;
    generation += 1;
    logger.error({ err: error }, 'consumer crashed');
    options.onCrash?.(error);
  };

  const leaderOf = (metadata: ClusterMetadata, state: PartitionState): number | undefined => metadata.topics.get(state.topic)?.partitions[state.partition]?.leader;

  const ensureLoops = (gen: number, metadata: ClusterMetadata): void => {
    for (const state of partitions.values()) {
      const node = leaderOf(metadata, state);
      if (node === undefined || node < 0 || loops.has(node)) continue;
      const loop = fetchLoop(node, gen).finally(() => {
        if (loops.get(node) === loop) loops.delete(node);
      });
      loops.set(node, loop);
    }
  };

  const deliver = async (state: PartitionState, records: ConsumedRecord[], gen: number): Promise<void> => {
    const key = keyOf(state.topic, state.partition);
    const first = BigInt(records[0]!.offset);
    const isRunning = (): boolean => isCurrent(gen);
    try {
      await options.onBatch(
        { topic: state.topic, partition: state.partition, records },
        {
          isRunning,
          // Heartbeats are the client's own; this only tells a waiting handler that its batch is lost.
          heartbeat: () =>
            isRunning() ? Promise.resolve() : Promise.reject(new InfraError('KAFKA_REBALANCED', 'the consumer stopped or its group rebalanced', { retriable: true })),
        },
      );
    } catch (error) {
      // Not committed, so delivered again; the pause keeps a handler that keeps failing from spinning.
      logger.warn({ err: error, topic: state.topic, partition: state.partition, offset: first.toString() }, 'batch failed; it is fetched again');
      await sleep(1000);
    }
    const next = committed.get(key);
    state.position = next !== undefined && next > first ? next : first;
  };

  async function fetchLoop(node: number, gen: number): Promise<void> {
    let failingSince: number | null = null;
    while (isCurrent(gen)) {
      let metadata: ClusterMetadata;
      let mine: PartitionState[];
      let response: FetchResponse;
      try {
        metadata = await consumer.metadata({ topics, forceUpdate: failingSince !== null });
        mine = [...partitions.values()].filter((state) => !state.claimed && leaderOf(metadata, state) === node);
        if (mine.length === 0) return;
        for (const state of mine) state.claimed = true;
        const byTopic = new Map<string, PartitionState[]>();
        for (const state of mine) byTopic.set(state.topic, [...(byTopic.get(state.topic) ?? []), state]);
        try {
          response = await consumer.fetch({
            node,
            minBytes,
            maxWaitTime,
            maxBytes,
            connectionPool: fetchPool,
            topics: [...byTopic].map(([topic, states]) => ({
              topicId: metadata.topics.get(topic)!.id,
              partitions: states.map((state) => ({ partition: state.partition, fetchOffset: state.position, partitionMaxBytes, currentLeaderEpoch: -1, lastFetchedEpoch: -1 })),
            })),
          });
        } catch (error) {
          for (const state of mine) state.claimed = false;
          throw error;
        }
        failingSince = null;
      } catch (error) {
        if (!isCurrent(gen)) return;
        resetOutOfRange(error, node);
        failingSince ??= Date.now();
        // A broker that stays unreachable this long while the others lead nothing new is an outage the supervisor handles.
        if (Date.now() - failingSince > 60_000) return crash(error);
        logger.warn({ err: error, node }, 'fetch failed; refreshing metadata and retrying');
        await sleep(500);
        try {
          ensureLoops(gen, await consumer.metadata({ topics, forceUpdate: true }));
        } catch {
          // The next iteration retries the metadata.
        }
        continue;
      }
      const topicNames = new Map([...metadata.topics].map(([name, { id }]) => [id, name]));
      const work: Array<Promise<void>> = [];
      for (const topicResponse of response.responses) {
        const topic = topicNames.get(topicResponse.topicId);
        for (const partitionResponse of topicResponse.partitions) {
          const state = topic === undefined ? undefined : partitions.get(keyOf(topic, partitionResponse.partitionIndex));
          if (topic === undefined || state === undefined || !mine.includes(state) || !isCurrent(gen)) continue;
          const records = recordsFrom(topic, state.partition, partitionResponse.records, state.position);
          if (records.length === 0) {
            // Only transaction markers or compacted-away offsets: step over them.
            const end = endOf(partitionResponse.records);
            if (end !== null && end > state.position) state.position = end;
            continue;
          }
          const batch = limit(() => (isCurrent(gen) ? deliver(state, records, gen) : Promise.resolve()));
          batches.add(batch);
          work.push(batch.finally(() => batches.delete(batch)));
        }
      }
      await Promise.all(work);
      for (const state of mine) state.claimed = false;
      // Partitions whose leader moved are picked up by the new leader's loop.
      ensureLoops(gen, metadata);
    }
  }

  const resetOutOfRange = (error: unknown, node: number): void => {
    const response = (error as { response?: FetchResponse }).response;
    for (const topicResponse of response?.responses ?? []) {
      for (const partitionResponse of topicResponse.partitions) {
        if (partitionResponse.errorCode !== offsetOutOfRange) continue;
        for (const state of partitions.values()) {
          if (state.partition !== partitionResponse.partitionIndex) continue;
          // Retention removed the position: start where a new group would.
          state.position = options.fromBeginning ? partitionResponse.logStartOffset : partitionResponse.highWatermark;
          logger.warn({ topic: state.topic, partition: state.partition, node, position: state.position.toString() }, 'fetch position out of range; reset');
        }
      }
    }
  };

  /** Positions from the group's committed offsets, else the start or end of the log. */
  const startPositions = async (assigned: ReadonlyArray<{ topic: string; partition: number }>): Promise<Map<string, PartitionState>> => {
    const byTopic = new Map<string, number[]>();
    for (const { topic, partition } of assigned) byTopic.set(topic, [...(byTopic.get(topic) ?? []), partition]);
    const listed = await consumer.listCommittedOffsets({ topics: [...byTopic].map(([topic, list]) => ({ topic, partitions: list })) });
    const missing = assigned.filter(({ topic, partition }) => (listed.get(topic)?.[partition] ?? -1n) < 0n);
    const fallback =
      missing.length === 0
        ? new Map<string, bigint[]>()
        : await consumer.listOffsets({ topics: [...new Set(missing.map(({ topic }) => topic))], timestamp: options.fromBeginning ? ListOffsetTimestamps.EARLIEST : ListOffsetTimestamps.LATEST });
    const states = new Map<string, PartitionState>();
    for (const { topic, partition } of assigned) {
      const done = listed.get(topic)?.[partition] ?? -1n;
      const position = done >= 0n ? done : (fallback.get(topic)?.[partition] ?? 0n);
      states.set(keyOf(topic, partition), { topic, partition, position, claimed: false });
    }
    return states;
  };

  const onJoin = async (gen: number, assigned: Array<{ topic: string; partition: number }>): Promise<void> => {
    // One batch per partition at a time, also across generations: the old batches finish (and commit) first.
    await Promise.allSettled([...batches, ...loops.values()]);
    if (!isCurrent(gen)) return;
    const states = await startPositions(assigned);
    if (!isCurrent(gen)) return;
    partitions = states;
    committed.clear();
    ensureLoops(gen, await consumer.metadata({ topics }));
  };

  return {
    async start() {
      consumer.on('consumer:group:rebalance', () => {
        generation += 1;
      });
      consumer.on('consumer:group:join', (payload) => {
        generation += 1;
        const gen = generation;
        const assigned = (payload.assignments ?? []).flatMap(({ topic, partitions: list }) => list.map((partition) => ({ topic, partition })));
        logger.info({ assigned: assigned.length, memberId: payload.memberId }, 'joined consumer group');
        void Promise.resolve(options.onPartitionsAssigned?.(assigned)).catch((error: unknown) => logger.warn({ err: error }, 'onPartitionsAssigned failed'));
        onJoin(gen, assigned).catch((error: unknown) => {
          if (!isCurrent(gen)) return;
          // The positions could not be read: rejoining is what the group protocol offers to start over.
          logger.warn({ err: error }, 'reading the committed offsets failed; rejoining');
          consumer.joinGroup({}).catch(crash);
        });
      });
      // A rejoin that failed for good (the client's retries exhausted): no more heartbeats will follow.
      consumer.on('error', crash);
      for (const topic of topics) consumer.topics.track(topic);
      try {
        await consumer.joinGroup({});
      } catch (error) {
        throw new InfraError('KAFKA_CONNECT_FAILED', `joining consumer group ${options.groupId} failed: ${describeError(error)}`, { retriable: true, cause: error });
      }
    },
    async commit(offsets) {
      try {
        await consumer.commit({ offsets: offsets.map(({ topic, partition, offset }) => ({ topic, partition, offset: BigInt(offset), leaderEpoch: -1 })) });
        for (const { topic, partition, offset } of offsets) committed.set(keyOf(topic, partition), BigInt(offset));
      } catch (error) {
        // After a rebalance the partition belongs to another worker; it re-reads from the last
        // committed offset and DEDUP keys make the overlap harmless.
        throw new InfraError('KAFKA_COMMIT_FAILED', `offset commit failed: ${describeError(error)}`, { retriable: false, cause: error });
      }
    },
    async lagByPartition() {
      const metadata = await consumer.metadata({ topics });
      const [ends, starts, done] = await Promise.all([
        consumer.listOffsets({ topics, timestamp: ListOffsetTimestamps.LATEST }),
        consumer.listOffsets({ topics, timestamp: ListOffsetTimestamps.EARLIEST }),
        consumer.listCommittedOffsets({ topics: topics.map((topic) => ({ topic, partitions: Array.from({ length: metadata.topics.get(topic)?.partitionsCount ?? 0 }, (_, index) => index) })) }),
      ]);
      return topics.flatMap((topic) =>
        (ends.get(topic) ?? []).map((end, partition) => {
          const committedOffset = done.get(topic)?.[partition] ?? -1n;
          const from = committedOffset < 0n ? (starts.get(topic)?.[partition] ?? 0n) : committedOffset;
          return { topic, partition, lag: Math.max(0, Number(end - from)) };
        }),
      );
    },
    stop() {
      stopped ??= stopAll();
      return stopped;
    },
  };

  async function stopAll(): Promise<void> {
      stopping.abort();
      generation += 1;
      const failures: unknown[] = [];
      await Promise.allSettled([...batches, ...loops.values()]);
      for (const close of [() => consumer.close(), () => fetchPool.close()]) {
        try {
          await close();
        } catch (error) {
          failures.push(error);
        }
      }
      if (failures.length > 0) throw new AggregateError(failures, `stopping the consumer failed: ${failures.map(describeError).join('; ')}`);
  }
}
