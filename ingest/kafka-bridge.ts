/**
 * The bridge: maps an accepted device publish to a Kafka record (key = device id, value = payload
 * bytes unchanged, headers per core/envelope.ts) and hands it to the idempotent acks=all producer.
 * Creates the topics it writes to at start when they are absent.
 */
import type { KafkaAdminPort, KafkaProducerPort, TopicSpec } from '../core/kafka-port.ts';
import type { Logger } from '../core/logger.ts';
import type { DevicePublish, PublishSink } from '../core/publish-sink.ts';
import { buildRecord } from './record-builder.ts';
import type { IngestConfig } from './ingest-config.ts';
import { createTopicMapper } from './topic-mapping.ts';

export interface KafkaBridge extends PublishSink {
  start(): Promise<void>;
  stop(): Promise<void>;
}

/** The topics Tributary owns, with their layout. The device registry is compacted: latest record per device. */
export function tributaryTopicSpecs(config: Pick<IngestConfig, 'topics' | 'dataTopicPartitions' | 'replicationFactor'>): TopicSpec[] {
  const { topics, dataTopicPartitions: partitions, replicationFactor } = config;
  return [
    { topic: topics.telemetry, partitions, replicationFactor },
    { topic: topics.events, partitions, replicationFactor },
    { topic: topics.deadLetter, partitions, replicationFactor },
    { topic: topics.alerts, partitions, replicationFactor },
    { topic: topics.devices, partitions: 1, replicationFactor, config: { 'cleanup.policy': 'compact' } },
  ];
}

export function createKafkaBridge(deps: { config: IngestConfig; gatewayId: string; producer: KafkaProducerPort; admin: KafkaAdminPort; logger: Logger }): KafkaBridge {
  const { config, producer, admin, gatewayId } = deps;
  const mapper = createTopicMapper(config.mappingRules);
  const logger = deps.logger.child({ component: 'bridge' });
  // A failure keeps the bridge unready for this long unless a later send succeeds, so readiness
  // recovers by itself even when no traffic arrives to prove Kafka is back.
  const failureMemoryMs = 15_000;

  return {
    async start() {
      await admin.ensureTopics(tributaryTopicSpecs(config));
      await producer.start();
      logger.info({ rules: config.mappingRules }, 'Kafka bridge ready');
    },
    routes: (mqttTopic) => mapper.map(mqttTopic) !== null,
    forward(publish: DevicePublish) {
      const kafkaTopic = mapper.map(publish.mqttTopic);
      if (kafkaTopic === null) return Promise.reject(new Error(`no mapping rule for ${publish.mqttTopic}`));
      return producer.send(buildRecord({ ...publish, gatewayId, kafkaTopic }));
    },
    pending: () => producer.stats().pending,
    problem() {
      const stats = producer.stats();
      const recent = stats.lastFailureAtMs !== null && Date.now() - stats.lastFailureAtMs < failureMemoryMs;
      return stats.consecutiveFailures > 0 && recent ? `Kafka sends failing: ${stats.lastError ?? 'unknown error'}` : null;
    },
    async stop() {
      try {
        await producer.stop();
      } finally {
        await admin.close();
      }
    },
  };
}
