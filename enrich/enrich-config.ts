/** Enricher settings, read from the environment through the entry point's EnvReader. */
import type { EnvReader } from '../core/config.ts';
import { defaultTopics } from '../core/envelope.ts';
import type { BackoffOptions } from '../core/retry.ts';
import { parseAlertRules, type AlertRule } from './alert-rules.ts';
import type { UnknownDevicePolicy } from './enrichment.ts';
import { validateTablePrefix } from './questdb-schema.ts';

export interface QuestdbConfig {
  /** `http://host:port` of QuestDB's HTTP server (ILP/HTTP writes and /exec). */
  url: string;
  /** '' or an identifier prefix for the table names, e.g. `test_` → `test_readings`. */
  tablePrefix: string;
  /** Rows per ILP/HTTP request; each request is one QuestDB transaction. */
  maxRowsPerWrite: number;
  /** Bound on one write request, including the client's own retries of 5xx answers. */
  requestTimeoutMs: number;
}

export interface EnrichConfig {
  groupId: string;
  /** Partitions whose batches are processed at once (each partition stays in order). */
  partitionsConcurrently: number;
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
  /** Backoff between attempts while QuestDB or Kafka fail inside a batch. */
  retry: BackoffOptions;
  /** Health and metrics port; 0 picks a free one. */
  httpPort: number;
}

/** Reads every enricher setting; problems are recorded on `env` and reported together by `env.finish()`. */
export function readEnrichConfig(env: EnvReader): EnrichConfig {
  const questdbUrl = env.string('TRIBUTARY_QUESTDB_URL', 'http://127.0.0.1:19000');
  const tablePrefix = env.string('TRIBUTARY_QUESTDB_TABLE_PREFIX', '');
  const alertSpec = env.string('TRIBUTARY_ENRICH_ALERT_RULES', '');
  const config: EnrichConfig = {
    groupId: env.string('TRIBUTARY_ENRICH_GROUP', 'tributary-enrich'),
    partitionsConcurrently: env.int('TRIBUTARY_ENRICH_PARTITIONS_CONCURRENTLY', 12, { min: 1, max: 1000 }),
    topics: {
      telemetry: env.string('TRIBUTARY_TOPIC_TELEMETRY', defaultTopics.telemetry),
      devices: env.string('TRIBUTARY_TOPIC_DEVICES', defaultTopics.devices),
      deadLetter: env.string('TRIBUTARY_TOPIC_DEAD_LETTER', defaultTopics.deadLetter),
      alerts: env.string('TRIBUTARY_TOPIC_ALERTS', defaultTopics.alerts),
    },
    questdb: {
      url: questdbUrl,
      tablePrefix,
      maxRowsPerWrite: env.int('TRIBUTARY_QUESTDB_MAX_ROWS_PER_WRITE', 20_000, { min: 1, max: 1_000_000 }),
      // Below the consumer's 30 s session timeout: the worker heartbeats only between attempts.
      requestTimeoutMs: env.int('TRIBUTARY_QUESTDB_REQUEST_TIMEOUT_MS', 10_000, { min: 100, max: 25_000 }),
    },
    unknownDevicePolicy: env.oneOf('TRIBUTARY_ENRICH_UNKNOWN_DEVICES', ['dead-letter', 'store-unknown'], 'dead-letter'),
    alertRules: [],
    silenceAfterMs: env.int('TRIBUTARY_ENRICH_SILENCE_AFTER_MS', 300_000, { min: 1000 }),
    silenceCheckIntervalMs: env.int('TRIBUTARY_ENRICH_SILENCE_CHECK_INTERVAL_MS', 10_000, { min: 100 }),
    completenessSnapshotIntervalMs: env.int('TRIBUTARY_ENRICH_COMPLETENESS_INTERVAL_MS', 60_000, { min: 100 }),
    lagPollIntervalMs: env.int('TRIBUTARY_ENRICH_LAG_POLL_INTERVAL_MS', 15_000, { min: 100 }),
    retry: {
      minDelayMs: env.int('TRIBUTARY_ENRICH_RETRY_MIN_MS', 200, { min: 1 }),
      maxDelayMs: env.int('TRIBUTARY_ENRICH_RETRY_MAX_MS', 10_000, { min: 1 }),
    },
    httpPort: env.int('TRIBUTARY_ENRICH_HTTP_PORT', 9465, { min: 0, max: 65535 }),
  };

  const url = parseHttpUrl(questdbUrl);
  if (url === null) env.problem(`TRIBUTARY_QUESTDB_URL=${JSON.stringify(questdbUrl)}: expected http://host:port`);
  else config.questdb.url = url;
  if (!validateTablePrefix(tablePrefix).ok) {
    env.problem(`TRIBUTARY_QUESTDB_TABLE_PREFIX=${JSON.stringify(tablePrefix)}: letters, digits and _ only, not starting with a digit, at most 64`);
  }
  const rules = parseAlertRules(alertSpec);
  if (rules.ok) config.alertRules = rules.value;
  else env.problem(`TRIBUTARY_ENRICH_ALERT_RULES: ${rules.detail ?? rules.reason}`);
  if (config.retry.minDelayMs > config.retry.maxDelayMs) {
    env.problem('TRIBUTARY_ENRICH_RETRY_MIN_MS must not exceed TRIBUTARY_ENRICH_RETRY_MAX_MS');
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
