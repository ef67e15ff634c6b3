/** Bridge settings: mapping rules, Kafka topics and producer tuning; their table and the IngestConfig read from it. */
import type { EnvReader } from '../core/config.ts';
import { defaultSendQueueBounds } from '../core/kafka-port.ts';
import type { TopicNames } from '../core/envelope.ts';

/** The topics the gateway and its bridge use. */
export type GatewayTopics = Pick<TopicNames, 'telemetry' | 'events' | 'devices' | 'deadLetter' | 'alerts' | 'commands' | 'commandEvents'>;
import { intSetting, oneOfSetting, optionalStringSetting, readSettings } from '../core/settings.ts';
import { sharedSettings, topicSettingsOf } from '../core/shared-settings.ts';
import { parseMappingRules, type MappingRule } from './topic-mapping.ts';

export interface IngestConfig {
  kafkaBrokers: string[];
  topics: GatewayTopics;
  mappingRules: MappingRule[];
  dataTopicPartitions: number;
  replicationFactor: number;
  sendTimeoutMs: number;
  lingerMs: number;
  maxBatchRecords: number;
  maxQueuedRecords: number;
  maxQueuedBytes: number;
  compression: 'none' | 'gzip' | 'snappy' | 'lz4' | 'zstd';
}

/** Every setting the bridge reads. */
export const ingestSettings = {
  kafkaBrokers: sharedSettings.kafkaBrokers,
  ...topicSettingsOf('telemetry', 'events', 'devices', 'deadLetter', 'alerts', 'commands', 'commandEvents'),
  mappingRules: optionalStringSetting({
    name: 'TRIBUTARY_MAPPING_RULES',
    defaultText: '<prefix>/+/telemetry=<telemetry topic>,<prefix>/+/events=<events topic>',
    help: 'MQTT filter=Kafka topic pairs, comma-separated, first match wins; the default follows TRIBUTARY_MQTT_TOPIC_PREFIX and the topic names',
  }),
  kafkaPartitions: sharedSettings.kafkaPartitions,
  replicationFactor: sharedSettings.replicationFactor,
  sendTimeoutMs: intSetting({ name: 'TRIBUTARY_KAFKA_SEND_TIMEOUT_MS', default: 10_000, min: 100, max: 120_000, help: 'a record not acknowledged by then fails: no PUBACK, connection closed; below the keepalive limit' }),
  lingerMs: intSetting({ name: 'TRIBUTARY_KAFKA_LINGER_MS', default: 3, min: 0, max: 1000, help: 'minimum spacing of produce requests while batches are not full: fewer, larger requests for a few ms of PUBACK latency (ADR 0027; 0 sends as soon as the previous request is answered); a record after a quiet spell is sent at once' }),
  maxBatchRecords: intSetting({ name: 'TRIBUTARY_KAFKA_MAX_BATCH_RECORDS', default: 2000, min: 1, help: "records per produce request; its bytes are capped by each topic's max.message.bytes, read from Kafka at start" }),
  maxQueuedRecords: intSetting({
    name: 'TRIBUTARY_KAFKA_MAX_QUEUED_RECORDS',
    default: defaultSendQueueBounds.maxQueuedRecords,
    min: 1,
    help: 'records waiting for Kafka (queued or in flight) at most; QoS 0 is dropped once half are used, QoS 1/2 wait for room (their devices stop being read at the gateway pending caps). The default is ~2.5 s of 20,000 msg/s',
  }),
  maxQueuedBytes: intSetting({
    name: 'TRIBUTARY_KAFKA_MAX_QUEUED_BYTES',
    default: defaultSendQueueBounds.maxQueuedBytes,
    min: 1024,
    help: 'the same in record bytes (payload, key, headers): what a flood of large payloads may hold in memory',
  }),
  compression: oneOfSetting({ name: 'TRIBUTARY_KAFKA_COMPRESSION', values: ['none', 'gzip', 'snappy', 'lz4', 'zstd'], default: 'none', help: 'produce request compression' }),
} as const;

/**
 * Reads the bridge's settings. `topicPrefix` is the gateway's device topic prefix: the default
 * mapping rules map `<prefix>/+/telemetry` and `<prefix>/+/events`, so changing the prefix alone
 * keeps publishes flowing.
 */
export function readIngestConfig(env: EnvReader, options: { topicPrefix: string }): IngestConfig {
  const { telemetry, events, devices, deadLetter, alerts, commands, commandEvents, ...s } = readSettings(env, ingestSettings);
  const topics: GatewayTopics = { telemetry, events, devices, deadLetter, alerts, commands, commandEvents };
  const { topicPrefix } = options;
  const parsed = parseMappingRules(s.mappingRules ?? `${topicPrefix}/+/telemetry=${telemetry},${topicPrefix}/+/events=${events}`);
  if (!parsed.ok) env.problem(`TRIBUTARY_MAPPING_RULES: ${parsed.reason}`);
  return {
    kafkaBrokers: s.kafkaBrokers,
    topics,
    mappingRules: parsed.ok ? parsed.value : [],
    dataTopicPartitions: s.kafkaPartitions,
    replicationFactor: s.replicationFactor,
    sendTimeoutMs: s.sendTimeoutMs,
    lingerMs: s.lingerMs,
    maxBatchRecords: s.maxBatchRecords,
    maxQueuedRecords: s.maxQueuedRecords,
    maxQueuedBytes: s.maxQueuedBytes,
    compression: s.compression,
  };
}
