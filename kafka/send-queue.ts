/**
 * The producer's batching queue (kafka/platformatic-producer.ts; the client comparison's kafkajs
 * adapter in loadtest/ uses it too, so both batch alike): records from all callers wait here and go out
 * as one batch per request, with exactly one request in flight (the next batch accumulates
 * meanwhile, so batch size follows load). A batch holds at most `maxBatchRecords` records and, per
 * topic whose capacity is known, at most that many record bytes; a record that alone exceeds its
 * topic's capacity is refused at once (KAFKA_RECORD_TOO_LARGE, not retriable). A record that waited
 * longer than the send timeout is failed before it is sent. `drain` stops taking records and
 * resolves once the queue is empty.
 */
import type { OutgoingRecord } from '../core/kafka-port.ts';
import { InfraError } from '../core/errors.ts';

export interface QueuedRecord {
  record: OutgoingRecord;
  /** What the record adds to a batch (BatchBytes.recordBytes), 0 without a byte cap. */
  bytes: number;
  enqueuedAtMs: number;
  resolve: () => void;
  reject: (error: Error) => void;
}

/** Byte accounting of a batch: how big a record is, and how many record bytes of a topic one batch may carry. */
export interface BatchBytes {
  recordBytes(record: OutgoingRecord): number;
  /** Undefined while the topic's limit is not known: its records are then capped by count only. */
  capacityBytes(topic: string): number | undefined;
}

/** How the producer hands entries of a batch back for another send. */
export type Requeue<Q> = (entries: readonly Q[], options?: { split?: boolean }) => void;

export interface SendQueue {
  enqueue(record: OutgoingRecord): Promise<void>;
  /** Queued plus in flight. */
  pending(): number;
  isDraining(): boolean;
  drain(): Promise<void>;
}

export function createSendQueue<Q extends QueuedRecord>(options: {
  sendTimeoutMs: number;
  lingerMs: number;
  maxBatchRecords: number;
  batchBytes?: BatchBytes;
  /** Builds the adapter's queue entry (it may carry more fields). */
  entry: (base: QueuedRecord) => Q;
  /**
   * Sends one batch and settles every entry of it, except those it hands to `requeue`, which go
   * back to the front of the queue (in order, before the device's later records); with `split`,
   * the next batch takes at most half of them (Kafka found the batch too large).
   */
  sendBatch: (batch: Q[], requeue: Requeue<Q>) => Promise<void>;
}): SendQueue {
  const { sendTimeoutMs, lingerMs, maxBatchRecords, batchBytes } = options;
  const queue: Q[] = [];
  let inFlight = 0;
  let flushScheduled = false;
  let draining = false;
  let drained: (() => void) | null = null;
  let nextBatchRecords = maxBatchRecords;

  const failExpired = (nowMs: number): void => {
    for (let index = queue.length - 1; index >= 0; index -= 1) {
      const pending = queue[index]!;
      if (nowMs - pending.enqueuedAtMs >= sendTimeoutMs) {
        queue.splice(index, 1);
        pending.reject(new InfraError('KAFKA_SEND_TIMEOUT', `not acknowledged by Kafka within ${sendTimeoutMs} ms`, { retriable: true }));
      }
    }
  };

  const requeue: Requeue<Q> = (entries, requeueOptions) => {
    queue.unshift(...entries);
    if (requeueOptions?.split && entries.length > 1) nextBatchRecords = Math.ceil(entries.length / 2);
  };

  // The longest prefix of the queue within the record cap and every topic's byte capacity (at least one record).
  const takeBatch = (): Q[] => {
    const limit = Math.min(queue.length, nextBatchRecords);
    nextBatchRecords = maxBatchRecords;
    if (!batchBytes) return queue.splice(0, limit);
    const used = new Map<string, number>();
    let count = 0;
    for (; count < limit; count += 1) {
      const { record, bytes } = queue[count]!;
      const capacity = batchBytes.capacityBytes(record.topic);
      if (capacity === undefined) continue;
      const total = (used.get(record.topic) ?? 0) + bytes;
      if (total > capacity && count > 0) break;
      used.set(record.topic, total);
    }
    return queue.splice(0, count);
  };

  const pump = async (): Promise<void> => {
    flushScheduled = false;
    if (inFlight > 0) return;
    while (queue.length > 0) {
      failExpired(Date.now());
      if (queue.length === 0) break;
      const batch = takeBatch();
      inFlight = batch.length;
      await options.sendBatch(batch, requeue);
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

  return {
    enqueue: (record) =>
      new Promise<void>((resolve, reject) => {
        if (draining) {
          reject(new InfraError('KAFKA_PRODUCER_STOPPED', 'the producer is shutting down', { retriable: true }));
          return;
        }
        const bytes = batchBytes?.recordBytes(record) ?? 0;
        const capacity = batchBytes?.capacityBytes(record.topic);
        if (capacity !== undefined && bytes > capacity) {
          const message = `a record of ${bytes} bytes cannot fit a batch for ${record.topic}, which takes ${capacity} bytes of records (its max.message.bytes less the batch overhead)`;
          reject(new InfraError('KAFKA_RECORD_TOO_LARGE', message, { retriable: false }));
          return;
        }
        queue.push(options.entry({ record, bytes, enqueuedAtMs: Date.now(), resolve, reject }));
        schedule();
      }),
    pending: () => queue.length + inFlight,
    isDraining: () => draining,
    async drain() {
      draining = true;
      if (queue.length === 0 && inFlight === 0) return;
      await new Promise<void>((resolve) => {
        drained = resolve;
        schedule();
      });
    },
  };
}
