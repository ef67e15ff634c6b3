/**
 * Proves the local stack is the real thing: Kafka admin, keyed produce + consumer-group consume,
 * QuestDB ILP/HTTP writes read back over the PostgreSQL wire protocol and over /exec, both JVMs'
 * collections in their GC logs, and a Redis that keeps what it acknowledged across a restart.
 */
import { readFile } from 'node:fs/promises';
import { Sender } from '@questdb/nodejs-client';
import { Redis } from 'ioredis';
import { Kafka, logLevel, type EachMessagePayload } from 'kafkajs';
import pg from 'pg';
import { afterEach, describe, expect, inject, it } from 'vitest';
import { isGroupAlive } from '../infra/managed-process.ts';
import { redisAnswersPing } from '../infra/readiness.ts';
import { readStackState, restartRedis, stackDir, stopRedis } from '../infra/stack.ts';
import { createCleanups } from './cleanups.ts';
import { eventually, questdbQuery, uniqueName } from './helpers.ts';
import { processesMentioning, testStackName } from './test-stacks.ts';

const kafka = new Kafka({ clientId: 'stack-test', brokers: inject('kafkaBrokers'), logLevel: logLevel.ERROR });

describe('local stack: Kafka', () => {
  it('creates a 6-partition topic, produces keyed records and consumes them back in a group', async () => {
    const topic = uniqueName('stack.test');
    const admin = kafka.admin();
    await admin.connect();
    try {
      expect(await admin.createTopics({ topics: [{ topic, numPartitions: 6, replicationFactor: 1 }], waitForLeaders: true })).toBe(true);
      const metadata = await admin.fetchTopicMetadata({ topics: [topic] });
      expect(metadata.topics[0]?.partitions).toHaveLength(6);

      const producer = kafka.producer({ idempotent: true, maxInFlightRequests: 1 });
      await producer.connect();
      const devices = Array.from({ length: 12 }, (_, i) => `device-${i}`);
      const sent = devices.flatMap((key) => Array.from({ length: 10 }, (_, seq) => ({ key, value: String(seq) })));
      await producer.send({ topic, acks: -1, messages: sent });
      await producer.disconnect();

      const consumer = kafka.consumer({ groupId: uniqueName('stack-group') });
      const received = new Map<string, string[]>();
      const partitionsByKey = new Map<string, Set<number>>();
      await consumer.connect();
      await consumer.subscribe({ topic, fromBeginning: true });
      let count = 0;
      const all = new Promise<void>((resolve) => {
        void consumer.run({
          eachMessage: async ({ message, partition }: EachMessagePayload) => {
            const key = message.key?.toString() ?? '';
            received.set(key, [...(received.get(key) ?? []), message.value?.toString() ?? '']);
            partitionsByKey.set(key, (partitionsByKey.get(key) ?? new Set()).add(partition));
            if (++count === sent.length) resolve();
          },
        });
      });
      await all;
      await consumer.disconnect();
      expect(count).toBe(120);
      for (const key of devices) {
        expect(received.get(key)).toEqual(Array.from({ length: 10 }, (_, seq) => String(seq)));
        expect(partitionsByKey.get(key)?.size).toBe(1);
      }
      const usedPartitions = new Set([...partitionsByKey.values()].flatMap((set) => [...set]));
      expect(usedPartitions.size).toBeGreaterThan(1);
    } finally {
      await admin.deleteTopics({ topics: [topic] }).catch(() => undefined);
      await admin.disconnect();
    }
  });
});

