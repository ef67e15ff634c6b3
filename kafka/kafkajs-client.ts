/** The kafkajs implementation of KafkaClientFactory (see core/kafka-port.ts). */
import { Kafka } from 'kafkajs';
import type { KafkaAdminPort, KafkaClientFactory } from '../core/kafka-port.ts';
import type { Logger } from '../core/logger.ts';
import { createKafkajsFollower, createKafkajsGroupConsumer } from './kafkajs-consumer.ts';
import { kafkajsLogCreator } from './kafkajs-logging.ts';
import { createKafkajsRangeReader } from './kafkajs-range-reader.ts';
import { retryTransient } from './kafkajs-retry.ts';
import { createKafkajsProducer } from './kafkajs-producer.ts';

export function createKafkajsClientFactory(options: { brokers: readonly string[]; logger: Logger }): KafkaClientFactory {
  const logger = options.logger.child({ component: 'kafka' });
  const kafkaFor = (clientId: string): Kafka =>
    new Kafka({
      clientId,
      brokers: [...options.brokers],
      logCreator: kafkajsLogCreator(logger),
      connectionTimeout: 3000,
      requestTimeout: 10_000,
    });

  return {
    name: 'kafkajs',
    producer: ({ clientId, ...producerOptions }) => createKafkajsProducer({ kafka: kafkaFor(clientId), logger, ...producerOptions }),
    groupConsumer: ({ clientId, ...consumerOptions }) => createKafkajsGroupConsumer({ kafka: kafkaFor(clientId), logger, ...consumerOptions }),
    follower: ({ clientId, topic }) => createKafkajsFollower({ kafka: kafkaFor(clientId), logger, topic, clientId }),
    admin: ({ clientId }) => createKafkajsAdmin(kafkaFor(clientId)),
    rangeReader: ({ clientId, ...readerOptions }) => createKafkajsRangeReader({ kafka: kafkaFor(clientId), logger, clientId, ...readerOptions }),
  };
}

function createKafkajsAdmin(kafka: Kafka): KafkaAdminPort {
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
    async brokerCount() {
      await ready();
      return (await admin.describeCluster()).brokers.length;
    },
    async close() {
      if (connected) await admin.disconnect();
      connected = null;
    },
  };
}
