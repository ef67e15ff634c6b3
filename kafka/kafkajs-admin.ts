/** KafkaAdminPort on kafkajs: topic creation, topic limits and offset look-ups for the services and the tools. */
import type { ConfigResourceTypes, ConfigSource, Kafka } from 'kafkajs';
import type { KafkaAdminPort } from '../core/kafka-port.ts';
import { retryTransient } from './kafkajs-retry.ts';

// Kafka's DescribeConfigs codes (kafkajs' enums are not importable from ESM: its CommonJS exports hide them).
export const topicResource = 2 as ConfigResourceTypes;
export const topicConfigSource = 1 as ConfigSource;
const defaultConfigSource = 5 as ConfigSource;

export function createKafkajsAdmin(kafka: Kafka): KafkaAdminPort {
  const admin = kafka.admin();
  let connected: Promise<void> | null = null;
  const ready = (): Promise<void> => (connected ??= admin.connect());
  return {
    async ensureTopics(specs) {
      await ready();
      const existing = new Set(await admin.listTopics());
      const missing = specs.filter((spec) => !existing.has(spec.topic));
      if (missing.length === 0) return;
      // kafkajs' own waitForLeaders gives up when a busy broker still answers "unknown topic" right
      // after creating it, so readiness is awaited below instead.
      await admin.createTopics({
        waitForLeaders: false,
        topics: missing.map((spec) => ({
          topic: spec.topic,
          numPartitions: spec.partitions,
          replicationFactor: spec.replicationFactor,
          configEntries: Object.entries(spec.config ?? {}).map(([name, value]) => ({ name, value })),
        })),
      });
      // Ready means every partition answers a ListOffsets on its leader, not just that metadata names one.
      for (const spec of missing) await retryTransient(() => admin.fetchTopicOffsets(spec.topic));
    },
    async maxMessageBytes(topics) {
      await ready();
      const existing = new Set(await admin.listTopics());
      const present = topics.filter((topic) => existing.has(topic));
      if (present.length === 0) return [];
      const described = await retryTransient(() =>
        admin.describeConfigs({ includeSynonyms: false, resources: present.map((name) => ({ type: topicResource, name, configNames: ['max.message.bytes'] })) }),
      );
      return present.map((topic) => {
        const resource = described.resources.find((candidate) => candidate.resourceName === topic);
        const entry = resource?.configEntries.find((candidate) => candidate.configName === 'max.message.bytes');
        const maxMessageBytes = Number(entry?.configValue);
        if (!entry || !Number.isSafeInteger(maxMessageBytes) || maxMessageBytes <= 0) {
          throw new Error(`Kafka described no max.message.bytes for ${topic}: ${resource?.errorMessage ?? 'no such resource'}`);
        }
        const source = entry.configSource === topicConfigSource ? 'topic' : entry.configSource === defaultConfigSource ? 'default' : 'broker';
        return { topic, maxMessageBytes, source } as const;
      });
    },
    async topicExists(topic) {
      await ready();
      return (await admin.listTopics()).includes(topic);
    },
    async endOffsets(topic) {
      await ready();
      return (await retryTransient(() => admin.fetchTopicOffsets(topic))).map(({ partition, high }) => ({ partition, offset: high }));
    },
    async startOffsets(topic) {
      await ready();
      return (await retryTransient(() => admin.fetchTopicOffsets(topic))).map(({ partition, low }) => ({ partition, offset: low }));
    },
    async offsetsForTime(topic, timestampMs) {
      await ready();
      return (await retryTransient(() => admin.fetchTopicOffsetsByTimestamp(topic, timestampMs))).map(({ partition, offset }) => ({ partition, offset }));
    },
    async groupLag(groupId, topic) {
      await ready();
      const [offsets, committed] = await Promise.all([
        retryTransient(() => admin.fetchTopicOffsets(topic)),
        retryTransient(() => admin.fetchOffsets({ groupId, topics: [topic] })),
      ]);
      // kafkajs answers -1 for a partition the group has not committed
      const done = new Map((committed[0]?.partitions ?? []).filter((p) => Number(p.offset) >= 0).map((p) => [p.partition, p.offset]));
      return offsets
        .map(({ partition, low, high }) => {
          const at = done.get(partition) ?? null;
          return { partition, committed: at, end: high, lag: Math.max(0, Number(high) - Number(at ?? low)) };
        })
        .sort((a, b) => a.partition - b.partition);
    },
    async close() {
      if (connected) await admin.disconnect();
      connected = null;
    },
  };
}
