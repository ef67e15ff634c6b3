/**
 * The producer's batching queue (kafka/platformatic-producer.ts; the client comparison's kafkajs
 * adapter in loadtest/ uses it too, so both batch alike): records from all callers wait here and go out
 * as one batch per request, with exactly one request in flight (the next batch accumulates
 * meanwhile, so batch size follows load). A record that waited longer than the send timeout is
 * failed before it is sent. `drain` stops taking records and resolves once the queue is empty.
 */
import type { OutgoingRecord } from '../core/kafka-port.ts';
import { InfraError } from '../core/errors.ts';

export interface QueuedRecord {
  record: OutgoingRecord;
  enqueuedAtMs: number;
  resolve: () => void;
  reject: (error: Error) => void;
}

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
  /** Builds the adapter's queue entry (it may carry more fields). */
  entry: (base: QueuedRecord) => Q;
  /**
   * Sends one batch and settles every entry of it, except those it hands to `requeue`, which go
   * back to the front of the queue (in order, before the device's later records).
   */
  sendBatch: (batch: Q[], requeue: (entries: readonly Q[]) => void) => Promise<void>;
}): SendQueue {
  const { sendTimeoutMs, lingerMs, maxBatchRecords } = options;
  const queue: Q[] = [];
  let inFlight = 0;
  let flushScheduled = false;
  let draining = false;
  let drained: (() => void) | null = null;

  const failExpired = (nowMs: number): void => {
    for (let index = queue.length - 1; index >= 0; index -= 1) {
      const pending = queue[index]!;
      if (nowMs - pending.enqueuedAtMs >= sendTimeoutMs) {
        queue.splice(index, 1);
        pending.reject(new InfraError('KAFKA_SEND_TIMEOUT', `not acknowledged by Kafka within ${sendTimeoutMs} ms`, { retriable: true }));
      }
    }
  };

  const requeue = (entries: readonly Q[]): void => void queue.unshift(...entries);

  const pump = async (): Promise<void> => {
    flushScheduled = false;
    if (inFlight > 0) return;
    while (queue.length > 0) {
      failExpired(Date.now());
      if (queue.length === 0) break;
      const batch = queue.splice(0, maxBatchRecords);
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
        queue.push(options.entry({ record, enqueuedAtMs: Date.now(), resolve, reject }));
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
