/**
 * `tributary enrich`: one enricher process: the device registry, the consumer-group worker that
 * writes telemetry to QuestDB, the producer for dead letters and alerts, and the health/metrics endpoint.
 */
import { hostname } from 'node:os';
import { Registry, collectDefaultMetrics } from 'prom-client';
import { createEnvReader, type EnvReader } from '../../core/config.ts';
import { createDeviceRegistry } from '../../core/device-registry.ts';
import { createHealthServer } from '../../core/health-server.ts';
import { createShutdown, runUntilSignal, type StopStep } from '../../core/lifecycle.ts';
import { topicSpecs } from '../../core/topic-specs.ts';
import { createLogger, type Logger } from '../../core/logger.ts';
import { readEnrichConfig, type EnrichConfig } from '../../enrich/enrich-config.ts';
import { createEnrichWorker, type EnrichWorker } from '../../enrich/enrich-worker.ts';
import { createQuestdbWriter } from '../../enrich/questdb-writer.ts';
import { createKafkajsClientFactory } from '../../kafka/kafkajs-client.ts';
import { superviseParent } from '../child-service.ts';
import { parseCommandArgs } from '../cli-args.ts';

const help = `Usage: tributary enrich [options]

Consumes telemetry from Kafka in a consumer group, decodes and enriches it with the device
registry, writes it to QuestDB (ILP/HTTP) and commits offsets only after QuestDB acknowledged the
rows. Refused records go to the dead-letter topic, alerts to the alerts topic.
Health: /livez, /readyz; Prometheus: /metrics.

Environment (defaults in brackets):
  TRIBUTARY_KAFKA_BROKERS                 host:port list [127.0.0.1:19092]
  TRIBUTARY_QUESTDB_URL                   QuestDB HTTP [http://127.0.0.1:19000]
  TRIBUTARY_QUESTDB_TABLE_PREFIX          table name prefix ['']
  TRIBUTARY_QUESTDB_MAX_ROWS_PER_WRITE    rows per ILP/HTTP request [20000]
  TRIBUTARY_QUESTDB_REQUEST_TIMEOUT_MS    one write request [10000]
  TRIBUTARY_ENRICH_GROUP                  consumer group [tributary-enrich]
  TRIBUTARY_ENRICH_UNKNOWN_DEVICES        dead-letter | store-unknown [dead-letter]
  TRIBUTARY_ENRICH_ALERT_RULES            e.g. temperature>80,battery<10 ['']
  TRIBUTARY_ENRICH_SILENCE_AFTER_MS       device_silent after this long unheard [300000]
  TRIBUTARY_ENRICH_HTTP_PORT              health/metrics port, 0 = any [9465]
  TRIBUTARY_ENRICH_RETRY_MIN_MS / _MAX_MS backoff while QuestDB or Kafka fail [200 / 10000]
  TRIBUTARY_TOPIC_TELEMETRY, _DEVICES, _DEAD_LETTER, _ALERTS   topic names
  TRIBUTARY_KAFKA_PARTITIONS, TRIBUTARY_KAFKA_REPLICATION_FACTOR   for topics created at start [12, 1]
  LOG_LEVEL [info], TRIBUTARY_SHUTDOWN_DEADLINE_MS [30000]

Options:
  -h, --help    this help
`;

export interface EnrichSettings {
  enrich: EnrichConfig;
  instanceId: string;
  kafkaBrokers: string[];
  telemetryPartitions: number;
  replicationFactor: number;
  sendTimeoutMs: number;
  httpHost: string;
  logLevel: string;
  shutdownDeadlineMs: number;
}

export function readEnrichSettings(env: EnvReader): EnrichSettings {
  const settings: EnrichSettings = {
    enrich: readEnrichConfig(env),
    instanceId: env.string('TRIBUTARY_ENRICH_ID', `${hostname()}-${process.pid}`),
    kafkaBrokers: env.list('TRIBUTARY_KAFKA_BROKERS', ['127.0.0.1:19092']),
    telemetryPartitions: env.int('TRIBUTARY_KAFKA_PARTITIONS', 12, { min: 1, max: 10_000 }),
    replicationFactor: env.int('TRIBUTARY_KAFKA_REPLICATION_FACTOR', 1, { min: 1, max: 16 }),
    sendTimeoutMs: env.int('TRIBUTARY_KAFKA_SEND_TIMEOUT_MS', 10_000, { min: 100, max: 120_000 }),
    httpHost: env.string('TRIBUTARY_HTTP_HOST', '0.0.0.0'),
    logLevel: env.string('LOG_LEVEL', 'info'),
    // Below Kubernetes' default 30 s grace period.
    shutdownDeadlineMs: env.int('TRIBUTARY_SHUTDOWN_DEADLINE_MS', 25_000, { min: 1000 }),
  };
  if (settings.kafkaBrokers.length === 0) env.problem('TRIBUTARY_KAFKA_BROKERS: at least one broker is required');
  return settings;
}

