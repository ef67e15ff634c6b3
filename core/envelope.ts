/**
 * The message envelope shared by every service: Kafka topic names, the record key convention and the
 * header names the bridge writes. Changing a name here is a wire-format change: update README.md.
 */

/** Default Kafka topic names; each can be overridden by configuration. */
export const defaultTopics = {
  telemetry: 'iot.telemetry',
  events: 'iot.events',
  devices: 'iot.devices',
  deadLetter: 'iot.telemetry.dlq',
  alerts: 'iot.alerts',
  commands: 'iot.commands',
  commandEvents: 'iot.command-events',
  /** Job requests (replays, dead-letter re-drives), key = job id; the API's job runners consume it as one group. */
  jobs: 'iot.jobs',
  /** Compacted: each job's facts (its request, its runner's latest state, a cancellation), see core/job.ts. */
  jobState: 'iot.jobs.state',
  /** Job lifecycle events (accepted, started, progress, succeeded, failed, cancelled), key = job id. */
  jobEvents: 'iot.jobs.events',
  /** Compacted: the API's bearer tokens, stored hashed, key = token id. */
  apiTokens: 'iot.api-tokens',
} as const;

export type TopicRole = keyof typeof defaultTopics;
export type TopicNames = Record<TopicRole, string>;

/**
 * Headers written on every record the bridge produces. Values are UTF-8 strings.
 * The record key is always the device id, so each device's messages stay in one partition, in order.
 */
export const recordHeaders = {
  mqttTopic: 'mqtt.topic',
  mqttQos: 'mqtt.qos',
  mqttRetain: 'mqtt.retain',
  gatewayId: 'gateway.id',
  /** Gateway receive time, epoch milliseconds as a decimal string. */
  receivedAtMs: 'gateway.received_at_ms',
  contentType: 'content-type',
  /** Telemetry schema version ("1", "2") when the gateway could tell it cheaply; absent otherwise. */
  schemaVersion: 'schema.version',
} as const;

/** Headers added to a dead-lettered record, next to the original key, value and headers. */
export const deadLetterHeaders = {
  error: 'dlq.error',
  errorReason: 'dlq.reason',
  sourceTopic: 'dlq.source.topic',
  sourcePartition: 'dlq.source.partition',
  sourceOffset: 'dlq.source.offset',
  consumerGroup: 'dlq.consumer.group',
  failedAtMs: 'dlq.failed_at_ms',
} as const;
