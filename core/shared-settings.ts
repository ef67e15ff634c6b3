/**
 * Settings more than one process reads, defined once: Kafka brokers, topic names and layout, the
 * HTTP host, the shutdown deadline and the log level. Every process table takes these entries
 * instead of declaring its own.
 */
import { defaultTopics, type TopicRole } from './envelope.ts';
import { hostPortListSetting, intSetting, oneOfSetting, stringSetting, type Setting } from './settings.ts';

/** The Kafka topic of each role (`readSettings(env, topicSettings)` gives a TopicNames). */
export const topicSettings: { readonly [R in TopicRole]: Setting<string> } = {
  telemetry: stringSetting({ name: 'TRIBUTARY_TOPIC_TELEMETRY', default: defaultTopics.telemetry, help: 'Kafka topic for device telemetry' }),
  events: stringSetting({ name: 'TRIBUTARY_TOPIC_EVENTS', default: defaultTopics.events, help: 'Kafka topic for device events' }),
  devices: stringSetting({ name: 'TRIBUTARY_TOPIC_DEVICES', default: defaultTopics.devices, help: 'compacted Kafka topic of the device registry' }),
  deadLetter: stringSetting({ name: 'TRIBUTARY_TOPIC_DEAD_LETTER', default: defaultTopics.deadLetter, help: "Kafka topic for the enrichers' dead letters" }),
  alerts: stringSetting({ name: 'TRIBUTARY_TOPIC_ALERTS', default: defaultTopics.alerts, help: 'Kafka topic for alert events' }),
  commands: stringSetting({ name: 'TRIBUTARY_TOPIC_COMMANDS', default: defaultTopics.commands, help: 'Kafka topic of commands to devices (key = device id)' }),
  commandEvents: stringSetting({ name: 'TRIBUTARY_TOPIC_COMMAND_EVENTS', default: defaultTopics.commandEvents, help: 'Kafka topic of what happened to each command (key = command id)' }),
  jobs: stringSetting({ name: 'TRIBUTARY_TOPIC_JOBS', default: defaultTopics.jobs, help: "Kafka topic of job requests (replays, dead-letter re-drives) the API's runners consume" }),
  jobState: stringSetting({ name: 'TRIBUTARY_TOPIC_JOB_STATE', default: defaultTopics.jobState, help: 'compacted Kafka topic holding every job\'s request and state' }),
  jobEvents: stringSetting({ name: 'TRIBUTARY_TOPIC_JOB_EVENTS', default: defaultTopics.jobEvents, help: 'Kafka topic of job lifecycle events (key = job id)' }),
  apiTokens: stringSetting({ name: 'TRIBUTARY_TOPIC_API_TOKENS', default: defaultTopics.apiTokens, help: "compacted Kafka topic of the API's bearer tokens (stored hashed)" }),
};

/** The settings of some topic roles, for a process that uses only those. */
export function topicSettingsOf<R extends TopicRole>(...roles: R[]): { [K in R]: Setting<string> } {
  return Object.fromEntries(roles.map((role) => [role, topicSettings[role]])) as { [K in R]: Setting<string> };
}

/** pino's levels, most verbose first; `silent` logs nothing. */
const logLevels = ['trace', 'debug', 'info', 'warn', 'error', 'fatal', 'silent'] as const;

/** LOG_LEVEL with the default a command wants (services `info`, operator tools `warn`). */
export function logLevelSetting(fallback: (typeof logLevels)[number]): Setting<string> {
  return oneOfSetting({ name: 'LOG_LEVEL', values: logLevels, default: fallback, help: 'pino log level (debug for per-batch detail)' });
}

/** The shared process settings; a process table takes the entries it reads. */
export const sharedSettings = {
  kafkaBrokers: hostPortListSetting({ name: 'TRIBUTARY_KAFKA_BROKERS', default: ['127.0.0.1:19092'], help: 'Kafka bootstrap servers, comma-separated' }),
  kafkaPartitions: intSetting({ name: 'TRIBUTARY_KAFKA_PARTITIONS', default: 12, min: 1, max: 10_000, help: 'partitions of the data topics Tributary creates' }),
  replicationFactor: intSetting({ name: 'TRIBUTARY_KAFKA_REPLICATION_FACTOR', default: 1, min: 1, max: 16, help: 'replication of the topics Tributary creates (3 in production)' }),
  httpHost: stringSetting({ name: 'TRIBUTARY_HTTP_HOST', default: '0.0.0.0', help: 'address the health and metrics endpoint binds' }),
  // Below Kubernetes' default 30 s grace period, so a stop finishes before the pod is killed.
  shutdownDeadlineMs: intSetting({ name: 'TRIBUTARY_SHUTDOWN_DEADLINE_MS', default: 25_000, min: 1000, help: 'hard deadline for a graceful stop' }),
  logLevel: logLevelSetting('info'),
  // The enricher writes the prefixed tables, the API reads them.
  questdbTablePrefix: stringSetting({ name: 'TRIBUTARY_QUESTDB_TABLE_PREFIX', default: '', allowed: 'letters, digits, _; not starting with a digit; ≤ 64', help: 'prefix for the table names' }),
} as const;
