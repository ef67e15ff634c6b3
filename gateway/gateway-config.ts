/** Gateway settings: their table, and the GatewayConfig read from it through the entry point's EnvReader. */
import type { EnvReader } from '../core/config.ts';
import { boolSetting, intSetting, oneOfSetting, optionalStringSetting, readSettings, stringSetting } from '../core/settings.ts';
import { defaultTopicLayout, topicLayoutProblems, type TopicLayout } from './acl.ts';
import type { AuthLimits } from './device-authenticator.ts';
import type { RateLimits } from './rate-limit.ts';
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
  /** Bytes a connection may send before its CONNECT is accepted; more closes it. */
  preConnectMaxBytes: number;
  maxPendingPerClient: number;
  maxPendingTotal: number;
  /** Payload bytes of the pending QoS 1/2 publishes, over every device. */
  maxPendingBytesTotal: number;
  /** Each device connection's publish rate limit. */
  deviceRateLimits: RateLimits;
  /** MQTT keepalive values above this are refused at CONNECT (0 = no limit). */
  keepaliveLimitS: number;
  connectTimeoutMs: number;
  topicLayout: TopicLayout;
  shutdownDrainMs: number;
  commandsGroup: string;
  heartbeatIntervalMs: number;
  /** Where MQTT sessions live; null: in this process (one gateway replica). */
  redisUrl: string | null;
  auth: AuthLimits;
}

