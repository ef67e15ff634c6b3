/** Bridge settings: mapping rules, Kafka topics and producer tuning. */
import type { EnvReader } from '../core/config.ts';
import { defaultTopics, type TopicNames } from '../core/envelope.ts';
import { parseMappingRules, type MappingRule } from './topic-mapping.ts';

export interface IngestConfig {
  kafkaBrokers: string[];
  topics: TopicNames;
  mappingRules: MappingRule[];
  dataTopicPartitions: number;
  replicationFactor: number;
  sendTimeoutMs: number;
  lingerMs: number;
  maxBatchRecords: number;
  compression: 'none' | 'gzip' | 'snappy' | 'lz4' | 'zstd';
  /** Which Kafka client produces (see docs/adr/0005 and 0006). */
  producerClient: 'kafkajs' | 'platformatic';
}

export function readIngestConfig(env: EnvReader): IngestConfig {
  const topics: TopicNames = {
    telemetry: env.string('TRIBUTARY_TOPIC_TELEMETRY', defaultTopics.telemetry),
    events: env.string('TRIBUTARY_TOPIC_EVENTS', defaultTopics.events),
    devices: env.string('TRIBUTARY_TOPIC_DEVICES', defaultTopics.devices),
    deadLetter: env.string('TRIBUTARY_TOPIC_DEAD_LETTER', defaultTopics.deadLetter),
    alerts: env.string('TRIBUTARY_TOPIC_ALERTS', defaultTopics.alerts),
  };
  const rulesSpec = env.string('TRIBUTARY_MAPPING_RULES', `devices/+/telemetry=${topics.telemetry},devices/+/events=${topics.events}`);
  const parsed = parseMappingRules(rulesSpec);
  if (!parsed.ok) env.problem(`TRIBUTARY_MAPPING_RULES: ${parsed.reason}`);
  const config: IngestConfig = {
    kafkaBrokers: env.list('TRIBUTARY_KAFKA_BROKERS', ['127.0.0.1:19092']),
    topics,
    mappingRules: parsed.ok ? parsed.value : [],
    dataTopicPartitions: env.int('TRIBUTARY_KAFKA_PARTITIONS', 12, { min: 1, max: 10_000 }),
    replicationFactor: env.int('TRIBUTARY_KAFKA_REPLICATION_FACTOR', 1, { min: 1, max: 16 }),
    // Well below the MQTT keepalive (60 s typical): a device must learn of a failure long before it gives up.
    sendTimeoutMs: env.int('TRIBUTARY_KAFKA_SEND_TIMEOUT_MS', 10_000, { min: 100, max: 120_000 }),
    lingerMs: env.int('TRIBUTARY_KAFKA_LINGER_MS', 0, { min: 0, max: 1000 }),
    maxBatchRecords: env.int('TRIBUTARY_KAFKA_MAX_BATCH_RECORDS', 2000, { min: 1 }),
    compression: env.oneOf('TRIBUTARY_KAFKA_COMPRESSION', ['none', 'gzip', 'snappy', 'lz4', 'zstd'], 'none'),
    producerClient: env.oneOf('TRIBUTARY_KAFKA_PRODUCER', ['kafkajs', 'platformatic'], 'platformatic'),
  };
  if (config.kafkaBrokers.length === 0) env.problem('TRIBUTARY_KAFKA_BROKERS: at least one broker is required');
  return config;
}
