/**
 * KafkaProducerPort on node-rdkafka (librdkafka), for the client comparison only
 * (loadtest/client-compare.ts): idempotent, acks=all, one promise per record resolved by
 * librdkafka's delivery report.
 *
 * node-rdkafka is a native addon built against the Node that loads it. It is not a dependency of
 * the project: the client comparison installs it into a cache directory and this module loads it
 * from there with `createRequire`, typed by the small interface below.
 *
 * librdkafka batches on its own (`linger.ms`, `batch.num.messages`) and keeps up to 5 requests in
 * flight per broker, which the idempotent producer allows because the broker checks sequence
 * numbers. `message.timeout.ms` is set below our send timeout, so librdkafka itself reports a
 * record it could not deliver; a sweep rejects any record whose report is overdue anyway. A fatal
 * librdkafka error (the idempotent producer state cannot be recovered) rejects everything pending
 * and the client is replaced on the next send.
 */
import { createRequire } from 'node:module';
import { join } from 'node:path';
import type { KafkaProducerPort, OutgoingRecord, ProducerStats, ProducerSettings } from '../core/kafka-port.ts';
import { InfraError, describeError } from '../core/errors.ts';
import type { Logger } from '../core/logger.ts';

/** The part of node-rdkafka's error this adapter reads. */
export interface RdkafkaError extends Error {
  code?: number;
  isFatal?: boolean;
}

interface RdkafkaDeliveryReport {
  topic: string;
  partition: number;
  offset: number;
  opaque?: unknown;
}

/** The part of node-rdkafka's Producer this adapter uses. */
export interface RdkafkaProducerClient {
  connect(options: { timeout: number }, callback: (error: RdkafkaError | null) => void): unknown;
  disconnect(timeoutMs: number, callback: (error: unknown) => void): unknown;
  produce(topic: string, partition: number | null, value: Buffer | null, key: string | null, timestamp: number | null, opaque: unknown, headers: Array<Record<string, string>>): unknown;
  flush(timeoutMs: number, callback: (error: RdkafkaError | null) => void): unknown;
  setPollInterval(intervalMs: number): unknown;
  on(event: 'delivery-report', listener: (error: RdkafkaError | null, report: RdkafkaDeliveryReport) => void): unknown;
  on(event: 'event.error', listener: (error: RdkafkaError) => void): unknown;
}

/** The part of the node-rdkafka module this adapter uses. */
export interface RdkafkaModule {
  Producer: new (config: Record<string, string | number | boolean>, topicConfig?: Record<string, string | number | boolean>) => RdkafkaProducerClient;
  librdkafkaVersion: string;
  features: string[];
}

/** Loads node-rdkafka from a directory that has it under node_modules/ (throws when it is missing or does not load). */
export function loadNodeRdkafka(installDir: string): RdkafkaModule {
  const require = createRequire(join(installDir, 'package.json'));
  return require('node-rdkafka') as RdkafkaModule;
}

interface Pending {
  enqueuedAtMs: number;
  /** Key and value bytes, for ProducerStats.pendingBytes. */
  bytes: number;
  resolve: () => void;
  reject: (error: Error) => void;
}

export interface RdkafkaProducerOptions extends ProducerSettings {
  rdkafka: RdkafkaModule;
  brokers: readonly string[];
  logger: Logger;
  /** How often delivery reports are collected; each report waits up to this long (default 5 ms). */
  pollIntervalMs?: number;
  /** librdkafka's own queue bound; a send beyond it is rejected at once (default 100,000). */
  maxQueuedRecords?: number;
}

/** librdkafka's timeout for a record: well below ours, so its own delivery report decides. */
export function messageTimeoutMs(sendTimeoutMs: number): number {
  return Math.max(1000, sendTimeoutMs - Math.min(2000, Math.floor(sendTimeoutMs / 5)));
}

