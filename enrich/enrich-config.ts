/** Enricher settings: their table, and the EnrichConfig read from it through the entry point's EnvReader. */
import { hostname } from 'node:os';
import type { EnvReader } from '../core/config.ts';
import { consumerHeartbeatIntervalMs, consumerSessionTimeoutMs } from '../core/kafka-port.ts';
import { validateTablePrefix } from '../core/questdb-tables.ts';
import { intSetting, oneOfSetting, optionalStringSetting, readSettings, stringSetting } from '../core/settings.ts';
import { sharedSettings, topicSettingsOf } from '../core/shared-settings.ts';
import type { BackoffOptions } from '../core/retry.ts';
import { parseAlertRules, type AlertRule } from './alert-rules.ts';
import type { UnknownDevicePolicy } from './enrichment.ts';

export interface QuestdbConfig {
  /** `http://host:port` of QuestDB's HTTP server (ILP/HTTP writes and /exec). */
  url: string;
  /** '' or an identifier prefix for the table names, e.g. `test_` → `test_readings`. */
  tablePrefix: string;
  /** Rows per ILP/HTTP request; each request is one QuestDB transaction. */
  maxRowsPerWrite: number;
  /** Bound on one write request (the client itself does not retry: the worker's retry heartbeats between attempts). */
  requestTimeoutMs: number;
}

/** Time one attempt of a batch step plus its backoff may take: the consumer session less one heartbeat interval. */
const stepBudgetMs = consumerSessionTimeoutMs - consumerHeartbeatIntervalMs;

export interface EnrichConfig {
  groupId: string;
  /** This enricher's name in its Kafka client id. */
  instanceId: string;
  kafkaBrokers: string[];
  /** Partitions of the telemetry, dead-letter and alert topics when the enricher creates them. */
  telemetryPartitions: number;
  replicationFactor: number;
  /** Partitions whose batches are processed at once (each partition stays in order). */
  partitionsConcurrently: number;
  /** A fetch waits for this much new data or maxWaitMs: fewer, larger QuestDB transactions (docs/questdb-tuning.md). */
  fetch: { minBytes: number; maxWaitMs: number; idleMaxWaitMs: number };
  topics: { telemetry: string; devices: string; deadLetter: string; alerts: string };
  questdb: QuestdbConfig;
  unknownDevicePolicy: UnknownDevicePolicy;
  alertRules: AlertRule[];
  /** A device not heard from for this long (gateway receive time) raises device_silent. */
  silenceAfterMs: number;
  silenceCheckIntervalMs: number;
  /** How often the per-device completeness counters are written to QuestDB. */
  completenessSnapshotIntervalMs: number;
  /** How often consumer lag per partition is read for the metrics. */
  lagPollIntervalMs: number;
  /** How often QuestDB is asked whether it suspended one of our tables (which is then resumed). */
  tableCheckIntervalMs: number;
  /** Bound on one dead-letter or alert send, derived so that it plus the longest backoff fits the session. */
  publishTimeoutMs: number;
  /** Backoff between attempts while QuestDB or Kafka fail inside a batch. */
  retry: BackoffOptions;
  /** Health and metrics port; 0 picks a free one. */
  httpPort: number;
}

