/**
 * The kafkajs group consumer adapter against the real Kafka: a member dropped from its group while
 * it handles a batch (its session expired, as when the broker is paused longer than the session)
 * has its commit refused; it rejoins and handles the batch again instead of crashing for good.
 */
import { afterEach, describe, expect, inject, it } from 'vitest';
import { consumerSessionTimeoutMs } from '../core/kafka-port.ts';
import { silentLogger } from '../core/logger.ts';
import { createCleanups } from '../test/cleanups.ts';
import { deleteGroups, deleteTopics } from '../test/kafka-cleanup.ts';
import { eventually, topicMetadata, uniqueName } from '../test/helpers.ts';
import { createKafkajsClient } from './kafkajs-client.ts';
import { createKafkajsGroupConsumer } from './kafkajs-consumer.ts';

const brokers = inject('kafkaBrokers');
const cleanups = createCleanups();

afterEach(() => cleanups.runAll());

describe('kafkajs group consumer', () => {
  it('rejoins and handles the batch again when its commit is refused because the session expired meanwhile', async () => {
    const topic = uniqueName('consumer.rejoin');
    const groupId = uniqueName('consumer-rejoin');
    const kafka = createKafkajsClient({ brokers, clientId: groupId, logger: silentLogger() });
    const admin = kafka.admin();
    await admin.connect();
    cleanups.add(async () => {
      await deleteGroups(admin, [groupId]);
      await deleteTopics(admin, [topic]);
      await admin.disconnect();
    });
    await admin.createTopics({ topics: [{ topic, numPartitions: 1 }], waitForLeaders: true });
    await topicMetadata(admin, topic);
    const producer = kafka.producer();
    await producer.connect();
    await producer.send({ topic, messages: Array.from({ length: 10 }, (_, i) => ({ key: 'k', value: `m${i}` })) });
    await producer.disconnect();

    const crashes: unknown[] = [];
    const handled: string[][] = [];
    let stalled = false;
    const consumer = createKafkajsGroupConsumer({
      kafka,
      logger: silentLogger(),
      groupId,
      topics: [topic],
      fromBeginning: true,
      onCrash: (error) => crashes.push(error),
      onBatch: async (batch) => {
        handled.push(batch.records.map((record) => record.value?.toString() ?? ''));
        if (!stalled) {
          stalled = true;
          // No heartbeat for longer than the session: the coordinator drops this member.
          await new Promise((resolve) => setTimeout(resolve, consumerSessionTimeoutMs + 3000));
        }
        const last = batch.records.at(-1)!;
        await consumer.commit([{ topic: batch.topic, partition: batch.partition, offset: (BigInt(last.offset) + 1n).toString() }]);
      },
    });
    cleanups.add(() => consumer.stop());
    await consumer.start();

    const committed = await eventually(
      async () => (await admin.fetchOffsets({ groupId, topics: [topic] }))[0]?.partitions[0]?.offset,
      (offset) => offset === '10',
      60_000,
      'the group to commit offset 10',
    );
    expect(committed).toBe('10');
    expect(crashes).toEqual([]);
    // The refused batch came again: every record was handled at least twice from the first fetch on.
    expect(handled.length).toBeGreaterThanOrEqual(2);
    expect(handled[1]?.[0]).toBe('m0');
  });
});
