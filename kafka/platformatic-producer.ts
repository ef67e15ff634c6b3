/**
 * KafkaProducerPort on @platformatic/kafka, the product's one producer (ADR 0006): gateway records,
 * dead letters, alerts and device records all go through it. Idempotent, acks=all, batching across
 * callers.
 *
 * Records from all callers are queued (kafka/send-queue.ts) and sent as one `Producer.send` per
 * batch with exactly one send in flight, so the batch grows with the load.
 * (The client itself allows one request in flight per connection for an idempotent producer, and
 * its ProducerStream fails the whole stream on one error, so batching is done here.)
 *
 * Produce requests are encoded by kafka/produce-request.ts into one buffer (ADR 0020); the client
 * keeps idempotent sequences, retries, routing and responses.
 *
 * Every record's partition is chosen here (Java-compatible murmur2 for keys, round-robin
 * otherwise) and a record counts as acknowledged only when the send's result lists its partition;
 * see ADR 0005 for the kafkajs bug this guards against. A send that fails or exceeds the send
 * timeout rejects its records (except those a partition leader did acknowledge, and those sent
 * once more, see below) and the client is replaced (new producer id), so one bad request cannot
 * wedge later ones. Failed records may have been written: devices resend, and the pipeline is
 * at-least-once.
 */
import type { MessageToProduce, ProduceResult, Producer } from '@platformatic/kafka';
import { defaultSendQueueBounds, type KafkaProducerPort, type ProducerStats, type ProducerSettings } from '../core/kafka-port.ts';
import { InfraError, describeError, type InfraErrorCode } from '../core/errors.ts';
import type { Logger } from '../core/logger.ts';
import { createEncodedStrings, createHeaderEncoder } from './encoded-strings.ts';
import { partitionForKey } from './key-partitioner.ts';
import { EncodingProducer } from './produce-request.ts';
import { batchCapacityBytes, recordBytes } from './record-batch-size.ts';
import { createSendQueue, type QueuedRecord, type Requeue } from './send-queue.ts';

type PlatformaticProducer = Producer<Buffer, Buffer, Buffer, Buffer>;

/** Distinct keys and values per header cached per producer: a topic per device for 16,384 devices. */
const maxCachedStrings = 16_384;

const retryDelayMs = 250;

interface Pending extends QueuedRecord {
  partition: number;
  /** Sends that carried this record and failed. */
  failedAttempts: number;
}

/**
 * The client nests errors (a send's error aggregates each leader's, which aggregates each retry's):
 * the distinct innermost messages say what happened.
 */
export function describePlatformaticError(error: unknown): string {
  const leaves: string[] = [];
  const visit = (current: unknown, depth: number): void => {
    if (current instanceof AggregateError && current.errors.length > 0 && depth < 5) {
      for (const inner of current.errors) visit(inner, depth + 1);
      return;
    }
    // Kafka's own error name (e.g. NOT_ENOUGH_REPLICAS) says more to an operator than the client's prose.
    const { apiId } = current as { apiId?: unknown };
    const message = typeof apiId === 'string' && apiId !== '' ? `${apiId}: ${describeError(current)}` : describeError(current);
    if (!leaves.includes(message)) leaves.push(message);
  };
  visit(error, 0);
  const top = describeError(error);
  const shown = leaves.slice(0, 3).join('; ') + (leaves.length > 3 ? `; (${leaves.length - 3} more)` : '');
  return leaves.length === 1 && leaves[0] === top ? top : `${top} (${shown})`;
}

/** Whether Kafka refused (part of) the send because a record batch exceeded max.message.bytes. */
function isTooLarge(error: unknown, depth = 0): boolean {
  if (!(error instanceof Error) || depth > 5) return false;
  if (error instanceof AggregateError && error.errors.some((inner) => isTooLarge(inner, depth + 1))) return true;
  const { apiId } = error as Error & { apiId?: unknown };
  return apiId === 'MESSAGE_TOO_LARGE' || apiId === 'RECORD_LIST_TOO_LARGE' || isTooLarge(error.cause, depth + 1);
}

export interface PlatformaticProducerOptions extends ProducerSettings {
  brokers: readonly string[];
  logger: Logger;
}