/** Every setting an enricher reads (the process adds the shared ones). */
export const enrichSettings = {
  kafkaBrokers: sharedSettings.kafkaBrokers,
  questdbUrl: stringSetting({ name: 'TRIBUTARY_QUESTDB_URL', default: 'http://127.0.0.1:19000', help: 'QuestDB HTTP (ILP/HTTP writes and DDL), http://host:port' }),
  tablePrefix: sharedSettings.questdbTablePrefix,
  maxRowsPerWrite: intSetting({ name: 'TRIBUTARY_QUESTDB_MAX_ROWS_PER_WRITE', default: 20_000, min: 1, max: 1_000_000, help: 'rows per ILP/HTTP request (one QuestDB transaction)' }),
  requestTimeoutMs: intSetting({ name: 'TRIBUTARY_QUESTDB_REQUEST_TIMEOUT_MS', default: 5000, min: 100, max: stepBudgetMs - 1, help: `one write request; plus TRIBUTARY_ENRICH_RETRY_MAX_MS at most ${stepBudgetMs} (the consumer session less a heartbeat interval)` }),
  groupId: stringSetting({ name: 'TRIBUTARY_ENRICH_GROUP', default: 'tributary-enrich', help: 'consumer group; enrichers with the same group share the partitions' }),
  instanceId: optionalStringSetting({ name: 'TRIBUTARY_ENRICH_ID', defaultText: '<hostname>-<pid>', help: "this enricher's name in its Kafka client id" }),
  partitionsConcurrently: intSetting({ name: 'TRIBUTARY_ENRICH_PARTITIONS_CONCURRENTLY', default: 12, min: 1, max: 1000, help: 'partitions whose batches are processed at once (each stays in order)' }),
  fetchMinBytes: intSetting({ name: 'TRIBUTARY_ENRICH_FETCH_MIN_BYTES', default: 262_144, min: 1, max: 52_428_800, help: 'a fetch waits for this much new telemetry (or the max wait): fewer, larger QuestDB transactions' }),
  fetchMaxWaitMs: intSetting({ name: 'TRIBUTARY_ENRICH_FETCH_MAX_WAIT_MS', default: 50, min: 1, max: 5000, help: 'the longest a fetch waits for TRIBUTARY_ENRICH_FETCH_MIN_BYTES; adds up to this much to publish→queryable' }),
  fetchIdleWaitMs: intSetting({ name: 'TRIBUTARY_ENRICH_FETCH_IDLE_WAIT_MS', default: 1000, min: 1, max: 10_000, help: 'once fetches come back empty, a fetch asks for 1 byte and waits up to this long (answered as soon as a record arrives): at rest one fetch per broker per this interval' }),
  ...topicSettingsOf('telemetry', 'devices', 'deadLetter', 'alerts'),
  kafkaPartitions: sharedSettings.kafkaPartitions,
  replicationFactor: sharedSettings.replicationFactor,
  unknownDevicePolicy: oneOfSetting({ name: 'TRIBUTARY_ENRICH_UNKNOWN_DEVICES', values: ['dead-letter', 'store-unknown'], default: 'dead-letter', help: 'what to do with readings of unregistered devices (store-unknown tags site/model unknown)' }),
  alertRules: stringSetting({ name: 'TRIBUTARY_ENRICH_ALERT_RULES', default: '', help: 'threshold rules, e.g. temperature>80,battery<10 (canonical units)' }),
  silenceAfterMs: intSetting({ name: 'TRIBUTARY_ENRICH_SILENCE_AFTER_MS', default: 300_000, min: 1000, help: 'a device unheard for this long raises device_silent' }),
  silenceCheckIntervalMs: intSetting({ name: 'TRIBUTARY_ENRICH_SILENCE_CHECK_INTERVAL_MS', default: 10_000, min: 100, help: 'how often silent devices are looked for' }),
  completenessIntervalMs: intSetting({ name: 'TRIBUTARY_ENRICH_COMPLETENESS_INTERVAL_MS', default: 60_000, min: 100, help: 'how often per-device completeness is written to QuestDB' }),
  lagPollIntervalMs: intSetting({ name: 'TRIBUTARY_ENRICH_LAG_POLL_INTERVAL_MS', default: 15_000, min: 100, help: 'how often consumer lag per partition is read for the metrics' }),
  tableCheckIntervalMs: intSetting({ name: 'TRIBUTARY_ENRICH_TABLE_CHECK_INTERVAL_MS', default: 10_000, min: 100, help: 'how often to look for our QuestDB tables suspended by a failed WAL apply (e.g. disk full) and resume them' }),
  retryMinMs: intSetting({ name: 'TRIBUTARY_ENRICH_RETRY_MIN_MS', default: 200, min: 1, help: 'shortest backoff while QuestDB or Kafka fail' }),
  retryMaxMs: intSetting({ name: 'TRIBUTARY_ENRICH_RETRY_MAX_MS', default: 4000, min: 1, help: 'longest backoff while QuestDB or Kafka fail; see TRIBUTARY_QUESTDB_REQUEST_TIMEOUT_MS' }),
  httpPort: intSetting({ name: 'TRIBUTARY_ENRICH_HTTP_PORT', default: 9465, min: 0, max: 65535, help: 'health and metrics port, 0 = any free port' }),
} as const;

