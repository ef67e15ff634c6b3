/**
 * The producer's batching queue (kafka/platformatic-producer.ts; the client comparison's kafkajs
 * adapter in loadtest/ uses it too, so both batch alike): records from all callers wait here and go out
 * as one batch per request, with exactly one request in flight (the next batch accumulates
 * meanwhile, so batch size follows load), and with `lingerMs`, at most one request per lingerMs
 * while batches are not full. A batch holds at most `maxBatchRecords` records and, per
 * topic whose capacity is known, at most that many record bytes; a record that alone exceeds its
 * topic's capacity is refused at once (KAFKA_RECORD_TOO_LARGE, not retriable). A record that waited
 * longer than the send timeout is failed before it is sent. `drain` stops taking records and
 * resolves once the queue is empty.
 *
 * Bounds: the records queued or in flight hold at most `maxQueuedRecords` records and
 * `maxQueuedBytes` record bytes (a lone record larger than the byte bound is still taken). At the
 * bound a record enqueued as sheddable is refused at once (KAFKA_QUEUE_FULL, retriable), and so is
 * one once the queue is half full: sheddable records never take the upper half, which stays for the
 * others. Any other record waits, in arrival order, until settled records make room; its send
 * timeout runs meanwhile. How many wait is bounded by the callers (the gateway's pending caps).
 */
import type { OutgoingRecord, ProduceRequestTotals } from '../core/kafka-port.ts';
import { InfraError } from '../core/errors.ts';
import { recordBytes } from './record-batch-size.ts';

export interface QueuedRecord {
  record: OutgoingRecord;
  /** What the record adds to a batch (BatchBytes.recordBytes, else its uncompressed size in a batch). */
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
  /** With `sheddable`, the record is refused (KAFKA_QUEUE_FULL) rather than wait for room. */
  enqueue(record: OutgoingRecord, options?: { sheddable?: boolean }): Promise<void>;
  /** Queued, in flight, or waiting for room. */
  pending(): number;
  /** The record bytes of those. */
  pendingBytes(): number;
  isDraining(): boolean;
  /** Produce requests sent since start: how many, the records they carried and their summed duration. */
  requests(): ProduceRequestTotals;
  drain(): Promise<void>;
}

