/**
 * Both GroupConsumerPort adapters (kafkajs, @platformatic/kafka) against the real Kafka: a batch
 * not committed is delivered again and fetching continues from the committed position; a member
 * dropped from its group while it handles a batch has its commit refused (kafkajs) or rejoins
 * inside the commit (platformatic), and either way the group ends committed without a crash.
 */
import { Admin as PlatformaticAdmin } from '@platformatic/kafka';
import { afterEach, describe, expect, inject, it } from 'vitest';
import { consumerSessionTimeoutMs, type GroupConsumerOptions, type GroupConsumerPort } from '../core/kafka-port.ts';
import { silentLogger } from '../core/logger.ts';
import { createCleanups } from '../test/cleanups.ts';
import { createTestTopic } from '../test/kafka-cleanup.ts';
import { eventually, uniqueName } from '../test/helpers.ts';
import { createKafkajsClient } from './kafkajs-client.ts';
import { createKafkajsGroupConsumer } from './kafkajs-consumer.ts';
import { createPlatformaticGroupConsumer } from '../loadtest/platformatic-consumer.ts';

const brokers = inject('kafkaBrokers');
const cleanups = createCleanups();

afterEach(() => cleanups.runAll());

const adapters = [
  {
    name: 'kafkajs',
    create: (options: GroupConsumerOptions): GroupConsumerPort =>
      createKafkajsGroupConsumer({ kafka: createKafkajsClient({ brokers, clientId: options.groupId, logger: silentLogger() }), logger: silentLogger(), ...options }),
    // kafkajs heartbeats only from its run loop: a handler that waits past the session is dropped.
    heartbeatsWhileHandling: false,
  },
  {
    name: 'platformatic',
    create: (options: GroupConsumerOptions): GroupConsumerPort => createPlatformaticGroupConsumer({ brokers, clientId: options.groupId, logger: silentLogger(), ...options }),
    heartbeatsWhileHandling: true,
  },
];

async function makeTopic(groupId: string, topic: string, records: number): Promise<ReturnType<ReturnType<typeof createKafkajsClient>['admin']>> {
  const kafka = createKafkajsClient({ brokers, clientId: groupId, logger: silentLogger() });
  const admin = await createTestTopic(kafka, topic, groupId, cleanups);
  const producer = kafka.producer();
  await producer.connect();
  await producer.send({ topic, messages: Array.from({ length: records }, (_, i) => ({ key: 'k', value: `m${i}` })) });
  await producer.disconnect();
  return admin;
}

type KafkajsAdmin = Awaited<ReturnType<typeof makeTopic>>;

/** Waits until the group's committed offset of partition 0 is `expected`, and returns it. */
function committedOffset(admin: KafkajsAdmin, groupId: string, topic: string, expected: string, timeoutMs: number): Promise<string | undefined> {
  return eventually(
    async () => (await admin.fetchOffsets({ groupId, topics: [topic] }))[0]?.partitions[0]?.offset,
    (offset) => offset === expected,
    timeoutMs,
    `the group to commit offset ${expected}`,
  );
}

describe.each(adapters)('$name group consumer', ({ create, heartbeatsWhileHandling }) => {
  it('delivers a batch again until it is committed, continuing from the committed position', async () => {
    const topic = uniqueName('consumer.redeliver');
    const groupId = uniqueName('consumer-redeliver');
    const admin = await makeTopic(groupId, topic, 10);
    const handled: string[][] = [];
    const crashes: unknown[] = [];
    const consumer = create({
      groupId,
      topics: [topic],
      fromBeginning: true,
      onCrash: (error) => crashes.push(error),
      onBatch: async (batch) => {
        handled.push(batch.records.map((record) => record.value?.toString() ?? ''));
        const next = handled.length === 1 ? null : handled.length === 2 ? 4n : BigInt(batch.records.at(-1)!.offset) + 1n;
        if (next !== null) await consumer.commit([{ topic: batch.topic, partition: batch.partition, offset: next.toString() }]);
      },
    });
    cleanups.add(() => consumer.stop());
    await consumer.start();

    const committed = await committedOffset(admin, groupId, topic, '10', 30_000);
    expect(committed).toBe('10');
    expect(crashes).toEqual([]);
    expect(handled[0]?.[0]).toBe('m0');
    // Not committed: the same batch again.
    expect(handled[1]?.[0]).toBe('m0');
    // Committed up to offset 4: the next batch starts there.
    expect(handled[2]?.[0]).toBe('m4');
    expect(handled[2]?.at(-1)).toBe('m9');
  });

  it('ends committed without crashing when it is dropped from the group while it handles a batch', async () => {
    const topic = uniqueName('consumer.rejoin');
    const groupId = uniqueName('consumer-rejoin');
    const admin = await makeTopic(groupId, topic, 10);

    const crashes: unknown[] = [];
    const handled: string[][] = [];
    let stalled = false;
    const consumer = create({
      groupId,
      topics: [topic],
      fromBeginning: true,
      onCrash: (error) => crashes.push(error),
      onBatch: async (batch) => {
        handled.push(batch.records.map((record) => record.value?.toString() ?? ''));
        if (!stalled) {
          stalled = true;
          if (heartbeatsWhileHandling) {
            // The client's own timer keeps the member alive: drop it as an expired session would.
            const platformaticAdmin = new PlatformaticAdmin({ clientId: `${groupId}-admin`, bootstrapBrokers: brokers });
            await platformaticAdmin.removeMembersFromConsumerGroup({ groupId });
            await platformaticAdmin.close();
          } else {
            // No heartbeat for longer than the session: the coordinator drops this member.
            await new Promise((resolve) => setTimeout(resolve, consumerSessionTimeoutMs + 3000));
          }
        }
        const last = batch.records.at(-1)!;
        await consumer.commit([{ topic: batch.topic, partition: batch.partition, offset: (BigInt(last.offset) + 1n).toString() }]);
      },
    });
    cleanups.add(() => consumer.stop());
    await consumer.start();

    const committed = await committedOffset(admin, groupId, topic, '10', 60_000);
    expect(committed).toBe('10');
    expect(crashes).toEqual([]);
    expect(handled[0]?.[0]).toBe('m0');
    if (!heartbeatsWhileHandling) {
      // The refused batch came again: every record was handled at least twice from the first fetch on.
      expect(handled.length).toBeGreaterThanOrEqual(2);
      expect(handled[1]?.[0]).toBe('m0');
    }
  });
});
