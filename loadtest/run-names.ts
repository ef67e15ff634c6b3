/**
 * One benchmark run's own names and the environment of its gateway and enricher children, so runs
 * (and a test run beside a benchmark) never share a topic, a consumer group or a table. Pure.
 */

/**
 * Partitions of a run's data topics unless told otherwise: 4, enough for 4 enricher replicas. The
 * product creates 12 (TRIBUTARY_KAFKA_PARTITIONS) for room to scale out; on the 2-core box that runs
 * everything, 12 cost Kafka and QuestDB more per message than 4 (BENCHMARKS.md, "Partitions").
 */
export const benchPartitions = 4;

export interface RunNames {
  runId: string;
  telemetryTopic: string;
  devicesTopic: string;
  deadLetterTopic: string;
  table: string;
  tablePrefix: string;
  consumerGroup: string;
  /** Every Kafka topic of the run starts with it (the API bench's companion topics too). */
  topicPrefix: string;
}

export function runNames(runId: string): RunNames {
  return {
    runId,
    telemetryTopic: `bench.${runId}.telemetry`,
    devicesTopic: `bench.${runId}.devices`,
    deadLetterTopic: `bench.${runId}.dlq`,
    table: `bench_${runId}_readings`,
    tablePrefix: `bench_${runId}_`,
    consumerGroup: `bench-${runId}-enrich`,
    topicPrefix: `bench.${runId}.`,
  };
}

/** Environment for `tributary gateway` and `tributary enrich` of one run (extra entries win). */
export function pipelineEnv(
  names: RunNames,
  settings: { kafkaBrokers: readonly string[]; replicationFactor: number; partitions?: number; questdbHttpUrl: string; mqttPort: number; gatewayHttpPort: number; enrichHttpPort: number },
  extra: { gateway?: Record<string, string>; enrich?: Record<string, string> } = {},
): { gateway: Record<string, string>; enrich: Record<string, string> } {
  const shared = {
    TRIBUTARY_KAFKA_BROKERS: settings.kafkaBrokers.join(','),
    TRIBUTARY_KAFKA_REPLICATION_FACTOR: String(settings.replicationFactor),
    ...(settings.partitions !== undefined && { TRIBUTARY_KAFKA_PARTITIONS: String(settings.partitions) }),
    TRIBUTARY_TOPIC_TELEMETRY: names.telemetryTopic,
    TRIBUTARY_TOPIC_EVENTS: `${names.topicPrefix}events`,
    TRIBUTARY_TOPIC_DEVICES: names.devicesTopic,
    TRIBUTARY_TOPIC_DEAD_LETTER: names.deadLetterTopic,
    TRIBUTARY_TOPIC_ALERTS: `${names.topicPrefix}alerts`,
    TRIBUTARY_HTTP_HOST: '127.0.0.1',
    LOG_LEVEL: 'warn',
  };
  return {
    gateway: {
      ...shared,
      TRIBUTARY_GATEWAY_ID: `bench-${names.runId}`,
      TRIBUTARY_MQTT_HOST: '127.0.0.1',
      TRIBUTARY_MQTT_TCP_PORT: String(settings.mqttPort),
      TRIBUTARY_MQTT_WS_ENABLED: 'false',
      TRIBUTARY_GATEWAY_HTTP_PORT: String(settings.gatewayHttpPort),
      ...extra.gateway,
    },
    enrich: {
      ...shared,
      TRIBUTARY_QUESTDB_URL: settings.questdbHttpUrl,
      TRIBUTARY_QUESTDB_TABLE_PREFIX: names.tablePrefix,
      TRIBUTARY_ENRICH_GROUP: names.consumerGroup,
      TRIBUTARY_ENRICH_HTTP_PORT: String(settings.enrichHttpPort),
      ...extra.enrich,
    },
  };
}
