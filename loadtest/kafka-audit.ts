/**
 * What Kafka holds for a benchmark run: record counts from the end offsets (cheap, sampled during
 * the run) and, after it, every record of the telemetry topic read back into a (device, seq) ledger
 * to find duplicates and missing messages.
 */
import { Kafka, logLevel, type Admin } from 'kafkajs';
import { randomBytes } from 'node:crypto';
import { createKafkajsAdmin } from '../kafka/kafkajs-admin.ts';
import { createMessageLedger, type MessageLedger } from './message-ledger.ts';
import { seqOfPayload } from './telemetry-generator.ts';

export interface KafkaAuditor {
  /** Records in `topic`: the sum of its partitions' end offsets (0 while it does not exist). */
  recordCount(topic: string): Promise<number>;
  /** Reads `topic` from the beginning up to the end offsets of now into a ledger. */
  readLedger(options: { topic: string; deviceCount: number; deviceIndexOf: (deviceId: string) => number | undefined; timeoutMs: number }): Promise<KafkaTopicAudit>;
  /** Records of `topic` that consumer group `groupId` has not committed yet (all of them before its first commit). */
  groupLag(groupId: string, topic: string): Promise<number>;
  /** Creates a topic unless it exists. */
  ensureTopic(topic: string, partitions: number, config?: Record<string, string>, replicationFactor?: number): Promise<void>;
  /**
   * Deletes every topic whose name starts with `prefix`; returns their names. Kafka then drops the
   * offsets committed on them, and a consumer group left empty with no offsets goes with them.
   */
  deleteTopicsByPrefix(prefix: string): Promise<string[]>;
  close(): Promise<void>;
}

export interface KafkaTopicAudit {
  records: number;
  messages: MessageLedger;
  /** Records whose key is not a device of this run, or whose payload has no seq. */
  foreignRecords: number;
}

/** Creates an auditor on `brokers`; connects on first use. */
export function createKafkaAuditor(brokers: readonly string[]): KafkaAuditor {
  const kafka = new Kafka({ clientId: 'tributary-bench-audit', brokers: [...brokers], logLevel: logLevel.NOTHING });
  const topics = createKafkajsAdmin(kafka);
  let admin: Admin | null = null;
  const ready = async (): Promise<Admin> => {
    if (admin) return admin;
    const created = kafka.admin();
    await created.connect();
    return (admin = created);
  };
  const endOffsets = async (topic: string): Promise<Map<number, number>> => {
    const offsets = await (await ready()).fetchTopicOffsets(topic);
    return new Map(offsets.map(({ partition, high }) => [partition, Number(high)]));
  };

  return {
    async recordCount(topic) {
      try {
        let total = 0;
        for (const high of (await endOffsets(topic)).values()) total += high;
        return total;
      } catch (error) {
        if (error instanceof Error && /does not host this topic-partition|not found|UNKNOWN_TOPIC/i.test(error.message)) return 0;
        throw error;
      }
    },
    async groupLag(groupId, topic) {
      const [ends, [committed]] = await Promise.all([endOffsets(topic), (await ready()).fetchOffsets({ groupId, topics: [topic] })]);
      const done = new Map((committed?.partitions ?? []).map(({ partition, offset }) => [partition, Math.max(0, Number(offset))]));
      let lag = 0;
      for (const [partition, end] of ends) lag += Math.max(0, end - (done.get(partition) ?? 0));
      return lag;
    },
    // The product's admin: it waits until every partition answers, which kafkajs' own waitForLeaders does not.
    ensureTopic: (topic, partitions, config = {}, replicationFactor = 1) => topics.ensureTopics([{ topic, partitions, replicationFactor, config }]),
    async deleteTopicsByPrefix(prefix) {
      const client = await ready();
      const topics = (await client.listTopics()).filter((name) => name.startsWith(prefix));
      if (topics.length > 0) await client.deleteTopics({ topics, timeout: 30_000 });
      return topics;
    },
    async readLedger({ topic, deviceCount, deviceIndexOf, timeoutMs }) {
      const ends = await endOffsets(topic);
      const messages = createMessageLedger(deviceCount);
      let records = 0;
      let foreignRecords = 0;
      const remaining = new Set([...ends].filter(([, end]) => end > 0).map(([partition]) => partition));
      if (remaining.size === 0) return { records, messages, foreignRecords };
      const consumer = kafka.consumer({ groupId: `tributary-bench-audit-${randomBytes(6).toString('hex')}`, maxWaitTimeInMs: 200, maxBytes: 50 * 1024 * 1024 });
      await consumer.connect();
      try {
        await consumer.subscribe({ topic, fromBeginning: true });
        await new Promise<void>((resolve, reject) => {
          const timer = setTimeout(() => reject(new Error(`Kafka audit: read ${records} records of ${topic} in ${timeoutMs} ms, partitions ${[...remaining].join(',')} unfinished`)), timeoutMs);
          consumer
            .run({
              autoCommit: false,
              eachBatch: async ({ batch }) => {
                const end = ends.get(batch.partition) ?? 0;
                for (const message of batch.messages) {
                  if (Number(message.offset) >= end) break;
                  records += 1;
                  const index = deviceIndexOf(message.key?.toString('utf8') ?? '');
                  const seq = message.value === null ? null : seqOfPayload(message.value);
                  if (index === undefined || seq === null) foreignRecords += 1;
                  else messages.add(index, seq);
                  if (Number(message.offset) + 1 >= end) remaining.delete(batch.partition);
                }
                if (remaining.size === 0) {
                  clearTimeout(timer);
                  resolve();
                }
                await Promise.resolve();
              },
            })
            .catch(reject);
        });
      } finally {
        await consumer.disconnect();
      }
      return { records, messages, foreignRecords };
    },
    async close() {
      await topics.close();
      await admin?.disconnect();
      admin = null;
    },
  };
}
