/**
 * The idle long-poll against the real Kafka: a consumer with the enricher's batching settings (256
 * KiB / 50 ms) asks about twenty times a second with nothing to read; with the idle wait it asks
 * about once a second and a record that arrives while it waits is delivered. (Which settings a fetch
 * uses after records came is kafkajs-idle-fetch.test.ts.)
 */
import type { Kafka } from 'kafkajs';
import { setTimeout as delay } from 'node:timers/promises';
import { afterEach, describe, expect, inject, it } from 'vitest';
import { silentLogger } from '../core/logger.ts';
import { createCleanups } from '../test/cleanups.ts';
import { eventually, uniqueName } from '../test/helpers.ts';
import { createTestTopic } from '../test/kafka-cleanup.ts';
import { createKafkajsClient } from './kafkajs-client.ts';
import { useIdleFetch } from './kafkajs-idle-fetch.ts';

const brokers = inject('kafkaBrokers');
const cleanups = createCleanups();
afterEach(() => cleanups.runAll());

const batching = { minBytes: 262_144, maxWaitMs: 50 };

async function setUp(): Promise<{ kafka: Kafka; topic: string; groupId: string }> {
  const topic = uniqueName('idle-fetch');
  const groupId = uniqueName('idle-fetch-group');
  const kafka = createKafkajsClient({ brokers, clientId: groupId, logger: silentLogger() });
  await createTestTopic(kafka, topic, groupId, cleanups);
  return { kafka, topic, groupId };
}

/** Runs a consumer of `topic`; counts its fetches and keeps what it received. */
async function consume(kafka: Kafka, topic: string, groupId: string): Promise<{ fetches: () => number; received: string[] }> {
  const consumer = kafka.consumer({ groupId, minBytes: batching.minBytes, maxWaitTimeInMs: batching.maxWaitMs, sessionTimeout: 10_000, heartbeatInterval: 1000 });
  cleanups.add(() => consumer.disconnect());
  let fetches = 0;
  consumer.on(consumer.events.FETCH_START, () => (fetches += 1));
  const received: string[] = [];
  await consumer.connect();
  await consumer.subscribe({ topics: [topic], fromBeginning: true });
  let joined = false;
  consumer.on(consumer.events.GROUP_JOIN, () => (joined = true));
  await consumer.run({
    eachBatch: async ({ batch }) => {
      for (const message of batch.messages) received.push(String(message.value));
      await Promise.resolve();
    },
  });
  await eventually(() => Promise.resolve(joined), (done) => done, 30_000, 'the consumer to join its group');
  return { fetches: () => fetches, received };
}

/** Fetches a consumer makes in `ms` with nothing to read, after a first second to settle. */
async function idleFetches(fetches: () => number, ms: number): Promise<number> {
  await delay(1500);
  const before = fetches();
  await delay(ms);
  return fetches() - before;
}

describe('idle long-poll (kafkajs)', () => {
  it('without it, an idle consumer with batching settings fetches every max wait', async () => {
    const { kafka, topic, groupId } = await setUp();
    const { fetches } = await consume(kafka, topic, groupId);
    // 50 ms waits: ~60 in 3 s; the bound leaves room for a slow machine
    expect(await idleFetches(fetches, 3000)).toBeGreaterThan(20);
  });

  it('with it, an idle consumer asks about once a second, and a record sent while it waits is delivered', async () => {
    const { kafka, topic, groupId } = await setUp();
    expect(useIdleFetch(groupId, { ...batching, idleMaxWaitMs: 1000 })).toBe('patched');
    const { fetches, received } = await consume(kafka, topic, groupId);
    expect(await idleFetches(fetches, 3000)).toBeLessThanOrEqual(6);

    const producer = kafka.producer();
    await producer.connect();
    cleanups.add(() => producer.disconnect());
    await producer.send({ topic, messages: [{ value: 'one' }] });
    await eventually(() => Promise.resolve(received.length), (count) => count === 1, 10_000, 'the record sent while the consumer was idle');
    expect(received).toEqual(['one']);
  });
});