/** Reads every enricher setting; problems are recorded on `env` and reported together by `env.finish()`. */
export function readEnrichConfig(env: EnvReader): EnrichConfig {
  const s = readSettings(env, enrichSettings);
  const config: EnrichConfig = {
    groupId: s.groupId,
    instanceId: s.instanceId ?? `${hostname()}-${process.pid}`,
    kafkaBrokers: s.kafkaBrokers,
    telemetryPartitions: s.kafkaPartitions,
    replicationFactor: s.replicationFactor,
    partitionsConcurrently: s.partitionsConcurrently,
    fetch: { minBytes: s.fetchMinBytes, maxWaitMs: s.fetchMaxWaitMs, idleMaxWaitMs: s.fetchIdleWaitMs },
    topics: { telemetry: s.telemetry, devices: s.devices, deadLetter: s.deadLetter, alerts: s.alerts },
    questdb: { url: s.questdbUrl, tablePrefix: s.tablePrefix, maxRowsPerWrite: s.maxRowsPerWrite, requestTimeoutMs: s.requestTimeoutMs },
    // Whatever the longest backoff leaves of the step budget: a dead-letter or alert send must not cost the partitions either.
    publishTimeoutMs: Math.max(s.requestTimeoutMs, stepBudgetMs - s.retryMaxMs),
    unknownDevicePolicy: s.unknownDevicePolicy,
    alertRules: [],
    silenceAfterMs: s.silenceAfterMs,
    silenceCheckIntervalMs: s.silenceCheckIntervalMs,
    completenessSnapshotIntervalMs: s.completenessIntervalMs,
    lagPollIntervalMs: s.lagPollIntervalMs,
    tableCheckIntervalMs: s.tableCheckIntervalMs,
    retry: { minDelayMs: s.retryMinMs, maxDelayMs: s.retryMaxMs },
    httpPort: s.httpPort,
  };

  const url = parseHttpUrl(s.questdbUrl);
  if (url === null) env.problem(`TRIBUTARY_QUESTDB_URL=${JSON.stringify(s.questdbUrl)}: expected http://host:port`);
  else config.questdb.url = url;
  if (!validateTablePrefix(s.tablePrefix).ok) {
    env.problem(`TRIBUTARY_QUESTDB_TABLE_PREFIX=${JSON.stringify(s.tablePrefix)}: letters, digits and _ only, not starting with a digit, at most 64`);
  }
  const rules = parseAlertRules(s.alertRules);
  if (rules.ok) config.alertRules = rules.value;
  else env.problem(`TRIBUTARY_ENRICH_ALERT_RULES: ${rules.detail ?? rules.reason}`);
  if (config.retry.minDelayMs > config.retry.maxDelayMs) {
    env.problem('TRIBUTARY_ENRICH_RETRY_MIN_MS must not exceed TRIBUTARY_ENRICH_RETRY_MAX_MS');
  }
  if (s.requestTimeoutMs + s.retryMaxMs > stepBudgetMs) {
    env.problem(
      `TRIBUTARY_QUESTDB_REQUEST_TIMEOUT_MS (${s.requestTimeoutMs}) + TRIBUTARY_ENRICH_RETRY_MAX_MS (${s.retryMaxMs}) must be at most ${stepBudgetMs} ms: ` +
        `the worker heartbeats only between attempts, and the consumer session (${consumerSessionTimeoutMs} ms, heartbeats every ${consumerHeartbeatIntervalMs} ms) would expire`,
    );
  }
  const topicNames = Object.values(config.topics);
  if (new Set(topicNames).size !== topicNames.length) env.problem(`the enricher's topics must differ: ${topicNames.join(', ')}`);
  return config;
}


/** `http://host:port` (path, query and credentials refused), normalised without a trailing slash; null if invalid. */
function parseHttpUrl(text: string): string | null {
  let url: URL;
  try {
    url = new URL(text);
  } catch {
    return null;
  }
  if (url.protocol !== 'http:' || url.port === '' || url.username !== '' || url.password !== '') return null;
  if ((url.pathname !== '/' && url.pathname !== '') || url.search !== '' || url.hash !== '') return null;
  return `http://${url.host}`;
}
