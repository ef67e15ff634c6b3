/**
 * The MQTT front door: Aedes with our authentication, authorization, limits and the
 * acknowledge-after-Kafka delivery contract.
 *
 * Delivery: the forward to Kafka happens inside Aedes' authorizePublish hook, which is the only
 * hook that runs before Aedes writes a QoS 1 PUBACK (or QoS 2 PUBREC). The hook's callback is
 * released only when Kafka acknowledged (acks=all), in arrival order per client. If Kafka fails
 * or times out the callback gets the error: no acknowledgement is sent and Aedes closes the
 * connection, so the device resends after reconnecting. QoS 0 is forwarded without waiting and
 * every loss is counted. The Kafka record carries the retain flag the device sent, but Aedes keeps no
 * retained payload: no device may subscribe to a data topic, so none could ever receive it.
 *
 * Shutdown: readiness goes false, listeners stop accepting, reading from devices stops, the publishes
 * pending finish (bounded by shutdownDrainMs), then Aedes disconnects the remaining clients.
 */
import { Aedes, type AedesPublishPacket, type Client, type PublishPacket, type Subscription } from 'aedes';
import type { Registry } from 'prom-client';
import { setTimeout as delay } from 'node:timers/promises';
import type { DeviceRegistry } from '../core/device-registry.ts';
import type { Logger } from '../core/logger.ts';
import { PublishRefusedError, type PublishRefusal, type PublishSink } from '../core/publish-sink.ts';
import { createSampledLogger } from '../core/sampled-logger.ts';
import { describeError } from '../core/errors.ts';
import { authorizePublish, authorizeSubscribe } from './acl.ts';
import { createDeviceAuthenticator } from './device-authenticator.ts';
import { createDeviceConnections } from './device-connections.ts';
import type { GatewayConfig } from './gateway-config.ts';
import { createGatewayMetrics } from './gateway-metrics.ts';
import { guardConnection } from './guarded-connection.ts';
import { createMqttListeners, type AcceptedConnection } from './mqtt-listeners.ts';
import { createStoredSessions } from './stored-sessions.ts';

export interface MqttGateway {
  start(): Promise<void>;
  stop(): Promise<void>;
  /** Null when ready to serve, else why not. */
  problem(): string | null;
  ports(): Record<string, number>;
}

type ConnackError = Error & { returnCode: number };

function connackError(returnCode: number, message: string): ConnackError {
  return Object.assign(new Error(message), { returnCode });
}

