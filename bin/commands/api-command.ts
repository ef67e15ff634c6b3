/**
 * `tributary api`: the operator and dashboard API process. It follows the device registry and the
 * tokens topic, writes through one producer (acks=all), and serves the route modules under /v1 with
 * the OpenAPI document, health and metrics (api/api-server.ts). Other parts of the API (jobs, reads)
 * join through `ApiExtension`s: each gets the shared clients and adds routes, services and checks.
 */
import { Registry } from 'prom-client';
import { createProcessMetricsRegistry } from '../../core/process-metrics.ts';
import { createApiServer, type ApiServer } from '../../api/api-server.ts';
import type { RouteModule } from '../../api/api-routes.ts';
import { commandRoutes } from '../../api/command-routes.ts';
import { deviceRoutes } from '../../api/device-routes.ts';
import { createTokenStore, type TokenStore } from '../../api/token-store.ts';
import { createDeviceOperations } from '../../core/device-operations.ts';
import { createDeviceRegistry, type DeviceRegistry } from '../../core/device-registry.ts';
import type { ReadinessCheck } from '../../core/health-server.ts';
import type { KafkaClientFactory, KafkaProducerPort } from '../../core/kafka-port.ts';
import { createShutdown, runUntilSignal, type StopStep } from '../../core/lifecycle.ts';
import { createLogger, type Logger } from '../../core/logger.ts';
import { readSettings, settingsHelp, type SettingValues } from '../../core/settings.ts';
import { topicSpecs } from '../../core/topic-specs.ts';
import { createCommandLog } from '../../kafka/command-log.ts';
import { createKafkaClientFactory } from '../../kafka/kafka-client-factory.ts';
import { readEnrichConfig } from '../../enrich/enrich-config.ts';
import { readApiReadConfig } from '../../api/read-config.ts';
import { jobsExtension } from '../api-jobs.ts';
import { readsExtension } from '../api-reads.ts';
import { superviseParent } from '../child-service.ts';
import { parseCommandArgs } from '../cli-args.ts';
import { consoleExtension } from '../console-extension.ts';
import { commandSettings, createProcessEnvReader } from '../settings-catalog.ts';

const help = `Usage: tributary api [options]

Serves the operator and dashboard API over HTTP: every route under /v1 needs a bearer token
(tributary tokens create); the OpenAPI document is at /openapi.json; health at /livez and
/readyz, Prometheus metrics at /metrics. It listens once it has read the device registry and the
tokens topic; a token created or revoked takes effect within about a second.

Options:
  -h, --help    this help

${settingsHelp(commandSettings.api)}`;

export type ApiSettings = SettingValues<typeof commandSettings.api>;

/** The version of the API document (/openapi.json); the major version is the /v1 in every path. */
const apiVersion = '1.0.0';

/** What every part of the API shares: built once by composeApi, started before any extension's services. */
export interface ApiContext {
  settings: ApiSettings;
  logger: Logger;
  kafka: KafkaClientFactory;
  /** The process's one producer (acks=all), started before the extensions' services. */
  producer: KafkaProducerPort;
  /** The device registry, loaded before the extensions' services start. */
  registry: DeviceRegistry;
  metricsRegistry: Registry;
  /** The Kafka client id prefix of this process. */
  clientId: string;
}

/** A part of the API added to the process: its route modules, services (started in order after the shared clients, stopped first) and readiness checks. */
export interface ApiExtension {
  routes?: readonly RouteModule[];
  /** Route modules at the root, outside /v1 (the console's files). */
  pages?: readonly RouteModule[];
  services?: ReadonlyArray<{ name: string; start(): Promise<void>; stop(): Promise<void> }>;
  checks?: readonly ReadinessCheck[];
}

/** Builds an extension from the shared context; no I/O (that belongs in its services' start). */
export type ApiExtensionFactory = (context: ApiContext) => ApiExtension;

/**
 * The extensions `tributary api` runs besides devices and commands. Add the job routes and runner
 * and the read routes here (the tests pass their own to composeApi).
 */
export const apiExtensions: readonly ApiExtensionFactory[] = [consoleExtension];

export interface ApiProcess {
  start(): Promise<void>;
  stop(): Promise<void>;
  /** The bound port (useful with TRIBUTARY_API_PORT=0). */
  port(): number;
  tokens: TokenStore;
  context: ApiContext;
}

