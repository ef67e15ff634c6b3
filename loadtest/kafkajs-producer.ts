/**
 * KafkaProducerPort on kafkajs, for the client comparison only (loadtest/client-compare.ts): the
 * product produces through kafka/platformatic-producer.ts (ADR 0006). Idempotent, acks=all,
 * batching across callers through the same send queue as the product's adapter.
 *
 * Records from all devices are queued and sent as one batch per request, with exactly one request
 * in flight at a time: while it is out, the next batch accumulates, so the batch size follows the
 * load. One request at a time also keeps kafkajs' idempotent sequence numbers simple and safe.
 * A batch that fails or exceeds the send timeout rejects all its records and the kafkajs producer
 * is replaced (a new producer id), so one bad request cannot wedge later ones.
 *
 * kafkajs 2.2.4 can resolve a send although the records for some partitions were never written:
 * when a partition leader dies mid-request, its retry drops that leader's partitions from the
 * result (reproduced on the 3-broker stack; see ADR 0005). So the partition of every keyed record
 * is computed here, set explicitly, and a record counts as acknowledged only when the response
 * acknowledges its partition. The others are rejected, so the device resends them.
 */
import { CompressionTypes, type Admin, type Message, type Producer, type TopicMessages } from 'kafkajs';
import { defaultSendQueueBounds, type KafkaProducerPort, type ProducerSettings, type ProducerStats } from '../core/kafka-port.ts';
import { InfraError, describeError } from '../core/errors.ts';
import type { Logger } from '../core/logger.ts';
import { createKafkajsClient } from '../kafka/kafkajs-client.ts';
import { partitionForKey } from '../kafka/key-partitioner.ts';
import { createSendQueue, type QueuedRecord } from '../kafka/send-queue.ts';

interface Pending extends QueuedRecord {
  /** Partition chosen for the record; null for unkeyed records (kafkajs picks). */
  partition: number | null;
}

const compressionCodes = {
  none: CompressionTypes.None,
  gzip: CompressionTypes.GZIP,
  snappy: CompressionTypes.Snappy,
  lz4: CompressionTypes.LZ4,
  zstd: CompressionTypes.ZSTD,
} as const;