/** Every setting the gateway reads (the process adds the bridge's and the shared ones). */
export const gatewaySettings = {
  gatewayId: optionalStringSetting({ name: 'TRIBUTARY_GATEWAY_ID', defaultText: '<hostname>-<pid>', help: 'written to the gateway.id header' }),
  mqttHost: stringSetting({ name: 'TRIBUTARY_MQTT_HOST', default: '0.0.0.0', help: 'address the MQTT listeners bind' }),
  tcpEnabled: boolSetting({ name: 'TRIBUTARY_MQTT_TCP_ENABLED', default: true, help: 'plain MQTT listener' }),
  tcpPort: intSetting({ name: 'TRIBUTARY_MQTT_TCP_PORT', default: 1883, min: 0, max: 65535, help: 'plain MQTT port, 0 = any free port' }),
  tlsEnabled: boolSetting({ name: 'TRIBUTARY_MQTT_TLS_ENABLED', default: false, help: 'MQTT over TLS listener' }),
  tlsPort: intSetting({ name: 'TRIBUTARY_MQTT_TLS_PORT', default: 8883, min: 0, max: 65535, help: 'MQTT over TLS port' }),
  tlsCertFile: optionalStringSetting({ name: 'TRIBUTARY_MQTT_TLS_CERT_FILE', help: 'server certificate (PEM); needed with TLS' }),
  tlsKeyFile: optionalStringSetting({ name: 'TRIBUTARY_MQTT_TLS_KEY_FILE', help: 'server private key (PEM); needed with TLS' }),
  tlsCaFile: optionalStringSetting({ name: 'TRIBUTARY_MQTT_TLS_CA_FILE', help: 'CA that signs device certificates' }),
  tlsClientCert: oneOfSetting({ name: 'TRIBUTARY_MQTT_TLS_CLIENT_CERT', values: ['off', 'optional', 'required'], default: 'off', help: 'client-certificate authentication (CN = device id)' }),
  wsEnabled: boolSetting({ name: 'TRIBUTARY_MQTT_WS_ENABLED', default: true, help: 'MQTT over WebSocket listener' }),
  wsPort: intSetting({ name: 'TRIBUTARY_MQTT_WS_PORT', default: 8083, min: 0, max: 65535, help: 'MQTT over WebSocket port' }),
  wsPath: stringSetting({ name: 'TRIBUTARY_MQTT_WS_PATH', default: '/mqtt', help: 'MQTT over WebSocket path' }),
  maxConnections: intSetting({ name: 'TRIBUTARY_MQTT_MAX_CONNECTIONS', default: 100_000, min: 1, help: 'connections per listener' }),
  maxPacketBytes: intSetting({ name: 'TRIBUTARY_MQTT_MAX_PACKET_BYTES', default: 64 * 1024, min: 64, max: 256 * 1024 * 1024, help: 'larger packets close the connection before their body is read' }),
  preConnectMaxBytes: intSetting({
    name: 'TRIBUTARY_MQTT_PRE_CONNECT_MAX_BYTES',
    default: 128 * 1024,
    min: 64,
    max: 512 * 1024 * 1024,
    help: 'bytes a connection may send before its CONNECT is accepted (the CONNECT and what is pipelined behind it); more closes it; at least the packet limit',
  }),
  keepaliveLimitS: intSetting({ name: 'TRIBUTARY_MQTT_KEEPALIVE_LIMIT_S', default: 0, min: 0, max: 65535, help: 'refuse CONNECTs asking for a longer keepalive (0 = no limit)' }),
  connectTimeoutMs: intSetting({ name: 'TRIBUTARY_MQTT_CONNECT_TIMEOUT_MS', default: 30_000, min: 100, help: 'time allowed between TCP accept and CONNECT' }),
  topicPrefix: stringSetting({ name: 'TRIBUTARY_MQTT_TOPIC_PREFIX', default: defaultTopicLayout.prefix, help: 'first level(s) of device topics: <prefix>/<device id>/telemetry' }),
  maxPendingPerClient: intSetting({ name: 'TRIBUTARY_GATEWAY_MAX_PENDING_PER_CLIENT', default: 500, min: 1, help: 'unacknowledged publishes per device before its socket is no longer read' }),
  maxPendingTotal: intSetting({ name: 'TRIBUTARY_GATEWAY_MAX_PENDING_TOTAL', default: 50_000, min: 1, help: 'the same across all devices; QoS 0 is dropped (and counted) above it' }),
  maxPendingBytesTotal: intSetting({
    name: 'TRIBUTARY_GATEWAY_MAX_PENDING_BYTES_TOTAL',
    default: 64 * 1024 * 1024,
    min: 64 * 1024,
    help: 'payload bytes of those publishes across all devices: the same effect; 50,000 of the largest payloads would otherwise hold 3 GB',
  }),
  deviceMessagesPerS: intSetting({
    name: 'TRIBUTARY_GATEWAY_DEVICE_MESSAGES_PER_S',
    default: 1000,
    min: 0,
    help: 'publishes one device connection may send per second (0 = no limit); over it QoS 0 is dropped and the device is not read until its budget refills. 50 times what a bench device sends (20,000 msg/s over 1,000 devices), and a flooding device then costs the gateway a few percent of its capacity',
  }),
  deviceBytesPerS: intSetting({
    name: 'TRIBUTARY_GATEWAY_DEVICE_BYTES_PER_S',
    default: 1024 * 1024,
    min: 0,
    help: 'payload bytes one device connection may send per second (0 = no limit), with the same response: 16 of the largest packets a second, 1,000 of 1 KB',
  }),
  deviceBurstS: intSetting({ name: 'TRIBUTARY_GATEWAY_DEVICE_BURST_S', default: 2, min: 1, max: 3600, help: 'seconds of those rates a device may send at once after being quiet (a reconnecting device resending its backlog)' }),
  redisUrl: optionalStringSetting({
    name: 'TRIBUTARY_GATEWAY_REDIS_URL',
    help: 'redis://host:port of the Redis that holds MQTT sessions, so several gateways share them; unset: sessions in this process only (one gateway)',
  }),
  heartbeatIntervalMs: intSetting({
    name: 'TRIBUTARY_GATEWAY_HEARTBEAT_INTERVAL_MS',
    default: 60_000,
    min: 500,
    help: "with Redis: how often a replica announces it is alive; a replica silent for 3 of these is dead and its devices' wills are published by another",
  }),
  commandsGroup: stringSetting({ name: 'TRIBUTARY_GATEWAY_COMMANDS_GROUP', default: 'tributary-gateway-commands', help: 'consumer group every gateway replica joins on the commands topic (each command is handed over by one)' }),
  shutdownDrainMs: intSetting({ name: 'TRIBUTARY_GATEWAY_SHUTDOWN_DRAIN_MS', default: 15_000, min: 0, help: 'on shutdown, time to finish in-flight publishes before disconnecting; below the shutdown deadline' }),
  authFailureBurstPerAddress: intSetting({ name: 'TRIBUTARY_GATEWAY_AUTH_FAILURES_PER_ADDRESS', default: 30, min: 1, help: 'failed CONNECTs one client address may make in a row; then refused (CONNACK 5) without checking the secret' }),
  authFailureBurstPerDevice: intSetting({ name: 'TRIBUTARY_GATEWAY_AUTH_FAILURES_PER_DEVICE', default: 10, min: 1, help: 'the same per device id, from any address (a device whose secret the gateway already verified still connects)' }),
  authFailureRefillMs: intSetting({ name: 'TRIBUTARY_GATEWAY_AUTH_FAILURE_REFILL_MS', default: 10_000, min: 1, help: 'each address and device id earns one more failed attempt this often' }),
  authTrackedKeysMax: intSetting({ name: 'TRIBUTARY_GATEWAY_AUTH_TRACKED_KEYS', default: 50_000, min: 1, help: 'addresses, and separately device ids, whose failures are remembered; the least recent is forgotten first' }),
  authConcurrentVerifications: intSetting({ name: 'TRIBUTARY_GATEWAY_AUTH_CONCURRENT_VERIFICATIONS', default: 2, min: 1, max: 64, help: 'secret verifications (scrypt, off the event loop) running at once' }),
  authQueuedVerificationsMax: intSetting({ name: 'TRIBUTARY_GATEWAY_AUTH_QUEUED_VERIFICATIONS', default: 256, min: 0, help: 'verifications waiting for a slot; more CONNECTs are refused at once (CONNACK 3, server unavailable)' }),
} as const;

