/**
 * The bridge: maps an accepted device publish to a Kafka record (key = device id, value = payload
 * bytes unchanged, headers per core/envelope.ts) and hands it to the idempotent acks=all producer.
 * Creates the topics it writes to at start when they are absent, and reads their max.message.bytes
 * so the producer caps batches by bytes; a record too large for its topic is refused
 * (PublishRefusedError 'record_too_large'), never retried. QoS 0 records are sent sheddable: when the
 * producer's send queue is full they are refused ('queue_full') instead of waiting for room.
 */
import type { KafkaAdminPort, KafkaProducerPort } from '../core/kafka-port.ts';
import { topicSpecs } from '../core/topic-specs.ts';
import type { Logger } from '../core/logger.ts';
import { InfraError } from '../core/errors.ts';
import { PublishRefusedError, type PublishRoute, type PublishSink } from '../core/publish-sink.ts';
import { buildRecord } from './record-builder.ts';
import type { IngestConfig } from './ingest-config.ts';
import { createTopicMapper } from './topic-mapping.ts';

export interface KafkaBridge extends PublishSink {
  start(): Promise<void>;
  stop(): Promise<void>;
}

function refuseUnsendable(error: unknown): never {
  if (error instanceof InfraError && error.code === 'KAFKA_RECORD_TOO_LARGE') throw new PublishRefusedError('record_too_large', error.message, { cause: error });
  if (error instanceof InfraError && error.code === 'KAFKA_QUEUE_FULL') throw new PublishRefusedError('queue_full', error.message, { cause: error });
  throw error;
}

export function createKafkaBridge(deps: { config: IngestConfig; gatewayId: string; producer: KafkaProducerPort; admin: KafkaAdminPort; logger: Logger }): KafkaBridge {
  const { config, producer, admin, gatewayId } = deps;
  const mapper = createTopicMapper(config.mappingRules);
  // One route per Kafka topic, built once: routing a publish allocates nothing.
  const routes = new Map<string, PublishRoute>(
    config.mappingRules.map(({ kafkaTopic }) => [kafkaTopic, { forward: (publish) => producer.send(buildRecord({ ...publish, gatewayId, kafkaTopic }), { sheddable: publish.qos === 0 }).catch(refuseUnsendable) }]),
  );
  const logger = deps.logger.child({ component: 'bridge' });
  // A failure keeps the bridge unready for this long unless a later send succeeds, so readiness
  // recovers by itself even when no traffic arrives to prove Kafka is back.
  const failureMemoryMs = 15_000;

  return {
    async start() {
      await admin.ensureTopics(topicSpecs(config.topics, { partitions: config.dataTopicPartitions, replicationFactor: config.replicationFactor }));
      const limits = await admin.maxMessageBytes([...routes.keys()]);
      await producer.start({ maxMessageBytes: new Map(limits.map(({ topic, maxMessageBytes }) => [topic, maxMessageBytes])) });
      logger.info({ rules: config.mappingRules, maxMessageBytes: limits }, 'Kafka bridge ready');
    },
    route(mqttTopic) {
      const kafkaTopic = mapper.map(mqttTopic);
      return kafkaTopic === null ? null : (routes.get(kafkaTopic) ?? null);
    },
    problem() {
      const stats = producer.stats();
      const recent = stats.lastFailureAtMs !== null && Date.now() - stats.lastFailureAtMs < failureMemoryMs;
      return stats.consecutiveFailures > 0 && recent ? `Kafka sends failing: ${stats.lastError ?? 'unknown error'}` : null;
    },
    backlog() {
      const { pending, pendingBytes } = producer.stats();
      return { records: pending, bytes: pendingBytes };
    },
    produceRequests: () => producer.stats().requests,
    async stop() {
      try {
        await producer.stop();
      } finally {
        await admin.close();
      }
    },
  };
}
