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
  eventsTopic: string;
  devicesTopic: string;
  deadLetterTopic: string;
  alertsTopic: string;
  table: string;
  tablePrefix: string;
  consumerGroup: string;
  /** Every Kafka topic of the run starts with it (the API bench's companion topics too). */
  topicPrefix: string;
  gatewayId: string;
}

export function runNames(runId: string): RunNames {
  const topicPrefix = `bench.${runId}.`;
  const tablePrefix = `bench_${runId}_`;
  return {
    runId,
    telemetryTopic: `${topicPrefix}telemetry`,
    eventsTopic: `${topicPrefix}events`,
    devicesTopic: `${topicPrefix}devices`,
    deadLetterTopic: `${topicPrefix}dlq`,
    alertsTopic: `${topicPrefix}alerts`,
    table: `${tablePrefix}readings`,
    tablePrefix,
    consumerGroup: `bench-${runId}-enrich`,
    topicPrefix,
    gatewayId: `bench-${runId}`,
  };
}

/** The settings that point a gateway or an enricher at the run's own topics. */
export function runTopicsEnv(names: RunNames): Record<string, string> {
  return {
    TRIBUTARY_TOPIC_TELEMETRY: names.telemetryTopic,
    TRIBUTARY_TOPIC_EVENTS: names.eventsTopic,
    TRIBUTARY_TOPIC_DEVICES: names.devicesTopic,
    TRIBUTARY_TOPIC_DEAD_LETTER: names.deadLetterTopic,
    TRIBUTARY_TOPIC_ALERTS: names.alertsTopic,
  };
}

interface SharedSettings {
  kafkaBrokers: readonly string[];
  /** Unset: the product's default. */
  replicationFactor?: number;
  partitions?: number;
}

function sharedEnv(names: RunNames, settings: SharedSettings): Record<string, string> {
  return {
    TRIBUTARY_KAFKA_BROKERS: settings.kafkaBrokers.join(','),
    ...(settings.replicationFactor !== undefined && { TRIBUTARY_KAFKA_REPLICATION_FACTOR: String(settings.replicationFactor) }),
    ...(settings.partitions !== undefined && { TRIBUTARY_KAFKA_PARTITIONS: String(settings.partitions) }),
    ...runTopicsEnv(names),
    TRIBUTARY_HTTP_HOST: '127.0.0.1',
    LOG_LEVEL: 'warn',
  };
}

/** Environment for the `tributary gateway` of one run, on loopback, MQTT over TCP only (extra entries win). */
export function gatewayEnv(names: RunNames, settings: SharedSettings & { mqttPort: number; gatewayHttpPort: number }, extra: Record<string, string> = {}): Record<string, string> {
  return {
    ...sharedEnv(names, settings),
    TRIBUTARY_GATEWAY_ID: names.gatewayId,
    TRIBUTARY_MQTT_HOST: '127.0.0.1',
    TRIBUTARY_MQTT_TCP_PORT: String(settings.mqttPort),
    TRIBUTARY_MQTT_WS_ENABLED: 'false',
    TRIBUTARY_GATEWAY_HTTP_PORT: String(settings.gatewayHttpPort),
    ...extra,
  };
}

/** Environment for `tributary gateway` and `tributary enrich` of one run (extra entries win). */
export function pipelineEnv(
  names: RunNames,
  settings: SharedSettings & { replicationFactor: number; questdbHttpUrl: string; mqttPort: number; gatewayHttpPort: number; enrichHttpPort: number },
  extra: { gateway?: Record<string, string>; enrich?: Record<string, string> } = {},
): { gateway: Record<string, string>; enrich: Record<string, string> } {
  return {
    gateway: gatewayEnv(names, settings, extra.gateway),
    enrich: {
      ...sharedEnv(names, settings),
      TRIBUTARY_QUESTDB_URL: settings.questdbHttpUrl,
      TRIBUTARY_QUESTDB_TABLE_PREFIX: names.tablePrefix,
      TRIBUTARY_ENRICH_GROUP: names.consumerGroup,
      TRIBUTARY_ENRICH_HTTP_PORT: String(settings.enrichHttpPort),
      ...extra.enrich,
    },
  };
}
