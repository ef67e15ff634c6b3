/**
 * KafkaProducerPort on @platformatic/kafka: idempotent, acks=all, batching across callers.
 *
 * Same shape as the kafkajs adapter: records from all devices are queued and sent as one
 * `Producer.send` per batch with exactly one send in flight, so the batch grows with the load.
 * (The client itself allows one request in flight per connection for an idempotent producer, and
 * its ProducerStream fails the whole stream on one error, so batching is done here.)
 *
 * Every record's partition is chosen here (Java-compatible murmur2 for keys, round-robin
 * otherwise) and a record counts as acknowledged only when the send's result lists its partition;
 * see ADR 0005 for the kafkajs bug this guards against. A send that fails or exceeds the send
 * timeout rejects all its records and the client is replaced (new producer id), so one bad
 * request cannot wedge later ones. Failed records may have been written: devices resend, and the
 * pipeline is at-least-once.
 */
import { Producer, stringSerializer, type MessageToProduce, type ProduceResult } from '@platformatic/kafka';
import type { KafkaProducerPort, OutgoingRecord, ProducerStats } from '../core/kafka-port.ts';
import { InfraError, describeError } from '../core/errors.ts';
import type { Logger } from '../core/logger.ts';
import { partitionForKey } from './key-partitioner.ts';

type PlatformaticProducer = Producer<Buffer, Buffer, string, string>;

interface Pending {
  record: OutgoingRecord;
  partition: number;
  enqueuedAtMs: number;
  resolve: () => void;
  reject: (error: Error) => void;
}

export interface PlatformaticProducerOptions {
  brokers: readonly string[];
  clientId: string;
  logger: Logger;
  sendTimeoutMs: number;
  lingerMs: number;
  maxBatchRecords: number;
  compression: 'none' | 'gzip' | 'snappy' | 'lz4' | 'zstd';
}

export function createPlatformaticProducer(options: PlatformaticProducerOptions): KafkaProducerPort {
  const { logger, sendTimeoutMs, lingerMs, maxBatchRecords } = options;
  const queue: Pending[] = [];
  let producer: PlatformaticProducer | null = null;
  let inFlight = 0;
  let flushScheduled = false;
  let stopping = false;
  let consecutiveFailures = 0;
  let lastError: string | null = null;
  let lastFailureAtMs: number | null = null;
  let drained: (() => void) | null = null;
  const partitionCounts = new Map<string, number>();
  const roundRobin = new Map<string, number>();

  const create = (): PlatformaticProducer =>
    new Producer<Buffer, Buffer, string, string>({
      clientId: options.clientId,
      bootstrapBrokers: [...options.brokers],
      idempotent: true,
      acks: -1,
      compression: options.compression,
      serializers: { headerKey: stringSerializer, headerValue: stringSerializer },
      // Bounded retries (an idempotent producer otherwise retries forever): our send timeout
      // decides when a record failed. The client needs retries > 1 to honour the bound.
      retries: 4,
      retryDelay: 250,
      timeout: sendTimeoutMs,
      requestTimeout: sendTimeoutMs,
      connectTimeout: Math.min(3000, sendTimeoutMs),
      metadataMaxAge: 30_000,
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

  const failExpired = (nowMs: number): void => {
    for (let index = queue.length - 1; index >= 0; index -= 1) {
      const pending = queue[index]!;
      if (nowMs - pending.enqueuedAtMs >= sendTimeoutMs) {
        queue.splice(index, 1);
        pending.reject(new InfraError('KAFKA_SEND_TIMEOUT', `not acknowledged by Kafka within ${sendTimeoutMs} ms`, { retriable: true }));
      }
    }
  };

  const toMessages = async (batch: Pending[]): Promise<Array<MessageToProduce<Buffer, Buffer, string, string>>> => {
    const messages: Array<MessageToProduce<Buffer, Buffer, string, string>> = [];
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
        key: record.key === null ? undefined : Buffer.from(record.key),
        value: record.value ?? undefined,
        headers: record.headers,
      });
    }
    return messages;
  };

  const acknowledgedPartitions = (result: ProduceResult): Set<string> =>
    new Set((result.offsets ?? []).map((offset) => `${offset.topic}\u0000${offset.partition}`));

  const fail = (batch: readonly Pending[], code: string, message: string, cause?: unknown): void => {
    consecutiveFailures += 1;
    lastError = message;
    lastFailureAtMs = Date.now();
    discardProducer();
    // Partition counts may have changed (or the topic was recreated): read them again next time.
    partitionCounts.clear();
    const failure = new InfraError(code, message, { retriable: true, cause });
    for (const pending of batch) pending.reject(failure);
  };

  const sendBatch = async (batch: Pending[]): Promise<void> => {
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
        logger.warn({ missing: missing.length, batch: batch.length }, 'send resolved without acknowledging every partition; failing those records');
        fail(missing, 'KAFKA_PARTITION_NOT_ACKNOWLEDGED', `Kafka reported success without acknowledging ${missing.length} record(s)`);
        for (const pending of batch) if (!missing.includes(pending)) pending.resolve();
        return;
      }
      consecutiveFailures = 0;
      for (const pending of batch) pending.resolve();
    } catch (error) {
      fail(batch, 'KAFKA_SEND_FAILED', `Kafka did not acknowledge the batch: ${describeError(error)}`, error);
    } finally {
      clearTimeout(timer);
    }
  };

  const pump = async (): Promise<void> => {
    flushScheduled = false;
    if (inFlight > 0) return;
    while (queue.length > 0) {
      failExpired(Date.now());
      if (queue.length === 0) break;
      const batch = queue.splice(0, maxBatchRecords);
      inFlight = batch.length;
      await sendBatch(batch);
      inFlight = 0;
    }
    if (drained) drained();
  };

  const schedule = (): void => {
    if (flushScheduled || inFlight > 0) return;
    flushScheduled = true;
    const run = (): void => void pump();
    if (lingerMs > 0) setTimeout(run, lingerMs);
    else setImmediate(run);
  };

  const enqueue = (record: OutgoingRecord): Promise<void> =>
    new Promise<void>((resolve, reject) => {
      if (stopping) {
        reject(new InfraError('KAFKA_PRODUCER_STOPPED', 'the producer is shutting down', { retriable: true }));
        return;
      }
      queue.push({ record, partition: -1, enqueuedAtMs: Date.now(), resolve, reject });
      schedule();
    });

  let stopped: Promise<void> | null = null;
  return {
    async start() {
      producer ??= create();
      // Connects, reads the API versions and gets a producer id now rather than on the first send.
      await producer.initIdempotentProducer({});
    },
    send: enqueue,
    async sendMany(records) {
      await Promise.all(records.map(enqueue));
    },
    stats(): ProducerStats {
      return { pending: queue.length + inFlight, consecutiveFailures, lastError, lastFailureAtMs };
    },
    stop() {
      stopped ??= (async () => {
        stopping = true;
        if (queue.length > 0 || inFlight > 0) {
          await new Promise<void>((resolve) => {
            drained = resolve;
            schedule();
          });
        }
        const current = producer;
        producer = null;
        await current?.close(true);
      })();
      return stopped;
    },
  };
}