describe('local stack: QuestDB', () => {
  it('stores rows written over ILP/HTTP and serves them over PG wire and /exec', async () => {
    const table = uniqueName('stack_test');
    const httpUrl = inject('questdbHttpUrl');
    const sender = await Sender.fromConfig(`http::addr=${new URL(httpUrl).host};auto_flush=off`);
    const baseMs = Date.UTC(2026, 0, 1);
    for (let i = 0; i < 5; i += 1) {
      await sender.table(table).symbol('device', `d${i % 2}`).floatColumn('value', i * 1.5).at(baseMs + i * 1000, 'ms');
    }
    await sender.flush();
    await sender.close();

    const rows = await eventually(() => questdbQuery(httpUrl, `select device, value from '${table}' order by timestamp`), (r) => r.length === 5, 30_000, 'rows visible over /exec');
    expect(rows.map((row) => row[1])).toEqual([0, 1.5, 3, 4.5, 6]);

    const client = new pg.Client({ host: '127.0.0.1', port: inject('questdbPgPort'), user: 'admin', password: 'quest', database: 'qdb' });
    await client.connect();
    try {
      const result = await client.query<{ device: string; total: number }>(`select device, sum(value) total from '${table}' group by device order by device`);
      expect(result.rows).toEqual([
        { device: 'd0', total: 9 },
        { device: 'd1', total: 6 },
      ]);
      await client.query(`drop table '${table}'`);
    } finally {
      await client.end();
    }
  });
});

describe('local stack: JVM collections', () => {
  it("logs every collection of Kafka's and QuestDB's JVMs to the GC log the stack's state names", async () => {
    const state = await readStackState(stackDir(inject('stackHome'), testStackName));
    const files = [...(state?.kafka.nodes.map((node) => node.gcLogFile) ?? []), state?.questdb?.gcLogFile];
    expect(files).toHaveLength(2);
    for (const file of files) {
      // The first line names the collector; one line per collection follows, with its pause.
      expect(await readFile(file ?? '', 'utf8')).toMatch(/\[gc\] Using Parallel/);
    }
  });
});

describe('local stack: Redis', () => {
  const cleanups = createCleanups();
  afterEach(() => cleanups.runAll());
  const redisUrl = new URL(inject('redisUrl'));
  const dir = stackDir(inject('stackHome'), testStackName);
  const connect = async (): Promise<Redis> => {
    // No retries: a Redis that is down must fail the command, not queue it.
    const client = new Redis(inject('redisUrl'), { lazyConnect: true, maxRetriesPerRequest: 0, retryStrategy: () => null });
    cleanups.add(async () => client.disconnect());
    await client.connect();
    return client;
  };

  it('answers PING and persists every write to its append-only file, evicting nothing', async () => {
    const client = await connect();
    expect(await client.ping()).toBe('PONG');
    expect(await client.config('GET', 'appendonly')).toEqual(['appendonly', 'yes']);
    expect(await client.config('GET', 'appendfsync')).toEqual(['appendfsync', 'everysec']);
    expect(await client.config('GET', 'maxmemory-policy')).toEqual(['maxmemory-policy', 'noeviction']);
  });

  it('keeps an acknowledged key across stopRedis and restartRedis, a new process on the same data', async () => {
    const key = uniqueName('stack-test');
    cleanups.add(async () => {
      const client = new Redis(inject('redisUrl'), { maxRetriesPerRequest: 0, retryStrategy: () => null });
      await client.del(key).finally(() => client.disconnect());
    });
    // Runs before the key's cleanup (newest first): a test failing while Redis is down leaves it running.
    cleanups.add(async () => {
      const redis = (await readStackState(dir))?.redis;
      if (redis && !isGroupAlive(redis.pgid)) await restartRedis(dir, { readyTimeoutMs: 60_000 });
    });
    const before = await connect();
    expect(await before.set(key, 'kept')).toBe('OK');
    const oldPgid = (await readStackState(dir))?.redis?.pgid;
    before.disconnect();

    await stopRedis(dir);
    expect(await redisAnswersPing(redisUrl.hostname, Number(redisUrl.port))).toBe(false);
    expect(await processesMentioning(`${dir}/redis/`)).toEqual([]);

    const restarted = await restartRedis(dir, { readyTimeoutMs: 60_000 });
    expect(restarted.redis?.pgid).not.toBe(oldPgid);
    expect(await (await connect()).get(key)).toBe('kept');
  });
});
