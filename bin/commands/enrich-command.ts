/**
 * `tributary enrich`: one enricher process: the device registry, the consumer-group worker that
 * writes telemetry to QuestDB, the producer for dead letters and alerts, and the health/metrics endpoint.
 */
import { createProcessMetricsRegistry } from '../../core/process-metrics.ts';
import type { EnvReader } from '../../core/config.ts';
import { createDeviceRegistry } from '../../core/device-registry.ts';
import { createHealthServer } from '../../core/health-server.ts';
import { createShutdown, runUntilSignal, type StopStep } from '../../core/lifecycle.ts';
import { topicSpecs } from '../../core/topic-specs.ts';
import { createLogger, type Logger } from '../../core/logger.ts';
import { readSettings, settingsHelp } from '../../core/settings.ts';
import { readEnrichConfig, type EnrichConfig } from '../../enrich/enrich-config.ts';
import { createEnrichWorker, type EnrichWorker } from '../../enrich/enrich-worker.ts';
import { createQuestdbWriter } from '../../enrich/questdb-writer.ts';
import { createKafkaClientFactory } from '../../kafka/kafka-client-factory.ts';
import { superviseParent } from '../child-service.ts';
import { parseCommandArgs } from '../cli-args.ts';
import { commandSettings, createProcessEnvReader, enrichProcessSettings } from '../settings-catalog.ts';

const help = `Usage: tributary enrich [options]

Consumes telemetry from Kafka in a consumer group, decodes and enriches it with the device
registry, writes it to QuestDB (ILP/HTTP) and commits offsets only after QuestDB acknowledged the
rows. Refused records go to the dead-letter topic, alerts to the alerts topic.
Health: /livez, /readyz; Prometheus: /metrics.

Options:
  -h, --help    this help

${settingsHelp(commandSettings.enrich)}`;

export interface EnrichSettings {
  enrich: EnrichConfig;
  httpHost: string;
  logLevel: string;
  shutdownDeadlineMs: number;
}

/** Reads the enricher process's settings; problems are recorded on `env` and reported by `env.finish()`. */
export function readEnrichSettings(env: EnvReader): EnrichSettings {
  return { enrich: readEnrichConfig(env), ...readSettings(env, enrichProcessSettings) };
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
  const metricsRegistry = createProcessMetricsRegistry('tributary_enrich_');
  const kafka = createKafkaClientFactory({ brokers: config.kafkaBrokers, logger });
  const clientId = `tributary-enrich-${config.instanceId}`;
  const registry = createDeviceRegistry({ follower: kafka.follower({ clientId, topic: config.topics.devices }), logger });
  const producer = kafka.producer({ clientId, sendTimeoutMs: config.publishTimeoutMs, lingerMs: 0, maxBatchRecords: 2000, compression: 'none' });
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
        const { replicationFactor, telemetryPartitions } = config;
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
  const env = createProcessEnvReader();
  const settings = readEnrichSettings(env);
  env.finish();
  const logger = createLogger({ level: settings.logLevel, name: 'tributary-enrich' });
  return runUntilSignal(
    (lifecycle) => {
      superviseParent(process.env, lifecycle);
      return composeEnricher(settings, logger, {
        onFatal: (error) => {
          logger.error({ err: error }, 'consumer crashed for good');
          lifecycle.requestStop('consumer crashed', 1);
        },
      });
    },
    {
      logger,
      shutdownDeadlineMs: settings.shutdownDeadlineMs,
      onStarted: (enricher) => logger.info({ http: enricher.httpPort(), group: settings.enrich.groupId }, 'enricher running'),
    },
  );
}