export function createKafkajsProducer(options: ProducerSettings & { brokers: readonly string[]; logger: Logger }): KafkaProducerPort {
  const { logger, sendTimeoutMs, lingerMs, maxBatchRecords } = options;
  const kafka = createKafkajsClient({ brokers: options.brokers, clientId: options.clientId, logger });
  let producer: Producer | null = null;
  let consecutiveFailures = 0;
  let lastError: string | null = null;
  let lastFailureAtMs: number | null = null;
  let admin: Admin | null = null;
  const partitionCounts = new Map<string, number>();

  const partitionCount = async (topic: string): Promise<number> => {
    const known = partitionCounts.get(topic);
    if (known !== undefined) return known;
    if (!admin) {
      admin = kafka.admin();
      await admin.connect();
    }
    const metadata = await admin.fetchTopicMetadata({ topics: [topic] });
    const count = metadata.topics[0]?.partitions.length ?? 0;
    if (count === 0) throw new InfraError('KAFKA_UNKNOWN_TOPIC', `topic ${topic} has no partitions`, { retriable: true });
    partitionCounts.set(topic, count);
    return count;
  };

  const connect = async (): Promise<Producer> => {
    const created = kafka.producer({
      idempotent: true,
      maxInFlightRequests: 1,
      // Bounded: our own send timeout decides when a record counts as failed.
      retry: { retries: 3, initialRetryTime: 100, maxRetryTime: 1000 },
    });
    await created.connect();
    return created;
  };

  const discardProducer = (): void => {
    const old = producer;
    producer = null;
    if (old) old.disconnect().catch((error: unknown) => logger.debug({ err: error }, 'discarding failed producer'));
  };

  const assignPartitions = async (batch: Pending[]): Promise<TopicMessages[]> => {
    const byTopic = new Map<string, Message[]>();
    for (const pending of batch) {
      const { record } = pending;
      if (record.key !== null) pending.partition = partitionForKey(record.key, partitionCounts.get(record.topic) ?? (await partitionCount(record.topic)));
      let messages = byTopic.get(record.topic);
      if (!messages) byTopic.set(record.topic, (messages = []));
      messages.push({ key: record.key, value: record.value, headers: record.headers, partition: pending.partition ?? undefined });
    }
    return [...byTopic].map(([topic, messages]) => ({ topic, messages }));
  };

  const sendBatch = async (batch: Pending[]): Promise<void> => {
    const startedAt = Date.now();
    let timer: NodeJS.Timeout | undefined;
    try {
      const acknowledged = await Promise.race([
        (async () => {
          const topicMessages = await assignPartitions(batch);
          producer ??= await connect();
          const results = await producer.sendBatch({ topicMessages, acks: -1, timeout: sendTimeoutMs, compression: compressionCodes[options.compression] });
          return new Set(results.filter((result) => result.errorCode === 0).map((result) => `${result.topicName}\u0000${result.partition}`));
        })(),
        new Promise<never>((_, reject) => {
          timer = setTimeout(() => reject(new Error(`no acknowledgement within ${sendTimeoutMs} ms`)), sendTimeoutMs);
        }),
      ]);
      const missing = batch.filter((pending) => pending.partition !== null && !acknowledged.has(`${pending.record.topic}\u0000${pending.partition}`));
      if (missing.length > 0) {
        consecutiveFailures += 1;
        lastError = `Kafka reported success without acknowledging ${missing.length} record(s)`;
        lastFailureAtMs = Date.now();
        logger.warn({ missing: missing.length, batch: batch.length }, 'send resolved without acknowledging every partition; failing those records');
        discardProducer();
        partitionCounts.clear();
        const failure = new InfraError('KAFKA_PARTITION_NOT_ACKNOWLEDGED', lastError, { retriable: true });
        for (const pending of missing) pending.reject(failure);
        for (const pending of batch) if (!missing.includes(pending)) pending.resolve();
        return;
      }
      consecutiveFailures = 0;
      for (const pending of batch) pending.resolve();
      logger.debug({ records: batch.length, ms: Date.now() - startedAt, waitedMs: startedAt - batch[0]!.enqueuedAtMs }, 'batch acknowledged');
    } catch (error) {
      consecutiveFailures += 1;
      lastError = describeError(error);
      lastFailureAtMs = Date.now();
      discardProducer();
      // Partition counts may have changed (or the topic was recreated): read them again next time.
      partitionCounts.clear();
      const failure = new InfraError('KAFKA_SEND_FAILED', `Kafka did not acknowledge the batch: ${lastError}`, { retriable: true, cause: error });
      for (const pending of batch) pending.reject(failure);
    } finally {
      clearTimeout(timer);
    }
  };

  const sends = createSendQueue<Pending>({
    sendTimeoutMs,
    lingerMs,
    maxBatchRecords,
    maxQueuedRecords: options.maxQueuedRecords ?? defaultSendQueueBounds.maxQueuedRecords,
    maxQueuedBytes: options.maxQueuedBytes ?? defaultSendQueueBounds.maxQueuedBytes,
    entry: (base) => ({ ...base, partition: null }),
    sendBatch,
  });

  return {
    async start() {
      producer ??= await connect();
    },
    send: (record, sendOptions) => sends.enqueue(record, sendOptions),
    async sendMany(records) {
      await Promise.all(records.map((record) => sends.enqueue(record)));
    },
    stats(): ProducerStats {
      return { pending: sends.pending(), pendingBytes: sends.pendingBytes(), consecutiveFailures, lastError, lastFailureAtMs, requests: sends.requests() };
    },
    async stop() {
      await sends.drain();
      const current = producer;
      producer = null;
      await current?.disconnect();
      await admin?.disconnect();
      admin = null;
    },
  };
}
