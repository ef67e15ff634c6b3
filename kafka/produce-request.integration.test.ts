/**
 * The producer's own Produce request encoder (ADR 0020) on the real broker: what it writes is
 * accepted (the broker checks each batch's CRC and sequence numbers) and reads back record for
 * record, and a compressed producer, which goes through the client's own encoder, still works.
 */
import { Kafka, logLevel } from 'kafkajs';
import { describe, expect, inject, it } from 'vitest';
import { silentLogger } from '../core/logger.ts';
import { uniqueName } from '../test/helpers.ts';
import { createKafkaClientFactory } from './kafka-client-factory.ts';

const brokers = inject('kafkaBrokers');
const noHeaders: Record<string, string> = {};

interface Seen {
  key: string | null;
  value: string | null;
  headers: Record<string, string>;
}

async function readBack(kafka: Kafka, topic: string, count: number): Promise<Map<number, Seen[]>> {
  const consumer = kafka.consumer({ groupId: uniqueName('encoder-reader'), maxWaitTimeInMs: 100 });
  const byPartition = new Map<number, Seen[]>();
  let seen = 0;
  await consumer.connect();
  try {
    await consumer.subscribe({ topic, fromBeginning: true });
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`read ${seen} of ${count}`)), 60_000);
      void consumer.run({
        eachMessage: async ({ partition, message }) => {
          const headers = Object.fromEntries(Object.entries(message.headers ?? {}).map(([name, value]) => [name, String(value)]));
          const records = byPartition.get(partition) ?? [];
          records.push({ key: message.key?.toString() ?? null, value: message.value?.toString() ?? null, headers });
          byPartition.set(partition, records);
          seen += 1;
          if (seen === count) {
            clearTimeout(timer);
            resolve();
          }
          await Promise.resolve();
        },
      });
    });
  } finally {
    await consumer.disconnect();
  }
  return byPartition;
}

describe('the Produce request encoder on the real broker', () => {
  for (const compression of ['none', 'gzip'] as const) {
    it(`writes records Kafka accepts and returns unchanged, in order per key (compression ${compression})`, async () => {
      const kafka = new Kafka({ clientId: 'encoder-test', brokers: [...brokers], logLevel: logLevel.NOTHING });
      const admin = kafka.admin();
      await admin.connect();
      const topic = uniqueName('encoder.test');
      await admin.createTopics({ topics: [{ topic, numPartitions: 4 }], waitForLeaders: true });
      await admin.disconnect();

      const producer = createKafkaClientFactory({ brokers: [...brokers], logger: silentLogger() }).producer({
        clientId: 'encoder-test',
        sendTimeoutMs: 15_000,
        lingerMs: 5,
        maxBatchRecords: 200,
        compression,
      });
      await producer.start();
      const records: Array<{ topic: string; key: string | null; value: Buffer; headers: Record<string, string> }> = Array.from({ length: 600 }, (_, i) => ({
        topic,
        key: i % 50 === 0 ? null : `device-${i % 7}-é`,
        value: i % 97 === 0 ? Buffer.alloc(0) : Buffer.from(`{"seq":${i},"pad":"${'x'.repeat(i % 300)}"}`),
        headers: i % 3 === 0 ? noHeaders : { 'mqtt.topic': `devices/device-${i % 7}/telemetry`, 'gateway.received_at_ms': String(1_764_633_600_000 + i), ü: 'ß' },
      }));
      // Several sends at once, so requests carry several partitions and the idempotent sequences advance.
      await Promise.all(records.map((record) => producer.send(record)));
      await producer.stop();

      const byPartition = await readBack(kafka, topic, records.length);
      const read = [...byPartition.values()].flat();
      expect(read).toHaveLength(records.length);
      const expected = (record: (typeof records)[number]): Seen => ({ key: record.key, value: record.value.toString(), headers: record.headers });
      expect(new Set(read.map((seen) => JSON.stringify(seen)))).toEqual(new Set(records.map((record) => JSON.stringify(expected(record)))));
      // Each key's records arrive in the order they were sent.
      for (const partitionRecords of byPartition.values()) {
        const sequences = new Map<string, number>();
        for (const seen of partitionRecords) {
          if (seen.key === null || seen.value === '') continue;
          const seq = (JSON.parse(seen.value!) as { seq: number }).seq;
          expect(seq).toBeGreaterThan(sequences.get(seen.key) ?? -1);
          sequences.set(seen.key, seq);
        }
      }
    });
  }
});