/** Composes the API process; also usable by `tributary start` and tests. No I/O until start. */
export function composeApi(settings: ApiSettings, logger: Logger, options: { extensions?: readonly ApiExtensionFactory[]; instanceId?: string } = {}): ApiProcess {
  const metricsRegistry = createProcessMetricsRegistry('tributary_api_');
  const clientId = `tributary-api-${options.instanceId ?? process.pid}`;
  const kafka = createKafkaClientFactory({ brokers: settings.kafkaBrokers, logger });
  const producer = kafka.producer({ clientId, sendTimeoutMs: 10_000, lingerMs: 0, maxBatchRecords: 500, compression: 'none' });
  const registry = createDeviceRegistry({ follower: kafka.follower({ clientId, topic: settings.devices }), logger });
  const tokens = createTokenStore({ follower: kafka.follower({ clientId, topic: settings.apiTokens }), logger });
  const log = createCommandLog({ kafka, clientId, topics: { commands: settings.commands, commandEvents: settings.commandEvents }, producer });
  // a write answers once this replica's registry shows it, so the caller's next GET does
  const operations = createDeviceOperations({ registry, producer, topic: settings.devices, awaitApplied: { timeoutMs: 5000 } });
  const context: ApiContext = { settings, logger, kafka, producer, registry, metricsRegistry, clientId };
  const extensions = (options.extensions ?? apiExtensions).map((build) => build(context));
  let registryLoaded = false;
  let tokensLoaded = false;
  const server: ApiServer = createApiServer({
    routes: [deviceRoutes({ registry, operations }), commandRoutes({ registry, log, logger }), ...extensions.flatMap((extension) => extension.routes ?? [])],
    pages: extensions.flatMap((extension) => extension.pages ?? []),
    verifyToken: (token) => tokens.verify(token),
    checks: () => [
      { name: 'device-registry', check: () => (registryLoaded ? null : 'loading') },
      { name: 'tokens', check: () => (tokensLoaded ? null : 'loading') },
      { name: 'kafka-producer', check: () => producerProblem(producer) },
      ...extensions.flatMap((extension) => extension.checks ?? []),
    ],
    metricsRegistry,
    rateLimit: { max: settings.rateLimit, windowMs: settings.rateWindowMs },
    bodyLimitBytes: settings.maxBodyBytes,
    logger,
    host: settings.httpHost,
    port: settings.httpPort,
    version: apiVersion,
  });
  const stops: StopStep[] = [];
  return {
    tokens,
    context,
    port: () => server.port(),
    async start() {
      const admin = kafka.admin({ clientId });
      try {
        const { devices, commands, commandEvents, apiTokens, kafkaPartitions: partitions, replicationFactor } = settings;
        await admin.ensureTopics(topicSpecs({ devices, commands, commandEvents, apiTokens }, { partitions, replicationFactor }));
      } finally {
        await admin.close();
      }
      stops.unshift({ name: 'producer', stop: () => producer.stop() });
      await producer.start();
      stops.unshift({ name: 'command log', stop: () => log.close() });
      stops.unshift({ name: 'device registry', stop: () => registry.stop() }, { name: 'tokens', stop: () => tokens.stop() });
      await Promise.all([registry.start().then(() => void (registryLoaded = true)), tokens.start().then(() => void (tokensLoaded = true))]);
      for (const service of extensions.flatMap((extension) => extension.services ?? [])) {
        stops.unshift({ name: service.name, stop: () => service.stop() });
        await service.start();
      }
      // Order on stop: the server (no new requests, in-flight ones finish) → extensions' services → followers → producer.
      stops.unshift({ name: 'api server', stop: () => server.stop() });
      await server.start();
    },
    stop: createShutdown(() => stops),
  };
}

/** Not ready while the producer's last sends failed: writes would be refused. */
function producerProblem(producer: KafkaProducerPort): string | null {
  const { consecutiveFailures, lastError } = producer.stats();
  return consecutiveFailures === 0 ? null : `${consecutiveFailures} send(s) failed in a row: ${lastError ?? 'unknown error'}`;
}

export async function apiCommand(args: readonly string[]): Promise<number> {
  if (!parseCommandArgs(args, {}, help)) return 0;
  const env = createProcessEnvReader();
  const settings = readSettings(env, commandSettings.api);
  const enrich = readEnrichConfig(env);
  const reads = readApiReadConfig(env);
  env.finish();
  const logger = createLogger({ level: settings.logLevel, name: 'tributary-api' });
  return runUntilSignal(
    (lifecycle) => {
      superviseParent(process.env, lifecycle);
      const onFatal = (error: unknown): void => {
        logger.error({ err: error }, 'job runner crashed for good');
        lifecycle.requestStop('job runner crashed', 1);
      };
      return composeApi(settings, logger, { extensions: [...apiExtensions, jobsExtension(enrich, { onFatal }), readsExtension(reads)] });
    },
    {
      logger,
      shutdownDeadlineMs: settings.shutdownDeadlineMs,
      onStarted: (api) => logger.info({ port: api.port(), openapi: `http://127.0.0.1:${api.port()}/openapi.json` }, 'api running'),
    },
  );
}