export function createRdkafkaProducer(options: RdkafkaProducerOptions): KafkaProducerPort {
  const { rdkafka, logger, sendTimeoutMs } = options;
  const pollIntervalMs = options.pollIntervalMs ?? 5;
  // Insertion-ordered, so the overdue sweep stops at the first record that is not overdue.
  const pending = new Map<number, Pending>();
  let nextId = 0;
  let pendingBytes = 0;
  let client: RdkafkaProducerClient | null = null;
  let connecting: Promise<RdkafkaProducerClient> | null = null;
  let stopping = false;
  let consecutiveFailures = 0;
  let lastError: string | null = null;
  let lastFailureAtMs: number | null = null;
  let sweeper: NodeJS.Timeout | null = null;

  const recordFailure = (message: string): void => {
    consecutiveFailures += 1;
    lastError = message;
    lastFailureAtMs = Date.now();
  };

  const settle = (id: number, error: Error | null): void => {
    const entry = pending.get(id);
    if (!entry) return;
    pending.delete(id);
    pendingBytes -= entry.bytes;
    if (error) entry.reject(error);
    else entry.resolve();
  };

  const failAll = (error: InfraError): void => {
    for (const id of [...pending.keys()]) settle(id, error);
  };

  const discardClient = (): void => {
    const old = client;
    client = null;
    connecting = null;
    old?.disconnect(1000, (error) => {
      if (error) logger.debug({ err: error }, 'discarding failed producer');
    });
  };

  const config = (): Record<string, string | number | boolean> => ({
    'bootstrap.servers': options.brokers.join(','),
    'client.id': options.clientId,
    'enable.idempotence': true,
    acks: 'all',
    'max.in.flight.requests.per.connection': 5,
    'linger.ms': options.lingerMs,
    'batch.num.messages': options.maxBatchRecords,
    'compression.codec': options.compression,
    'message.timeout.ms': messageTimeoutMs(sendTimeoutMs),
    'queue.buffering.max.messages': options.maxQueuedRecords ?? 100_000,
    // Java-compatible key hashing, so a device lands on the same partition as with the other clients.
    partitioner: 'murmur2_random',
    'socket.keepalive.enable': true,
    'log.connection.close': false,
    dr_cb: true,
  });

  const connect = (): Promise<RdkafkaProducerClient> =>
    (connecting ??= new Promise<RdkafkaProducerClient>((resolve, reject) => {
      const created = new rdkafka.Producer(config());
      created.on('delivery-report', (error, report) => {
        if (typeof report.opaque !== 'number') return;
        if (error) {
          recordFailure(describeError(error));
          settle(report.opaque, new InfraError('KAFKA_SEND_FAILED', `Kafka did not acknowledge the record: ${describeError(error)}`, { retriable: true, cause: error }));
        } else {
          consecutiveFailures = 0;
          settle(report.opaque, null);
        }
      });
      created.on('event.error', (error) => {
        if (error.isFatal !== true) {
          logger.debug({ err: error }, 'librdkafka reported an error');
          return;
        }
        logger.warn({ err: error }, 'librdkafka fatal error; replacing the producer');
        recordFailure(describeError(error));
        if (client === created) discardClient();
        failAll(new InfraError('KAFKA_PRODUCER_FATAL', `the producer failed: ${describeError(error)}`, { retriable: true, cause: error }));
      });
      created.connect({ timeout: sendTimeoutMs }, (error) => {
        if (error) {
          connecting = null;
          reject(new InfraError('KAFKA_CONNECT_FAILED', `cannot connect to Kafka: ${describeError(error)}`, { retriable: true, cause: error }));
          return;
        }
        created.setPollInterval(pollIntervalMs);
        client = created;
        resolve(created);
      });
    }));

  const sweepOverdue = (): void => {
    const now = Date.now();
    for (const [id, entry] of pending) {
      if (now - entry.enqueuedAtMs < sendTimeoutMs) break;
      recordFailure(`no delivery report within ${sendTimeoutMs} ms`);
      settle(id, new InfraError('KAFKA_SEND_TIMEOUT', `not acknowledged by Kafka within ${sendTimeoutMs} ms`, { retriable: true }));
    }
  };

  const produce = (producer: RdkafkaProducerClient, record: OutgoingRecord, id: number): void => {
    const headers = Object.entries(record.headers).map(([name, value]) => ({ [name]: value }));
    producer.produce(record.topic, null, record.value, record.key, Date.now(), id, headers);
  };

  const enqueue = (record: OutgoingRecord): Promise<void> =>
    new Promise<void>((resolve, reject) => {
      if (stopping) {
        reject(new InfraError('KAFKA_PRODUCER_STOPPED', 'the producer is shutting down', { retriable: true }));
        return;
      }
      const id = nextId++;
      const bytes = (record.value?.length ?? 0) + (record.key === null ? 0 : Buffer.byteLength(record.key));
      pending.set(id, { enqueuedAtMs: Date.now(), bytes, resolve, reject });
      pendingBytes += bytes;
      const fail = (error: unknown): void => {
        recordFailure(describeError(error));
        settle(id, error instanceof InfraError ? error : new InfraError('KAFKA_SEND_FAILED', `could not queue the record: ${describeError(error)}`, { retriable: true, cause: error }));
      };
      const produceOrFail = (producer: RdkafkaProducerClient): void => {
        try {
          produce(producer, record, id);
        } catch (error) {
          fail(error);
        }
      };
      if (client) produceOrFail(client);
      else connect().then(produceOrFail, fail);
    });

  const send = (record: OutgoingRecord): Promise<void> => {
    sweeper ??= setInterval(sweepOverdue, 250).unref();
    return enqueue(record);
  };

  let stopped: Promise<void> | null = null;
  return {
    async start() {
      await connect();
      sweeper ??= setInterval(sweepOverdue, 250).unref();
    },
    send,
    async sendMany(records) {
      await Promise.all(records.map(send));
    },
    stats(): ProducerStats {
      return { pending: pending.size, pendingBytes, consecutiveFailures, lastError, lastFailureAtMs, requests: null };
    },
    stop() {
      stopped ??= (async () => {
        stopping = true;
        const failures: unknown[] = [];
        const current = client;
        if (current && pending.size > 0) {
          await new Promise<void>((resolve) => current.flush(sendTimeoutMs, () => resolve()));
          const deadline = Date.now() + sendTimeoutMs;
          while (pending.size > 0 && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, pollIntervalMs * 2));
        }
        if (sweeper) clearInterval(sweeper);
        sweeper = null;
        failAll(new InfraError('KAFKA_PRODUCER_STOPPED', 'the producer stopped before Kafka acknowledged the record', { retriable: true }));
        client = null;
        connecting = null;
        if (current) {
          await new Promise<void>((resolve) =>
            current.disconnect(sendTimeoutMs, (error) => {
              if (error) failures.push(error);
              resolve();
            }),
          );
        }
        if (failures.length > 0) throw new InfraError('KAFKA_DISCONNECT_FAILED', `disconnecting failed: ${failures.map(describeError).join('; ')}`, { retriable: false });
      })();
      return stopped;
    },
  };
}
