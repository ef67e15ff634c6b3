/**
 * `tributary gateway`: one process with the MQTT gateway and the Kafka bridge, the device
 * registry they share, and the health/metrics endpoint.
 */
import { createProcessMetricsRegistry } from '../../core/process-metrics.ts';
import type { EnvReader } from '../../core/config.ts';
import { encodeCommandEvent } from '../../core/device-command.ts';
import { createDeviceRegistry } from '../../core/device-registry.ts';
import { createHealthServer } from '../../core/health-server.ts';
import { createShutdown, runUntilSignal, type StopStep } from '../../core/lifecycle.ts';
import { createLogger, type Logger } from '../../core/logger.ts';
import { readSettings, settingsHelp } from '../../core/settings.ts';
import { createCommandDispatcher, type CommandEventSink } from '../../gateway/command-dispatcher.ts';
import { readGatewayConfig, type GatewayConfig } from '../../gateway/gateway-config.ts';
import { createMqttGateway, type MqttGateway } from '../../gateway/mqtt-gateway.ts';
import { readIngestConfig, type IngestConfig } from '../../ingest/ingest-config.ts';
import { createKafkaBridge } from '../../ingest/kafka-bridge.ts';
import { createKafkaClientFactory } from '../../kafka/kafka-client-factory.ts';
import { superviseParent } from '../child-service.ts';
import { parseCommandArgs } from '../cli-args.ts';
import { commandSettings, createProcessEnvReader, gatewayProcessSettings } from '../settings-catalog.ts';

const help = `Usage: tributary gateway [options]

Runs the MQTT gateway (Aedes on TCP, TLS, WebSocket) and the Kafka bridge. A QoS 1/2 publish is
acknowledged only after Kafka has the record (acks=all). Health: /livez, /readyz; Prometheus: /metrics.

Options:
  -h, --help    this help

${settingsHelp(commandSettings.gateway)}`;

export interface GatewaySettings {
  gateway: GatewayConfig;
  ingest: IngestConfig;
  httpHost: string;
  httpPort: number;
  logLevel: string;
  shutdownDeadlineMs: number;
}

/** Reads the gateway process's settings; problems are recorded on `env` and reported by `env.finish()`. */
export function readGatewaySettings(env: EnvReader): GatewaySettings {
  const gateway = readGatewayConfig(env);
  const ingest = readIngestConfig(env, { topicPrefix: gateway.topicLayout.prefix });
  const settings = { gateway, ingest, ...readSettings(env, gatewayProcessSettings) };
  // A device must hear of a failed send (no PUBACK, connection closed) before its keepalive gives up.
  if (gateway.keepaliveLimitS > 0 && ingest.sendTimeoutMs >= gateway.keepaliveLimitS * 1000) {
    env.problem(
      `TRIBUTARY_KAFKA_SEND_TIMEOUT_MS (${ingest.sendTimeoutMs}) must be below TRIBUTARY_MQTT_KEEPALIVE_LIMIT_S (${gateway.keepaliveLimitS} s): ` +
        'a device must learn that a publish failed before its keepalive gives up on the connection',
    );
  }
  if (gateway.shutdownDrainMs >= settings.shutdownDeadlineMs) {
    env.problem(
      `TRIBUTARY_GATEWAY_SHUTDOWN_DRAIN_MS (${gateway.shutdownDrainMs}) must be below TRIBUTARY_SHUTDOWN_DEADLINE_MS (${settings.shutdownDeadlineMs}): ` +
        'the drain is one step of the graceful stop',
    );
  }
  return settings;
}

export interface GatewayProcess {
  start(): Promise<void>;
  stop(): Promise<void>;
  gateway: MqttGateway;
  httpPort(): number;
}

/**
 * Composes the gateway process; also used by `tributary start` and the tests (which may hand Aedes a
 * persistence of their own to look into).
 */
