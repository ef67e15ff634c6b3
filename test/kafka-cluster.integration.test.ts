/**
 * The 3-broker KRaft cluster of the local stack (replication factor 3, min.insync.replicas 2) and
 * our producer on it: a broker is SIGKILLed while records are in flight, and every record whose
 * send resolved must be readable afterwards. (Plain kafkajs 2.2.4 fails this: it resolves a send
 * whose records for the dead leader's partitions were never written; see ADR 0005.)
 */
import { Kafka, logLevel } from 'kafkajs';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { silentLogger } from '../core/logger.ts';
import { startStack, stackDir, stopStack, type StackState } from '../infra/stack.ts';
import { createKafkaClientFactory } from '../kafka/kafka-client-factory.ts';
import { createKafkajsAdmin } from '../kafka/kafkajs-admin.ts';
import { topicMetadata, uniqueName } from './helpers.ts';
import { faultStackOptions } from './test-stacks.ts';

const options = faultStackOptions({ suffix: 'cluster', brokers: 3, home: inject('stackHome'), kafkaHeapMb: 256 });
let state: StackState;

beforeAll(async () => {
  state = await startStack(options);
});

afterAll(async () => {
  const result = await stopStack(stackDir(options.home, options.name), () => undefined);
  expect(result.portsStillBusy).toEqual([]);
});

describe('3-broker cluster', () => {
  it('loses no acknowledged record when a partition leader is killed mid-stream', async () => {
    const kafka = new Kafka({ clientId: 'cluster-test', brokers: state.kafka.bootstrap, logLevel: logLevel.NOTHING });
    const admin = kafka.admin();
    await admin.connect();
    const topic = uniqueName('cluster.test');
    expect((await admin.describeCluster()).brokers).toHaveLength(3);
    // The product's admin waits until every partition answers (kafkajs' waitForLeaders gives up on a broker still answering "unknown topic").
    const topicAdmin = createKafkajsAdmin(kafka);
    await topicAdmin.ensureTopics([{ topic, partitions: 6, replicationFactor: 3 }]).finally(() => topicAdmin.close());
    const metadata = await topicMetadata(admin, topic);
    for (const partition of metadata.partitions) expect(partition.replicas).toHaveLength(3);
    await admin.disconnect();

    const producer = createKafkaClientFactory({ brokers: state.kafka.bootstrap, logger: silentLogger() }).producer({
      clientId: 'cluster-test',
      sendTimeoutMs: 15_000,
      lingerMs: 0,
      maxBatchRecords: 500,
      compression: 'none',
    });
    await producer.start();
    const send = (value: string): Promise<boolean> =>
      producer.send({ topic, key: `device-${Number(value.split('-')[1]) % 24}`, value: Buffer.from(value), headers: {} }).then(
        () => true,
        () => false,
      );
    const values = Array.from({ length: 240 }, (_, i) => `msg-${i}`);
    const acknowledged = new Set<string>();
    for (const value of values.slice(0, 60)) if (await send(value)) acknowledged.add(value);
    expect(acknowledged.size).toBe(60);

    // Kill a broker while the rest is in flight, then resend what was not acknowledged, as devices do.
    const inFlight = values.slice(60).map(async (value) => ((await send(value)) ? acknowledged.add(value) : undefined));
    process.kill(-state.kafka.nodes[2]!.pgid, 'SIGKILL');
    await Promise.all(inFlight);
    for (let attempt = 0; attempt < 20 && acknowledged.size < values.length; attempt += 1) {
      for (const value of values) if (!acknowledged.has(value) && (await send(value))) acknowledged.add(value);
    }
    await producer.stop();
    expect(acknowledged.size).toBe(values.length);

    const consumer = kafka.consumer({ groupId: uniqueName('cluster-reader'), maxWaitTimeInMs: 100 });
    const seen = new Set<string>();
    await consumer.connect();
    await consumer.subscribe({ topic, fromBeginning: true });
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`read ${seen.size} distinct of ${values.length}`)), 90_000);
      void consumer.run({
        eachMessage: async ({ message }) => {
          seen.add(message.value?.toString() ?? '');
          if (seen.size === values.length) {
            clearTimeout(timer);
            resolve();
          }
          await Promise.resolve();
        },
      });
    });
    await consumer.disconnect();
    expect([...acknowledged].filter((value) => !seen.has(value))).toEqual([]);
  });
});