export interface EnrichProcess {
  start(): Promise<void>;
  stop(): Promise<void>;
  worker: EnrichWorker;
  httpPort(): number;
}

/** Composes the enricher process; also usable by `tributary start` and tests. */
export function composeEnricher(settings: EnrichSettings, logger: Logger, options: { onFatal?: (error: unknown) => void } = {}): EnrichProcess {
  const { enrich: config } = settings;
  const metricsRegistry = new Registry();
  collectDefaultMetrics({ register: metricsRegistry, prefix: 'tributary_enrich_process_' });
  const kafka = createKafkajsClientFactory({ brokers: settings.kafkaBrokers, logger });
  const clientId = `tributary-enrich-${settings.instanceId}`;
  const registry = createDeviceRegistry({ follower: kafka.follower({ clientId, topic: config.topics.devices }), logger });
  const producer = kafka.producer({ clientId, sendTimeoutMs: settings.sendTimeoutMs, lingerMs: 0, maxBatchRecords: 2000, compression: 'none' });
  const writer = createQuestdbWriter({ config: config.questdb, retry: config.retry, logger });
  const worker = createEnrichWorker({ config, kafka, clientId, registry, producer, writer, metricsRegistry, logger, onFatal: options.onFatal });
  let registryLoaded = false;
  let tablesReady = false;
  const health = createHealthServer({
    host: settings.httpHost,
    port: config.httpPort,
    registry: metricsRegistry,
    checks: () => [
      { name: 'device-registry', check: () => (registryLoaded ? null : 'loading') },
      { name: 'questdb', check: () => (tablesReady ? null : 'creating tables') },
      { name: 'enrich-worker', check: () => worker.problem() },
    ],
  });
  const stops: StopStep[] = [];
  return {
    worker,
    httpPort: () => health.port(),
    async start() {
      await health.start();
      stops.unshift({ name: 'health server', stop: () => health.stop() });
      const admin = kafka.admin({ clientId });
      try {
        const { replicationFactor, telemetryPartitions } = settings;
        const { telemetry, devices, deadLetter, alerts } = config.topics;
        await admin.ensureTopics(topicSpecs({ telemetry, devices, deadLetter, alerts }, { partitions: telemetryPartitions, replicationFactor }));
      } finally {
        await admin.close();
      }
      await producer.start();
      stops.unshift({ name: 'producer', stop: () => producer.stop() });
      await registry.start();
      registryLoaded = true;
      stops.unshift({ name: 'device registry', stop: () => registry.stop() });
      stops.unshift({ name: 'questdb writer', stop: () => writer.stop() });
      await writer.start();
      tablesReady = true;
      // Order on stop: worker (finish or abandon the batch, leave the group) → writer → registry → producer → health.
      stops.unshift({ name: 'enrich worker', stop: () => worker.stop() });
      await worker.start();
    },
    stop: createShutdown(() => stops),
  };
}

export async function enrichCommand(args: readonly string[]): Promise<number> {
  if (!parseCommandArgs(args, {}, help)) return 0;
  const env = createEnvReader(process.env);
  const settings = readEnrichSettings(env);
  env.finish();
  const logger = createLogger({ level: settings.logLevel, name: 'tributary-enrich' });
  let fatal = false;
  const enricher = composeEnricher(settings, logger, {
    onFatal: (error) => {
      logger.error({ err: error }, 'consumer crashed for good; shutting down');
      fatal = true;
      // Takes the same ordered shutdown path as an operator's SIGTERM.
      process.kill(process.pid, 'SIGTERM');
    },
  });
  superviseParent(process.env);
  const code = await runUntilSignal(enricher, {
    logger,
    shutdownDeadlineMs: settings.shutdownDeadlineMs,
    onStarted: () => logger.info({ http: enricher.httpPort(), group: settings.enrich.groupId }, 'enricher running'),
  });
  return fatal ? 1 : code;
}