export function composeGateway(settings: GatewaySettings, logger: Logger, options: { brokerPersistence?: object } = {}): GatewayProcess {
  const metricsRegistry = createProcessMetricsRegistry('tributary_gateway_');
  const kafka = createKafkaClientFactory({ brokers: settings.ingest.kafkaBrokers, logger });
  const clientId = `tributary-gateway-${settings.gateway.gatewayId}`;
  const registry = createDeviceRegistry({ follower: kafka.follower({ clientId, topic: settings.ingest.topics.devices }), logger });
  // One producer for the process: telemetry through the bridge, command events beside it.
  const producer = kafka.producer({ clientId, ...settings.ingest });
  const bridge = createKafkaBridge({ config: settings.ingest, gatewayId: settings.gateway.gatewayId, producer, admin: kafka.admin({ clientId }), logger });
  const { topics } = settings.ingest;
  const commandEvents: CommandEventSink = {
    emit: (event) => producer.send({ topic: topics.commandEvents, key: event.commandId, value: encodeCommandEvent(event), headers: {} }),
  };
  const gateway = createMqttGateway({ config: settings.gateway, registry, sink: bridge, logger, metricsRegistry, brokerPersistence: options.brokerPersistence, commandEvents });
  const dispatcher = createCommandDispatcher({
    gatewayId: settings.gateway.gatewayId,
    // Every replica in one group: each command is handed over by its partition's owner (ADR 0014).
    consumer: ({ onBatch }) => kafka.groupConsumer({ clientId: `${clientId}-commands`, groupId: settings.gateway.commandsGroup, topics: [topics.commands], fromBeginning: true, onBatch }),
    handOver: (command) => gateway.handOver(command),
    events: commandEvents,
    pending: () => gateway.pendingCommands(),
    metrics: gateway.commandMetrics,
    logger,
  });
  let registryLoaded = false;
  const health = createHealthServer({
    host: settings.httpHost,
    port: settings.httpPort,
    registry: metricsRegistry,
    checks: () => [
      { name: 'device-registry', check: () => (registryLoaded ? null : 'loading') },
      { name: 'gateway', check: () => gateway.problem() },
      { name: 'commands', check: () => dispatcher.problem() },
    ],
  });
  const stops: StopStep[] = [];
  return {
    gateway,
    httpPort: () => health.port(),
    async start() {
      await health.start();
      stops.unshift({ name: 'health server', stop: () => health.stop() });
      await bridge.start();
      stops.unshift({ name: 'kafka bridge', stop: () => bridge.stop() });
      await registry.start();
      registryLoaded = true;
      stops.unshift({ name: 'device registry', stop: () => registry.stop() });
      await gateway.start();
      await dispatcher.start();
      // Order on stop: the gateway (refuse connections at once, drain, disconnect) while the dispatcher stops
      // consuming (a hand-over cut short is not committed: the next owner hands it over) → registry →
      // bridge (flush producer) → health.
      stops.unshift({
        name: 'mqtt gateway and command dispatcher',
        stop: async () => {
          const [gatewayStopped, dispatcherStopped] = await Promise.allSettled([gateway.stop(), dispatcher.stop()]);
          for (const outcome of [gatewayStopped, dispatcherStopped]) if (outcome.status === 'rejected') throw outcome.reason;
        },
      });
    },
    stop: createShutdown(() => stops),
  };
}

export async function gatewayCommand(args: readonly string[]): Promise<number> {
  if (!parseCommandArgs(args, {}, help)) return 0;
  const env = createProcessEnvReader();
  const settings = readGatewaySettings(env);
  env.finish();
  const logger = createLogger({ level: settings.logLevel, name: 'tributary-gateway' });
  return runUntilSignal(
    (lifecycle) => {
      superviseParent(process.env, lifecycle);
      return composeGateway(settings, logger);
    },
    {
      logger,
      shutdownDeadlineMs: settings.shutdownDeadlineMs,
      onStarted: (running) => logger.info({ mqtt: running.gateway.ports(), http: running.httpPort() }, 'gateway running'),
    },
  );
}