export function createMqttGateway(deps: {
  config: GatewayConfig;
  registry: DeviceRegistry;
  sink: PublishSink;
  logger: Logger;
  metricsRegistry: Registry;
  /** Aedes persistence (sessions, wills, QoS 2 state), e.g. aedes-persistence; Aedes' in-memory one when absent. */
  brokerPersistence?: object;
}): MqttGateway {
  const { config, registry, sink } = deps;
  const logger = deps.logger.child({ component: 'gateway' });
  const sampled = createSampledLogger(logger, { perInterval: 5, intervalMs: 60_000 });
  const authenticator = createDeviceAuthenticator({ lookup: (id) => registry.get(id), limits: config.auth });
  const connections = createDeviceConnections<Client>({
    perClientMax: config.maxPendingPerClient,
    globalMax: config.maxPendingTotal,
    globalMaxBytes: config.maxPendingBytesTotal,
    rateLimits: config.deviceRateLimits,
    onThrottled: (reason) => metrics.throttled.inc({ reason }),
  });
  const readyClients = function* (): Generator<Client> {
    for (const [client, connection] of connections.all()) if (connection.ready) yield client;
  };
  const metrics = createGatewayMetrics(deps.metricsRegistry, {
    connections: () => [...readyClients()].length,
    pending: () => connections.pendingTotal(),
    pendingBytes: () => connections.pendingBytes(),
    rateLimited: () => connections.rateLimited(),
    sendQueue: () => sink.backlog(),
  });
  const storedSessions = createStoredSessions();
  let accepting = false;
  let broker: Aedes | null = null;

  const refused = (remote: string | undefined, reason: string, details: object): void => {
    metrics.packetsRefused.inc({ reason });
    sampled.warn(`packet:${reason}`, { remote, reason, ...details }, 'closing connection: packet refused');
  };

  const onConnection = (accepted: AcceptedConnection): void => {
    if (!accepting || !broker) {
      accepted.stream.destroy();
      return;
    }
    const guard = guardConnection(accepted.stream, {
      maxPacketBytes: config.maxPacketBytes,
      preConnectMaxBytes: config.preConnectMaxBytes,
      onRefused: ({ reason, packetBytes }) =>
        refused(accepted.remoteAddress, reason, { packetBytes, maxPacketBytes: config.maxPacketBytes, preConnectMaxBytes: config.preConnectMaxBytes }),
    });
    const client = broker.handle(guard.stream);
    connections.open(client, { guard, certificateSubject: accepted.certificateSubject, remoteAddress: accepted.remoteAddress });
    guard.stream.once('close', () => connections.close(client));
  };
  const listeners = createMqttListeners(config, {
    onConnection,
    onMessageTooBig: (remote) => refused(remote, 'ws_message_too_big', { maxPacketBytes: config.maxPacketBytes }),
  });

  // A refused publish is counted and logged (sampled); a QoS 1/2 one gets no acknowledgement and
  // its connection is closed, whether the gateway refused it or the sink found it can never be
  // forwarded (e.g. too large for its Kafka topic).
  const countRefusal = (client: Client, packet: PublishPacket, error: PublishRefusedError): void => {
    metrics.refused.inc({ reason: error.reason });
    sampled.warn(`publish:${error.reason}`, { deviceId: client.id, topic: packet.topic, reason: error.reason, detail: error.message }, 'publish refused');
  };

  // QoS 0 is shed first: counted by reason, and per device in the sampled log line.
  const dropQos0 = (client: Client, reason: 'rate_limited' | 'overloaded' | 'queue_full' | 'kafka_failed'): void => {
    metrics.qos0Dropped.inc({ reason });
    const connection = connections.get(client);
    if (connection) connection.qos0Dropped += 1;
    sampled.warn(`qos0:${reason}`, { deviceId: client.id, reason, droppedByDevice: connection?.qos0Dropped }, 'QoS 0 message dropped');
  };

  const refusePublish = (client: Client, packet: PublishPacket, reason: PublishRefusal, callback: (error?: Error | null) => void): void => {
    const error = new PublishRefusedError(reason, `publish to ${packet.topic} refused: ${reason}`);
    countRefusal(client, packet, error);
    callback(error);
  };

  const onPublish = (client: Client | null, packet: PublishPacket, callback: (error?: Error | null) => void): void => {
    // A will of a session that no longer has a client (another broker's orphan): we run one broker, drop it.
    if (!client) {
      callback(new Error('will without a client'));
      return;
    }
    const receivedAtMs = Date.now();
    const qos = packet.qos;
    metrics.received.inc({ qos });
    // The one place that decides where a publish goes, or why it is refused.
    const decision = authorizePublish(client.id, packet.topic, config.topicLayout);
    if (!decision.ok) return refusePublish(client, packet, 'forbidden_topic', callback);
    const route = sink.route(packet.topic);
    if (route === null) return refusePublish(client, packet, 'unmapped_topic', callback);
    const publish = {
      deviceId: client.id,
      mqttTopic: packet.topic,
      payload: typeof packet.payload === 'string' ? Buffer.from(packet.payload) : packet.payload,
      qos,
      retain: packet.retain,
      receivedAtMs,
    };
    // Aedes stores a retained packet after this hook; no one may subscribe to a data topic, so keep none.
    packet.retain = false;
    // Over its rate: QoS 0 is dropped, QoS 1/2 is taken; either way the device is not read until its budget refills.
    const rate = connections.get(client)?.rateLimit.admit(publish.payload.length, { mayDrop: qos === 0, nowMs: receivedAtMs });
    if (rate && rate.limitedBy !== null) {
      metrics.rateLimited.inc({ qos, limit: rate.limitedBy });
      sampled.warn(`rate:${rate.limitedBy}`, { deviceId: client.id, qos, limit: rate.limitedBy, pauseMs: rate.pauseMs }, 'device over its rate limit; not read until its budget refills');
    }
    if (rate && rate.pauseMs > 0) connections.pauseForRate(client, rate.pauseMs);
    if (rate && !rate.admitted) {
      dropQos0(client, 'rate_limited');
      callback(null);
      return;
    }
    if (qos === 0) {
      if (connections.overloaded()) {
        dropQos0(client, 'overloaded');
      } else {
        route.forward(publish).catch((error: unknown) => {
          if (!(error instanceof PublishRefusedError)) dropQos0(client, 'kafka_failed');
          else if (error.reason === 'queue_full') dropQos0(client, 'queue_full');
          else countRefusal(client, packet, error);
        });
      }
      callback(null);
      return;
    }
    connections.submit(client, route.forward(publish), (error) => {
      if (error instanceof PublishRefusedError) {
        countRefusal(client, packet, error);
      } else if (error) {
        metrics.failed.inc();
        sampled.warn('kafka', { deviceId: client.id, err: describeError(error) }, 'publish not acknowledged by Kafka; closing connection so the device resends');
      } else {
        metrics.acknowledged.inc();
        metrics.pubackLatency.observe((Date.now() - receivedAtMs) / 1000);
      }
      callback(error ?? null);
    }, publish.payload.length);
  };

  const createBroker = async (): Promise<Aedes> => {
    const created = await Aedes.createBroker({
      id: config.gatewayId,
      connectTimeout: config.connectTimeoutMs,
      keepaliveLimit: config.keepaliveLimitS,
      // Packets pipelined behind a CONNECT wait in this queue until the CONNACK; a fuller queue drops the client.
      queueLimit: config.maxPendingPerClient,
      persistence: deps.brokerPersistence,
      preConnect(client, packet, callback) {
        const connection = connections.get(client);
        if (connection) {
          // Aedes replaces an empty client id with a generated one before authenticate; keep the original.
          connection.connectClientId = packet.clientId;
          connection.cleanSession = packet.clean ?? true;
        }
        callback(null, accepting);
      },
      authenticate(client, username, password, callback) {
        const connection = connections.get(client);
        authenticator
          .authenticate({
            clientId: connection?.connectClientId ?? client.id,
            cleanSession: connection?.cleanSession ?? true,
            username: username ?? undefined,
            password: password ?? undefined,
            certificateDeviceId: connection?.certificateSubject,
            remoteAddress: connection?.remoteAddress,
          })
          .then(
            (decision) => {
              if (decision.ok) {
                metrics.connects.inc({ outcome: `accepted_${decision.method}` });
                if (connection && storedSessions.accepted(client.id, connection.cleanSession)) connection.guard.sessionPresent();
                callback(null, true);
              } else {
                metrics.connects.inc({ outcome: `refused_${decision.returnCode}` });
                metrics.authRefusals.inc({ reason: decision.refusal });
                sampled.warn(`auth:${decision.refusal}`, { clientId: client.id, remote: connection?.remoteAddress, reason: decision.reason }, 'connection refused');
                callback(connackError(decision.returnCode, decision.reason), false);
              }
            },
            (error: unknown) => {
              logger.error({ err: error }, 'authentication failed unexpectedly');
              callback(connackError(3, 'server unavailable'), false);
            },
          );
      },
      authorizePublish: onPublish,
      authorizeSubscribe(client, subscription: Subscription, callback) {
        const decision = authorizeSubscribe(client.id, subscription.topic, config.topicLayout);
        if (decision.ok) {
          callback(null, subscription);
        } else {
          metrics.subscribeRefused.inc();
          sampled.warn('subscribe', { deviceId: client.id, topic: subscription.topic, reason: decision.reason }, 'subscription refused');
          callback(null, null);
        }
      },
      // Devices receive only commands; telemetry from one device is never forwarded to another.
      authorizeForward(_client, packet: AedesPublishPacket) {
        return packet;
      },
    });
    created.on('clientReady', (client: Client) => {
      const connection = connections.get(client);
      if (!connection) return;
      connection.ready = true;
      connection.guard.connectAccepted();
    });
    created.on('clientDisconnect', (client: Client) => {
      const connection = connections.get(client);
      if (connection) connection.ready = false;
    });
    created.on('clientError', (client: Client, error: Error) => {
      metrics.clientErrors.inc();
      sampled.warn('client-error', { clientId: client.id, err: error.message }, 'client error');
    });
    created.on('connectionError', (client: Client, error: Error) => {
      metrics.clientErrors.inc();
      sampled.warn('connection-error', { clientId: client.id, err: error.message }, 'connection error');
    });
    return created;
  };

  // Revoking, disabling or rotating a device ends its live session at once.
  registry.onChange(({ deviceId, before, after }) => {
    const revoked = before !== undefined && (after === undefined || !after.enabled || after.secretHash !== before.secretHash);
    if (!revoked) return;
    for (const client of readyClients()) {
      if (client.id !== deviceId) continue;
      metrics.revoked.inc();
      logger.info({ deviceId }, 'device changed in the registry; closing its session');
      client.close();
    }
  });

  return {
    async start() {
      broker = await createBroker();
      accepting = true;
      await listeners.start();
      logger.info({ ports: listeners.addresses(), gatewayId: config.gatewayId }, 'MQTT gateway listening');
    },
    async stop() {
      if (!broker) return;
      accepting = false;
      const listenersClosed = listeners.stopAccepting();
      // Read nothing more from devices: what is in flight finishes, nothing new starts.
      for (const [, connection] of connections.all()) connection.guard.throttle('shutdown', true);
      const drained = (async () => {
        await connections.idle();
        // The last PUBACKs sit corked in their streams until the next tick: closing now would discard them.
        await Promise.all(Array.from(connections.all(), ([, connection]) => connection.guard.flushed()));
      })();
      const drainDeadline = new AbortController();
      await Promise.race([drained, delay(config.shutdownDrainMs, undefined, { signal: drainDeadline.signal }).catch(() => undefined)]);
      drainDeadline.abort();
      const pending = connections.pendingTotal();
      if (pending > 0) logger.warn({ pending }, 'shutdown drain deadline passed; unacknowledged publishes will be resent by devices');
      const closing = broker;
      broker = null;
      await new Promise<void>((resolve) => closing.close(() => resolve()));
      for (const [client] of connections.all()) client.conn.destroy();
      await Promise.race([listenersClosed, delay(5000)]);
    },
    problem() {
      if (!accepting) return 'not accepting connections';
      return sink.problem();
    },
    ports: () => listeners.addresses(),
  };
}