export function createSendQueue<Q extends QueuedRecord>(options: {
  sendTimeoutMs: number;
  lingerMs: number;
  maxBatchRecords: number;
  maxQueuedRecords: number;
  maxQueuedBytes: number;
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
  const { sendTimeoutMs, lingerMs, maxBatchRecords, maxQueuedRecords, maxQueuedBytes, batchBytes } = options;
  const queue: Q[] = [];
  // Records that found the queue full, each with what admits it into the queue.
  const waiting: Array<{ entry: Q; admit: () => void }> = [];
  let heldRecords = 0;
  let heldBytes = 0;
  let waitingBytes = 0;
  let inFlight = 0;
  let flushScheduled = false;
  let draining = false;
  let drained: (() => void) | null = null;
  let nextBatchRecords = maxBatchRecords;
  const requests: ProduceRequestTotals = { count: 0, records: 0, seconds: 0 };

  const timedOut = (): InfraError => new InfraError('KAFKA_SEND_TIMEOUT', `not acknowledged by Kafka within ${sendTimeoutMs} ms`, { retriable: true });

  const failExpired = (nowMs: number): void => {
    for (let index = waiting.length - 1; index >= 0; index -= 1) {
      const { entry } = waiting[index]!;
      if (nowMs - entry.enqueuedAtMs >= sendTimeoutMs) {
        waiting.splice(index, 1);
        waitingBytes -= entry.bytes;
        entry.reject(timedOut());
      }
    }
    for (let index = queue.length - 1; index >= 0; index -= 1) {
      const pending = queue[index]!;
      if (nowMs - pending.enqueuedAtMs >= sendTimeoutMs) {
        queue.splice(index, 1);
        pending.reject(timedOut());
      }
    }
  };

  // An empty queue takes any record, so one larger than the byte bound cannot wait forever.
  const hasRoom = (bytes: number): boolean => heldRecords === 0 || (heldRecords < maxQueuedRecords && heldBytes + bytes <= maxQueuedBytes);
  const hasRoomToShed = (bytes: number): boolean => waiting.length === 0 && heldRecords < maxQueuedRecords / 2 && heldBytes + bytes <= maxQueuedBytes / 2;

  const admitWaiting = (): void => {
    let admitted = false;
    while (waiting.length > 0 && hasRoom(waiting[0]!.entry.bytes)) {
      const { entry, admit } = waiting.shift()!;
      waitingBytes -= entry.bytes;
      admit();
      admitted = true;
    }
    if (admitted) schedule();
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

  // Linger spaces requests; it never holds a lone record: a request goes out at once unless the
  // previous one started less than lingerMs ago and the batch is not full. At low rates Kafka's cost
  // is per request, so a trickle of records then goes out in fewer, larger requests.
  let lastSendAtMs = Number.NEGATIVE_INFINITY;
  const lingerLeftMs = (): number => (draining || queue.length >= maxBatchRecords ? 0 : lingerMs - (performance.now() - lastSendAtMs));

  const pump = async (): Promise<void> => {
    flushScheduled = false;
    if (inFlight > 0) return;
    while (queue.length > 0) {
      if (lingerLeftMs() > 0) {
        schedule();
        return;
      }
      failExpired(Date.now());
      if (queue.length === 0) break;
      const batch = takeBatch();
      inFlight = batch.length;
      lastSendAtMs = performance.now();
      await options.sendBatch(batch, requeue);
      // From the request's start until its batch was settled: the cycle the next batch waits for.
      requests.count += 1;
      requests.records += batch.length;
      requests.seconds += (performance.now() - lastSendAtMs) / 1000;
      inFlight = 0;
    }
    if (drained) drained();
  };

  let lingerTimer: NodeJS.Timeout | null = null;
  const schedule = (): void => {
    // A batch that filled up, or a drain, does not wait out the linger.
    if (lingerTimer !== null && lingerLeftMs() <= 0) {
      clearTimeout(lingerTimer);
      lingerTimer = null;
      flushScheduled = false;
    }
    if (flushScheduled || inFlight > 0) return;
    flushScheduled = true;
    const waitMs = lingerLeftMs();
    if (waitMs > 0) {
      lingerTimer = setTimeout(() => {
        lingerTimer = null;
        void pump();
      }, waitMs);
    } else {
      setImmediate(() => void pump());
    }
  };

  return {
    enqueue: (record, enqueueOptions) =>
      new Promise<void>((resolve, reject) => {
        if (draining) {
          reject(new InfraError('KAFKA_PRODUCER_STOPPED', 'the producer is shutting down', { retriable: true }));
          return;
        }
        const bytes = batchBytes ? batchBytes.recordBytes(record) : recordBytes(record);
        const capacity = batchBytes?.capacityBytes(record.topic);
        if (capacity !== undefined && bytes > capacity) {
          const message = `a record of ${bytes} bytes cannot fit a batch for ${record.topic}, which takes ${capacity} bytes of records (its max.message.bytes less the batch overhead)`;
          reject(new InfraError('KAFKA_RECORD_TOO_LARGE', message, { retriable: false }));
          return;
        }
        if (enqueueOptions?.sheddable && !hasRoomToShed(bytes)) {
          reject(new InfraError('KAFKA_QUEUE_FULL', `the send queue holds ${heldRecords} records of ${heldBytes} bytes; records that may be shed get only half of its bound`, { retriable: true }));
          return;
        }
        let held = false;
        // The queue's counts drop when the record settles, however the adapter settles it.
        const release = (): void => {
          if (!held) return;
          held = false;
          heldRecords -= 1;
          heldBytes -= bytes;
          admitWaiting();
        };
        const entry = options.entry({
          record,
          bytes,
          enqueuedAtMs: Date.now(),
          resolve: () => {
            release();
            resolve();
          },
          reject: (error) => {
            release();
            reject(error);
          },
        });
        const admit = (): void => {
          held = true;
          heldRecords += 1;
          heldBytes += bytes;
          queue.push(entry);
        };
        if (waiting.length === 0 && hasRoom(bytes)) {
          admit();
          schedule();
        } else {
          waiting.push({ entry, admit });
          waitingBytes += bytes;
        }
      }),
    pending: () => queue.length + inFlight + waiting.length,
    pendingBytes: () => heldBytes + waitingBytes,
    isDraining: () => draining,
    requests: () => ({ ...requests }),
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