/** Reads the gateway's settings; problems are recorded on `env` and reported together by `env.finish()`. */
export function readGatewayConfig(env: EnvReader): GatewayConfig {
  const s = readSettings(env, gatewaySettings);
  const host = s.mqttHost;
  const config: GatewayConfig = {
    gatewayId: s.gatewayId ?? `${hostname()}-${process.pid}`,
    tcp: { enabled: s.tcpEnabled, host, port: s.tcpPort },
    tls: { enabled: s.tlsEnabled, host, port: s.tlsPort, certFile: s.tlsCertFile, keyFile: s.tlsKeyFile, caFile: s.tlsCaFile, clientCert: s.tlsClientCert },
    ws: { enabled: s.wsEnabled, host, port: s.wsPort, path: s.wsPath },
    maxConnections: s.maxConnections,
    maxPacketBytes: s.maxPacketBytes,
    preConnectMaxBytes: s.preConnectMaxBytes,
    maxPendingPerClient: s.maxPendingPerClient,
    maxPendingTotal: s.maxPendingTotal,
    maxPendingBytesTotal: s.maxPendingBytesTotal,
    deviceRateLimits: { messagesPerS: s.deviceMessagesPerS, bytesPerS: s.deviceBytesPerS, burstS: s.deviceBurstS },
    keepaliveLimitS: s.keepaliveLimitS,
    connectTimeoutMs: s.connectTimeoutMs,
    topicLayout: { ...defaultTopicLayout, prefix: s.topicPrefix },
    shutdownDrainMs: s.shutdownDrainMs,
    redisUrl: s.redisUrl ?? null,
    commandsGroup: s.commandsGroup,
    heartbeatIntervalMs: s.heartbeatIntervalMs,
    auth: {
      failureBurstPerAddress: s.authFailureBurstPerAddress,
      failureBurstPerDevice: s.authFailureBurstPerDevice,
      failureRefillMs: s.authFailureRefillMs,
      trackedKeysMax: s.authTrackedKeysMax,
      concurrentVerifications: s.authConcurrentVerifications,
      queuedVerificationsMax: s.authQueuedVerificationsMax,
    },
  };
  for (const problem of topicLayoutProblems(config.topicLayout)) env.problem(`TRIBUTARY_MQTT_TOPIC_PREFIX: ${problem}`);
  if (config.tls.enabled && (!config.tls.certFile || !config.tls.keyFile)) {
    env.problem('TRIBUTARY_MQTT_TLS_ENABLED=true needs TRIBUTARY_MQTT_TLS_CERT_FILE and TRIBUTARY_MQTT_TLS_KEY_FILE');
  }
  if (config.tls.clientCert !== 'off' && !config.tls.caFile) {
    env.problem('TRIBUTARY_MQTT_TLS_CLIENT_CERT needs TRIBUTARY_MQTT_TLS_CA_FILE (the CA that signs device certificates)');
  }
  // A CONNECT may be as large as any packet: a smaller budget would refuse some valid ones.
  if (config.preConnectMaxBytes < config.maxPacketBytes) {
    env.problem(`TRIBUTARY_MQTT_PRE_CONNECT_MAX_BYTES (${config.preConnectMaxBytes}) must be at least TRIBUTARY_MQTT_MAX_PACKET_BYTES (${config.maxPacketBytes})`);
  }
  // A QoS 0 packet larger than the byte bucket could never be admitted.
  const { bytesPerS, burstS } = config.deviceRateLimits;
  if (bytesPerS > 0 && bytesPerS * burstS < config.maxPacketBytes) {
    env.problem(`TRIBUTARY_GATEWAY_DEVICE_BYTES_PER_S × TRIBUTARY_GATEWAY_DEVICE_BURST_S (${bytesPerS * burstS}) must be at least TRIBUTARY_MQTT_MAX_PACKET_BYTES (${config.maxPacketBytes}), or 0 for no limit`);
  }
  if (!config.tcp.enabled && !config.tls.enabled && !config.ws.enabled) env.problem('every MQTT listener is disabled');
  return config;
}