export function createPlatformaticProducer(options: PlatformaticProducerOptions): KafkaProducerPort {
  const { logger, sendTimeoutMs, lingerMs, maxBatchRecords } = options;
  let producer: PlatformaticProducer | null = null;
  let consecutiveFailures = 0;
  let lastError: string | null = null;
  let lastFailureAtMs: number | null = null;
  const partitionCounts = new Map<string, number>();
  const roundRobin = new Map<string, number>();
  // Record bytes one batch may carry per topic, from the limits `start` was given.
  const capacities = new Map<string, number>();
  const encodeKey = createEncodedStrings(maxCachedStrings);
  const encodeHeaders = createHeaderEncoder(maxCachedStrings);

  const create = (): PlatformaticProducer =>
    new EncodingProducer({
      clientId: options.clientId,
      bootstrapBrokers: [...options.brokers],
      idempotent: true,
      acks: -1,
      compression: options.compression,
      // Bounded retries (an idempotent producer otherwise retries forever), spread over a quarter
      // of the send timeout; a failed send is then sent again in a new request (see sendBatch),
      // so together they ride out a leader election after a broker dies (the broker session
      // timeout, seconds) while our send timeout still decides when a record failed.
      // The client needs retries > 1 to honour the bound.
      retries: Math.max(2, Math.floor(sendTimeoutMs / 4 / retryDelayMs)),
      retryDelay: retryDelayMs,
      // The broker's wait for the in-sync replicas, and our wait for any one answer, both well
      // inside the send timeout: a request stuck behind a dead replica is retried in time.
      timeout: Math.max(1000, Math.floor(sendTimeoutMs / 3)),
      requestTimeout: Math.max(2000, Math.floor(sendTimeoutMs / 2)),
      connectTimeout: Math.min(3000, sendTimeoutMs),
      // Retries after a NOT_LEADER_OR_FOLLOWER answer reuse the cached metadata until it is this
      // old (the client refreshes at once only after network errors), so keep it short: during a
      // leader election the retries must see the new leader within the retry window.
      metadataMaxAge: 1000,
    });

  const discardProducer = (): void => {
    const old = producer;
    producer = null;
    old?.close(true).catch((error: unknown) => logger.debug({ err: error }, 'discarding failed producer'));
  };

  const partitionCount = async (topic: string): Promise<number> => {
    const known = partitionCounts.get(topic);
    if (known !== undefined) return known;
    producer ??= create();
    const metadata = await producer.metadata({ topics: [topic] });
    const count = metadata.topics.get(topic)?.partitionsCount ?? 0;
    if (count === 0) throw new InfraError('KAFKA_UNKNOWN_TOPIC', `topic ${topic} has no partitions`, { retriable: true });
    partitionCounts.set(topic, count);
    return count;
  };


  const toMessages = async (batch: Pending[]): Promise<Array<MessageToProduce<Buffer, Buffer, Buffer, Buffer>>> => {
    const messages: Array<MessageToProduce<Buffer, Buffer, Buffer, Buffer>> = [];
    for (const pending of batch) {
      const { record } = pending;
      const count = partitionCounts.get(record.topic) ?? (await partitionCount(record.topic));
      if (record.key !== null) {
        pending.partition = partitionForKey(record.key, count);
      } else {
        const next = roundRobin.get(record.topic) ?? 0;
        roundRobin.set(record.topic, next + 1);
        pending.partition = next % count;
      }
      messages.push({
        topic: record.topic,
        partition: pending.partition,
        key: record.key === null ? undefined : encodeKey(record.key),
        value: record.value ?? undefined,
        headers: encodeHeaders(record.headers),
      });
    }
    return messages;
  };

  const producedBy = (error: unknown): ProduceResult => {
    const produced = error instanceof Error ? (error as Error & { produced?: ProduceResult }).produced : undefined;
    return produced ?? {};
  };

  const acknowledgedPartitions = (result: ProduceResult): Set<string> =>
    new Set((result.offsets ?? []).map((offset) => `${offset.topic}\u0000${offset.partition}`));

  // One broker answers all its partitions in one response; when any of them has an error the client
  // reports none in `produced`, but the response it attaches to the error says which were written.
  const writtenInErrorResponses = (error: unknown, found = new Set<string>(), depth = 0): Set<string> => {
    if (!(error instanceof Error) || depth > 5) return found;
    const { response } = error as Error & { response?: { responses?: Array<{ name?: unknown; partitionResponses?: Array<{ index?: unknown; errorCode?: unknown }> }> } };
    for (const topic of response?.responses ?? []) {
      for (const partition of topic.partitionResponses ?? []) if (partition.errorCode === 0) found.add(`${String(topic.name)}\u0000${String(partition.index)}`);
    }
    if (error instanceof AggregateError) for (const inner of error.errors) writtenInErrorResponses(inner, found, depth + 1);
    return writtenInErrorResponses(error.cause, found, depth + 1);
  };

  const fail = (batch: readonly Pending[], code: InfraErrorCode, message: string, cause?: unknown, retrying = 0): void => {
    consecutiveFailures += 1;
    lastError = message;
    lastFailureAtMs = Date.now();
    logger.warn({ code, failed: batch.length, retrying, err: cause }, message);
    discardProducer();
    // Partition counts may have changed (or the topic was recreated): read them again next time.
    partitionCounts.clear();
    const failure = new InfraError(code, message, { retriable: true, cause });
    for (const pending of batch) pending.reject(failure);
  };

  const sendBatch = async (batch: Pending[], requeue: Requeue<Pending>): Promise<void> => {
    let timer: NodeJS.Timeout | undefined;
    try {
      const result = await Promise.race([
        (async () => {
          const messages = await toMessages(batch);
          producer ??= create();
          return producer.send({ messages });
        })(),
        new Promise<never>((_, reject) => {
          timer = setTimeout(() => reject(new Error(`no acknowledgement within ${sendTimeoutMs} ms`)), sendTimeoutMs);
        }),
      ]);
      const acknowledged = acknowledgedPartitions(result);
      const missing = batch.filter((pending) => !acknowledged.has(`${pending.record.topic}\u0000${pending.partition}`));
      if (missing.length > 0) {
        fail(missing, 'KAFKA_PARTITION_NOT_ACKNOWLEDGED', `Kafka reported success without acknowledging ${missing.length} record(s)`);
        const failed = new Set(missing);
        for (const pending of batch) if (!failed.has(pending)) pending.resolve();
        return;
      }
      consecutiveFailures = 0;
      for (const pending of batch) pending.resolve();
    } catch (error) {
      // A send goes to every partition leader at once; a failed send still reports (as
      // `produced`) what the leaders that answered acknowledged. Those records are written:
      // resolving them spares the devices a resend and the topic a duplicate.
      const acknowledged = new Set([...acknowledgedPartitions(producedBy(error)), ...writtenInErrorResponses(error)]);
      const written = new Set(batch.filter((pending) => acknowledged.has(`${pending.record.topic}\u0000${pending.partition}`)));
      if (isTooLarge(error)) {
        splitTooLarge(batch, written, requeue, error);
        return;
      }
      // The client retries a request only towards the leader of its first partition, so after a
      // failover that spreads the dead broker's partitions over several leaders, the retries of
      // a request for several of them cannot all succeed (NOT_LEADER_OR_FOLLOWER). Sending the
      // records again in a new request, grouped by the current leaders, usually does; at most
      // twice, and only while 40 % of the send timeout is left, so the answer still comes in time.
      const nowMs = Date.now();
      const again = batch.filter((pending) => !written.has(pending) && pending.failedAttempts < 2 && nowMs - pending.enqueuedAtMs < sendTimeoutMs * 0.6 && !sends.isDraining());
      const resend = new Set(again);
      fail(
        batch.filter((pending) => !written.has(pending) && !resend.has(pending)),
        'KAFKA_SEND_FAILED',
        `Kafka did not acknowledge the batch: ${describePlatformaticError(error)}`,
        error,
        again.length,
      );
      for (const pending of written) pending.resolve();
      for (const pending of again) pending.failedAttempts += 1;
      // In front of the queue: a device's later records were not sent yet, so its order holds.
      requeue(again);
    } finally {
      clearTimeout(timer);
    }
  };

  // Kafka took the batch's other partitions and refused one as larger than max.message.bytes (the
  // topic's limit was not known, or shrank since start): the rest goes again in halves; a record
  // alone in its batch can never be written and is refused, not retried.
  const splitTooLarge = (batch: readonly Pending[], written: ReadonlySet<Pending>, requeue: Requeue<Pending>, error: unknown): void => {
    discardProducer();
    for (const pending of written) pending.resolve();
    const rest = batch.filter((pending) => !written.has(pending));
    const [alone] = rest;
    if (alone && rest.length === 1) {
      const message = `Kafka refused a record of ${alone.bytes} bytes for ${alone.record.topic} as larger than its max.message.bytes`;
      logger.warn({ topic: alone.record.topic }, message);
      alone.reject(new InfraError('KAFKA_RECORD_TOO_LARGE', message, { retriable: false, cause: error }));
      return;
    }
    logger.warn({ records: rest.length, err: describePlatformaticError(error) }, 'Kafka refused a batch as too large; sending it again in halves');
    requeue(rest, { split: true });
  };

  const sends = createSendQueue<Pending>({
    sendTimeoutMs,
    lingerMs,
    maxBatchRecords,
    maxQueuedRecords: options.maxQueuedRecords ?? defaultSendQueueBounds.maxQueuedRecords,
    maxQueuedBytes: options.maxQueuedBytes ?? defaultSendQueueBounds.maxQueuedBytes,
    batchBytes: { recordBytes, capacityBytes: (topic) => capacities.get(topic) },
    entry: (base) => ({ ...base, partition: -1, failedAttempts: 0 }),
    sendBatch,
  });

  let stopped: Promise<void> | null = null;
  return {
    async start(startOptions) {
      for (const [topic, bytes] of startOptions?.maxMessageBytes ?? []) capacities.set(topic, batchCapacityBytes(bytes, options.compression));
      producer ??= create();
      // Connects, reads the API versions and gets a producer id now rather than on the first send.
      await producer.initIdempotentProducer({});
    },
    send: (record, sendOptions) => sends.enqueue(record, sendOptions),
    async sendMany(records) {
      await Promise.all(records.map((record) => sends.enqueue(record)));
    },
    stats(): ProducerStats {
      return { pending: sends.pending(), pendingBytes: sends.pendingBytes(), consecutiveFailures, lastError, lastFailureAtMs, requests: sends.requests() };
    },
    stop() {
      stopped ??= (async () => {
        await sends.drain();
        const current = producer;
        producer = null;
        await current?.close(true);
      })();
      return stopped;
    },
  };
}
