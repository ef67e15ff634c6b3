/** Gateway settings, read from the environment through the entry point's EnvReader. */
import type { EnvReader } from '../core/config.ts';
import { defaultTopicLayout, topicLayoutProblems, type TopicLayout } from './acl.ts';
import { hostname } from 'node:os';

export interface ListenerConfig {
  enabled: boolean;
  host: string;
  port: number;
}

export interface GatewayConfig {
  gatewayId: string;
  tcp: ListenerConfig;
  tls: ListenerConfig & { certFile: string | undefined; keyFile: string | undefined; caFile: string | undefined; clientCert: 'off' | 'optional' | 'required' };
  ws: ListenerConfig & { path: string };
  maxConnections: number;
  maxPacketBytes: number;
  maxPendingPerClient: number;
  maxPendingTotal: number;
  /** MQTT keepalive values above this are refused at CONNECT (0 = no limit). */
  keepaliveLimitS: number;
  connectTimeoutMs: number;
  topicLayout: TopicLayout;
  shutdownDrainMs: number;
}

export function readGatewayConfig(env: EnvReader): GatewayConfig {
  const host = env.string('TRIBUTARY_MQTT_HOST', '0.0.0.0');
  const port = (name: string, fallback: number): number => env.int(name, fallback, { min: 0, max: 65535 });
  const config: GatewayConfig = {
    gatewayId: env.string('TRIBUTARY_GATEWAY_ID', `${hostname()}-${process.pid}`),
    tcp: { enabled: env.bool('TRIBUTARY_MQTT_TCP_ENABLED', true), host, port: port('TRIBUTARY_MQTT_TCP_PORT', 1883) },
    tls: {
      enabled: env.bool('TRIBUTARY_MQTT_TLS_ENABLED', false),
      host,
      port: port('TRIBUTARY_MQTT_TLS_PORT', 8883),
      certFile: env.optionalString('TRIBUTARY_MQTT_TLS_CERT_FILE'),
      keyFile: env.optionalString('TRIBUTARY_MQTT_TLS_KEY_FILE'),
      caFile: env.optionalString('TRIBUTARY_MQTT_TLS_CA_FILE'),
      clientCert: env.oneOf('TRIBUTARY_MQTT_TLS_CLIENT_CERT', ['off', 'optional', 'required'], 'off'),
    },
    ws: {
      enabled: env.bool('TRIBUTARY_MQTT_WS_ENABLED', true),
      host,
      port: port('TRIBUTARY_MQTT_WS_PORT', 8083),
      path: env.string('TRIBUTARY_MQTT_WS_PATH', '/mqtt'),
    },
    maxConnections: env.int('TRIBUTARY_MQTT_MAX_CONNECTIONS', 100_000, { min: 1 }),
    maxPacketBytes: env.int('TRIBUTARY_MQTT_MAX_PACKET_BYTES', 64 * 1024, { min: 64, max: 256 * 1024 * 1024 }),
    maxPendingPerClient: env.int('TRIBUTARY_GATEWAY_MAX_PENDING_PER_CLIENT', 500, { min: 1 }),
    maxPendingTotal: env.int('TRIBUTARY_GATEWAY_MAX_PENDING_TOTAL', 50_000, { min: 1 }),
    keepaliveLimitS: env.int('TRIBUTARY_MQTT_KEEPALIVE_LIMIT_S', 0, { min: 0, max: 65535 }),
    connectTimeoutMs: env.int('TRIBUTARY_MQTT_CONNECT_TIMEOUT_MS', 30_000, { min: 100 }),
    topicLayout: { ...defaultTopicLayout, prefix: env.string('TRIBUTARY_MQTT_TOPIC_PREFIX', defaultTopicLayout.prefix) },
    shutdownDrainMs: env.int('TRIBUTARY_GATEWAY_SHUTDOWN_DRAIN_MS', 15_000, { min: 0 }),
  };
  for (const problem of topicLayoutProblems(config.topicLayout)) env.problem(`TRIBUTARY_MQTT_TOPIC_PREFIX: ${problem}`);
  if (config.tls.enabled && (!config.tls.certFile || !config.tls.keyFile)) {
    env.problem('TRIBUTARY_MQTT_TLS_ENABLED=true needs TRIBUTARY_MQTT_TLS_CERT_FILE and TRIBUTARY_MQTT_TLS_KEY_FILE');
  }
  if (config.tls.clientCert !== 'off' && !config.tls.caFile) {
    env.problem('TRIBUTARY_MQTT_TLS_CLIENT_CERT needs TRIBUTARY_MQTT_TLS_CA_FILE (the CA that signs device certificates)');
  }
  if (!config.tcp.enabled && !config.tls.enabled && !config.ws.enabled) env.problem('every MQTT listener is disabled');
  return config;
}
