/**
 * RangeReaderPort on kafkajs: reads fixed offset ranges once, for replay and for the command log's reads.
 *
 * kafkajs has no group-less assignment, so the reader joins a throwaway group of its own (nothing
 * is ever committed, and the group is deleted at the end): it is alone in it, gets every partition,
 * pauses those it does not read and seeks the others to their range start. Delivery is filtered by
 * a per-partition cursor, so whatever kafkajs fetches before the seek takes effect, or fetches
 * again, is never handed on twice or out of the range.
 */
import type { Kafka } from 'kafkajs';
import { describeError } from '../core/errors.ts';
import type { ConsumedBatch, PartitionRange, RangeReaderPort } from '../core/kafka-port.ts';
import type { Logger } from '../core/logger.ts';
import { toConsumedRecord } from './kafkajs-consumer.ts';

export function createKafkajsRangeReader(options: {
  kafka: Kafka;
  logger: Logger;
  clientId: string;
  topic: string;
  ranges: readonly PartitionRange[];
  partitionsConcurrently?: number;
}): RangeReaderPort {
  const { kafka, topic } = options;
  const logger = options.logger.child({ component: 'range-reader', topic });
  const groupId = `${options.clientId}-range-${process.pid}-${Date.now()}`;
  const consumer = kafka.consumer({ groupId, maxWaitTimeInMs: 250, retry: { retries: 10, initialRetryTime: 300, maxRetryTime: 5000 } });
  // partition → next offset to hand on, and the range end (exclusive); removed once read.
  const cursors = new Map<number, { next: bigint; to: bigint }>();
  for (const range of options.ranges) {
    if (cursors.has(range.partition)) throw new Error(`partition ${range.partition} is listed twice`);
    if (BigInt(range.fromOffset) < BigInt(range.toOffset)) cursors.set(range.partition, { next: BigInt(range.fromOffset), to: BigInt(range.toOffset) });
  }
  let ended = false;
  let settle: (error?: unknown) => void = () => {};
  const finished = new Promise<void>((resolve, reject) => (settle = (error) => (error === undefined ? resolve() : reject(error instanceof Error ? error : new Error(describeError(error))))));
  /** Ends the read: no batch is handed on after this. */
  const finish = (error?: unknown): void => {
    ended = true;
    settle(error);
  };
  let started = false;
  let stopped: Promise<void> | null = null;

  const pause = (partition: number): void => consumer.pause([{ topic, partitions: [partition] }]);

  const stop = (): Promise<void> =>
    (stopped ??= (async () => {
      if (started) await consumer.disconnect().catch((error: unknown) => logger.warn({ err: error }, 'disconnecting the replay consumer failed'));
      finish();
      if (!started) return;
      const admin = kafka.admin();
      try {
        await admin.connect();
        await admin.deleteGroups([groupId]);
      } catch (error) {
        // Harmless: the group has no committed offsets and the broker drops it once it expires.
        logger.debug({ err: error, groupId }, 'could not delete the replay group');
      } finally {
        await admin.disconnect();
      }
    })());

  return {
    async read(onBatch: (batch: ConsumedBatch) => Promise<void>) {
      if (cursors.size === 0) return;
      started = true;
      consumer.on(consumer.events.CRASH, (event) => {
        if (!event.payload.restart) finish(event.payload.error);
      });
      await consumer.connect();
      await consumer.subscribe({ topic, fromBeginning: true });
      await consumer.run({
        autoCommit: false,
        partitionsConsumedConcurrently: options.partitionsConcurrently ?? 1,
        eachBatch: async ({ batch, isRunning }) => {
          if (ended || !isRunning()) return;
          const cursor = cursors.get(batch.partition);
          if (cursor === undefined) {
            pause(batch.partition);
            return;
          }
          const records = batch.messages
            .filter((message) => {
              const offset = BigInt(message.offset);
              return offset >= cursor.next && offset < cursor.to;
            })
            .map((message) => toConsumedRecord(batch.topic, batch.partition, message));
          if (records.length > 0) {
            try {
              await onBatch({ topic: batch.topic, partition: batch.partition, records });
            } catch (error) {
              finish(error);
              return;
            }
            cursor.next = BigInt(records.at(-1)!.offset) + 1n;
          }
          // Offsets the log skips (e.g. transaction markers) also count as read.
          if (batch.messages.length > 0 && cursor.next <= BigInt(batch.lastOffset()) && BigInt(batch.lastOffset()) + 1n >= cursor.to) cursor.next = cursor.to;
          if (cursor.next >= cursor.to) {
            cursors.delete(batch.partition);
            pause(batch.partition);
            logger.debug({ partition: batch.partition }, 'range read');
            if (cursors.size === 0) finish();
          }
        },
      });
      for (const [partition, cursor] of cursors) consumer.seek({ topic, partition, offset: cursor.next.toString() });
      try {
        await finished;
      } finally {
        await stop();
      }
    },
    stop,
  };
}
