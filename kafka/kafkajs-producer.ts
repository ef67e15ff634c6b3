/**
 * KafkaProducerPort on kafkajs: idempotent, acks=all, batching across callers.
 *
 * Records from all devices are queued and sent as one batch per request, with exactly one request
 * in flight at a time: while it is out, the next batch accumulates, so the batch size follows the
 * load. One request at a time also keeps kafkajs' idempotent sequence numbers simple and safe.
 * A batch that fails or exceeds the send timeout rejects all its records and the kafkajs producer
 * is replaced (a new producer id), so one bad request cannot wedge later ones.
 */
import { CompressionTypes, type Kafka, type Message, type Producer, type TopicMessages } from 'kafkajs';
import type { KafkaProducerPort, OutgoingRecord, ProducerStats } from '../core/kafka-port.ts';
import { InfraError, describeError } from '../core/errors.ts';
import type { Logger } from '../core/logger.ts';

interface Pending {
  record: OutgoingRecord;
  enqueuedAtMs: number;
  resolve: () => void;
  reject: (error: Error) => void;
}

const compressionCodes = {
  none: CompressionTypes.None,
  gzip: CompressionTypes.GZIP,
  snappy: CompressionTypes.Snappy,
  lz4: CompressionTypes.LZ4,
  zstd: CompressionTypes.ZSTD,
} as const;

export function createKafkajsProducer(options: {
  kafka: Kafka;
  logger: Logger;
  sendTimeoutMs: number;
  lingerMs: number;
  maxBatchRecords: number;
  compression: keyof typeof compressionCodes;
}): KafkaProducerPort {
  const { kafka, logger, sendTimeoutMs, lingerMs, maxBatchRecords } = options;
  const queue: Pending[] = [];
  let producer: Producer | null = null;
  let inFlight = 0;
  let flushScheduled = false;
  let stopping = false;
  let consecutiveFailures = 0;
  let lastError: string | null = null;
  let lastFailureAtMs: number | null = null;
  let drained: (() => void) | null = null;

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

  const failExpired = (nowMs: number): void => {
    for (let index = queue.length - 1; index >= 0; index -= 1) {
      const pending = queue[index]!;
      if (nowMs - pending.enqueuedAtMs >= sendTimeoutMs) {
        queue.splice(index, 1);
        pending.reject(new InfraError('KAFKA_SEND_TIMEOUT', `not acknowledged by Kafka within ${sendTimeoutMs} ms`, { retriable: true }));
      }
    }
  };

  const sendBatch = async (batch: Pending[]): Promise<void> => {
    const byTopic = new Map<string, Message[]>();
    for (const { record } of batch) {
      let messages = byTopic.get(record.topic);
      if (!messages) byTopic.set(record.topic, (messages = []));
      messages.push({ key: record.key, value: record.value, headers: record.headers });
    }
    const topicMessages: TopicMessages[] = [...byTopic].map(([topic, messages]) => ({ topic, messages }));
    let timer: NodeJS.Timeout | undefined;
    try {
      await Promise.race([
        (async () => {
          producer ??= await connect();
          await producer.sendBatch({ topicMessages, acks: -1, timeout: sendTimeoutMs, compression: compressionCodes[options.compression] });
        })(),
        new Promise<never>((_, reject) => {
          timer = setTimeout(() => reject(new Error(`no acknowledgement within ${sendTimeoutMs} ms`)), sendTimeoutMs);
        }),
      ]);
      consecutiveFailures = 0;
      for (const pending of batch) pending.resolve();
    } catch (error) {
      consecutiveFailures += 1;
      lastError = describeError(error);
      lastFailureAtMs = Date.now();
      discardProducer();
      const failure = new InfraError('KAFKA_SEND_FAILED', `Kafka did not acknowledge the batch: ${lastError}`, { retriable: true, cause: error });
      for (const pending of batch) pending.reject(failure);
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
      queue.push({ record, enqueuedAtMs: Date.now(), resolve, reject });
      schedule();
    });

  return {
    async start() {
      producer ??= await connect();
    },
    send: enqueue,
    async sendMany(records) {
      await Promise.all(records.map(enqueue));
    },
    stats(): ProducerStats {
      return { pending: queue.length + inFlight, consecutiveFailures, lastError, lastFailureAtMs };
    },
    async stop() {
      stopping = true;
      if (queue.length > 0 || inFlight > 0) {
        await new Promise<void>((resolve) => {
          drained = resolve;
          schedule();
        });
      }
      const current = producer;
      producer = null;
      await current?.disconnect();
    },
  };
}
