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
 * The fast lane (ADR 0025) does the same for a chunk of whole QoS 0/1 telemetry publishes without
 * Aedes parsing it, writing the PUBACK itself in the same order.
 *
 * Commands: `handOver` gives a command to its device's persistent session (in memory, or in Redis
 * shared by every replica, see session-store.ts); a device is forwarded nothing but its own commands,
 * never after their expiry. Its PUBACK is reported `delivered`; its answer on its results topic is
 * reported `result` (acknowledged after Kafka has the event, like telemetry). While the session
 * store is unavailable, persistent sessions are refused (CONNACK 3) and the gateway is not ready.
 *
 * Shutdown: readiness goes false, listeners stop accepting, reading from devices stops, the publishes
 * pending finish (bounded by shutdownDrainMs), then Aedes disconnects the remaining clients.
 */
import { Aedes, type AedesPublishPacket, type Client, type PublishPacket, type Subscription } from 'aedes';
import type { Registry } from 'prom-client';
import { setTimeout as delay } from 'node:timers/promises';
import { commandDeliveryPayload, decodeCommandResult, readCommandDelivery, type CommandEvent, type DeviceCommand } from '../core/device-command.ts';
import type { DeviceRegistry } from '../core/device-registry.ts';
import type { Logger } from '../core/logger.ts';
import { PublishRefusedError, type DevicePublish, type PublishRefusal, type PublishRoute, type PublishSink } from '../core/publish-sink.ts';
import { createSampledLogger } from '../core/sampled-logger.ts';
import { describeError } from '../core/errors.ts';
import { retry } from '../core/retry.ts';
import { authorizePublish, authorizeSubscribe, commandTopic, isCommandResultTopic, mayForward } from './acl.ts';
import type { CommandDispatcherMetrics, CommandEventSink, HandOver } from './command-dispatcher.ts';
import { createDeviceAuthenticator } from './device-authenticator.ts';
import { createDeviceConnections } from './device-connections.ts';
import type { GatewayConfig } from './gateway-config.ts';
import { createGatewayMetrics } from './gateway-metrics.ts';
import { failClient, refreshKeepalive } from './aedes-client.ts';
import { guardConnection, type GuardedConnection } from './guarded-connection.ts';
import { skipAedesFanOut, type KafkaOnlyPublishes } from './kafka-only-publishes.ts';
import { createMqttListeners, type AcceptedConnection } from './mqtt-listeners.ts';
import { pubackBytes, readWholePublishes } from './whole-publishes.ts';
import type { PendingCommands } from './pending-commands.ts';
import { createSessionStore } from './session-store.ts';
import { createStoredSessions } from './stored-sessions.ts';

export interface MqttGateway {
  start(): Promise<void>;
  stop(): Promise<void>;
  /** Null when ready to serve, else why not. */
  problem(): string | null;
  ports(): Record<string, number>;
  /** Gives a command to its device's persistent session; 'no_session' when none is subscribed to its commands. */
  handOver(command: DeviceCommand): Promise<HandOver>;
  /** The QoS 1 commands handed over and not yet acknowledged; valid after `start()`. */
  pendingCommands(): PendingCommands;
  /** Where the command dispatcher counts what it consumed, on this gateway's metrics. */
  commandMetrics: CommandDispatcherMetrics;
}

type ConnackError = Error & { returnCode: number };

/** A packet's payload as bytes (Aedes types it as a string or a Buffer). */
function payloadBytes(packet: { payload: string | Buffer }): Buffer {
  return typeof packet.payload === 'string' ? Buffer.from(packet.payload) : packet.payload;
}

function connackError(returnCode: number, message: string): ConnackError {
  return Object.assign(new Error(message), { returnCode });
}

export function createMqttGateway(deps: {
  config: GatewayConfig;
  registry: DeviceRegistry;
  sink: PublishSink;
  logger: Logger;
  metricsRegistry: Registry;
  /** Without Redis: an Aedes persistence of the caller's (tests look into it); Aedes' in-memory one when absent. */
  brokerPersistence?: object;
  /** Where `delivered` and `result` events go. */
  commandEvents: CommandEventSink;
}): MqttGateway {
  const { config, registry, sink, commandEvents } = deps;
  const logger = deps.logger.child({ component: 'gateway' });
  const sessions = createSessionStore({
    redisUrl: config.redisUrl,
    gatewayId: config.gatewayId,
    layout: config.topicLayout,
    logger,
    memoryPersistence: deps.brokerPersistence,
    onSkipped: (operation) => metrics.sessionStoreSkipped.inc({ operation }),
  });
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
    produceRequests: () => sink.produceRequests(),
    commandsPending: () => sessions.pending().count(),
    sessionStoreAvailable: () => sessions.available(),
  });
  const storedSessions = createStoredSessions();
  let accepting = false;
  let broker: Aedes | null = null;
  let kafkaOnly: KafkaOnlyPublishes | null = null;

  const refused = (remote: string | undefined, reason: string, details: object): void => {
    metrics.packetsRefused.inc({ reason });
    sampled.warn(`packet:${reason}`, { remote, reason, ...details }, 'closing connection: packet refused');
  };

  const onConnection = (accepted: AcceptedConnection): void => {
    if (!accepting || !broker) {
      accepted.stream.destroy();
      return;
    }
    let client: Client | null = null;
    const guard = guardConnection(accepted.stream, {
      maxPacketBytes: config.maxPacketBytes,
      preConnectMaxBytes: config.preConnectMaxBytes,
      onRefused: ({ reason, packetBytes }) =>
        refused(accepted.remoteAddress, reason, { packetBytes, maxPacketBytes: config.maxPacketBytes, preConnectMaxBytes: config.preConnectMaxBytes }),
      takeChunk: (chunk) => client !== null && takeTelemetry(client, guard, chunk),
    });
    client = broker.handle(guard.stream);
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
  const countRefusal = (client: Client, topic: string, error: PublishRefusedError): void => {
    metrics.refused.inc({ reason: error.reason });
    sampled.warn(`publish:${error.reason}`, { deviceId: client.id, topic, reason: error.reason, detail: error.message }, 'publish refused');
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
    countRefusal(client, packet.topic, error);
    callback(error);
  };

  // Events the gateway reports on its own: a failure is retried a few times, then logged (the status shows the step missing).
  const report = (event: CommandEvent): void => {
    retry(() => commandEvents.emit(event), { minDelayMs: 200, maxDelayMs: 2000, maxAttempts: 5, shouldRetry: () => true }).catch((error: unknown) => {
      sampled.warn('command-event', { type: event.type, commandId: event.commandId, err: describeError(error) }, 'command event not written to Kafka');
    });
  };

  // The will of a device whose gateway died, published by a surviving replica: forwarded to Kafka as
  // that device's publish. Its topic passed the ACL when the device connected.
  const onOrphanWill = (packet: PublishPacket & { clientId?: string }, callback: (error?: Error | null) => void): void => {
    const deviceId = packet.clientId;
    const route = deviceId !== undefined && authorizePublish(deviceId, packet.topic, config.topicLayout).ok ? sink.route(packet.topic) : null;
    if (deviceId === undefined || route === null) {
      metrics.refused.inc({ reason: 'forbidden_topic' });
      callback(null);
      return;
    }
    const payload = payloadBytes(packet);
    route.forward({ deviceId, mqttTopic: packet.topic, payload, qos: packet.qos, retain: false, receivedAtMs: Date.now() }).then(
      () => callback(null),
      // not deleted: the next will sweep tries again
      (error: unknown) => callback(error instanceof Error ? error : new Error(String(error))),
    );
  };

  // A device's answer to a command, acknowledged once Kafka has the `result` event.
  const onCommandResult = (client: Client, packet: PublishPacket, callback: (error?: Error | null) => void): void => {
    const payload = payloadBytes(packet);
    const decoded = decodeCommandResult(payload);
    if (!decoded.ok) return refusePublish(client, packet, 'invalid_command_result', callback);
    metrics.commandResults.inc({ status: decoded.value.status });
    const written = commandEvents.emit({
      v: 1,
      type: 'result',
      commandId: decoded.value.commandId,
      deviceId: client.id,
      atMs: Date.now(),
      gatewayId: config.gatewayId,
      status: decoded.value.status,
      result: decoded.value,
    });
    if (packet.qos === 0) {
      written.catch((error: unknown) => sampled.warn('command-event', { type: 'result', err: describeError(error) }, 'QoS 0 command result not written to Kafka'));
      callback(null);
      return;
    }
    connections.submit(client, written, (error) => callback(error ?? null), payload.length);
  };

  // The one place that decides where a device's publish to a data topic goes, or why it is refused.
  const routeFor = (deviceId: string, topic: string): PublishRoute | 'forbidden_topic' | 'unmapped_topic' => {
    if (!authorizePublish(deviceId, topic, config.topicLayout).ok) return 'forbidden_topic';
    return sink.route(topic) ?? 'unmapped_topic';
  };

  // A device's publish to one of its data topics, already routed: rate-limited, then forwarded. `done`
  // runs once, with an error when the publish must not be acknowledged (QoS 0: at once, with none).
  const forwardPublish = (client: Client, route: PublishRoute, publish: DevicePublish, done: (error: Error | null) => void): void => {
    const { qos, receivedAtMs } = publish;
    // Over its rate: QoS 0 is dropped, QoS 1/2 is taken; either way the device is not read until its budget refills.
    const rate = connections.get(client)?.rateLimit.admit(publish.payload.length, { mayDrop: qos === 0, nowMs: receivedAtMs });
    if (rate && rate.limitedBy !== null) {
      metrics.rateLimited.inc({ qos, limit: rate.limitedBy });
      sampled.warn(`rate:${rate.limitedBy}`, { deviceId: client.id, qos, limit: rate.limitedBy, pauseMs: rate.pauseMs }, 'device over its rate limit; not read until its budget refills');
    }
    if (rate && rate.pauseMs > 0) connections.pauseForRate(client, rate.pauseMs);
    if (rate && !rate.admitted) {
      dropQos0(client, 'rate_limited');
      done(null);
      return;
    }
    if (qos === 0) {
      if (connections.overloaded()) {
        dropQos0(client, 'overloaded');
      } else {
        route.forward(publish).catch((error: unknown) => {
          if (!(error instanceof PublishRefusedError)) dropQos0(client, 'kafka_failed');
          else if (error.reason === 'queue_full') dropQos0(client, 'queue_full');
          else countRefusal(client, publish.mqttTopic, error);
        });
      }
      done(null);
      return;
    }
    connections.submit(client, route.forward(publish), (error) => {
      if (error instanceof PublishRefusedError) {
        countRefusal(client, publish.mqttTopic, error);
      } else if (error) {
        metrics.failed.inc();
        sampled.warn('kafka', { deviceId: client.id, err: describeError(error) }, 'publish not acknowledged by Kafka; closing connection so the device resends');
      } else {
        metrics.acknowledged.inc();
        metrics.pubackLatency.observe((Date.now() - receivedAtMs) / 1000);
      }
      done(error ?? null);
    }, publish.payload.length);
  };

  // Aedes' authorizePublish hook: every publish Aedes parsed, wills of devices gone included.
  const onPublish = (client: Client | null, packet: PublishPacket, callback: (error?: Error | null) => void): void => {
    if (!client) return onOrphanWill(packet, callback);
    const receivedAtMs = Date.now();
    const qos = packet.qos;
    metrics.received.inc({ qos });
    if (isCommandResultTopic(client.id, packet.topic, config.topicLayout)) return onCommandResult(client, packet, callback);
    const route = routeFor(client.id, packet.topic);
    if (typeof route === 'string') return refusePublish(client, packet, route, callback);
    // Bound for Kafka alone: once acknowledged, Aedes does not fan it out to (impossible) subscribers.
    kafkaOnly?.markKafkaOnly(packet);
    const retain = packet.retain;
    // Aedes stores a retained packet after this hook; no one may subscribe to a data topic, so keep none.
    packet.retain = false;
    forwardPublish(client, route, { deviceId: client.id, mqttTopic: packet.topic, payload: payloadBytes(packet), qos, retain, receivedAtMs }, callback);
  };

  // The fast lane (ADR 0025): a chunk of whole QoS 0 and 1 publishes, each to a data topic of the
  // device's own that routes to Kafka, is handled here as the hook above would (forwarded; a QoS 1
  // PUBACK in order once Kafka has it, or the connection closed) without Aedes parsing it. Any other
  // chunk goes to Aedes whole.
  const takeTelemetry = (client: Client, guard: GuardedConnection, chunk: Buffer): boolean => {
    if (connections.get(client)?.ready !== true) return false;
    const publishes = readWholePublishes(chunk);
    if (publishes === null) return false;
    const routes: PublishRoute[] = [];
    for (const { topic } of publishes) {
      // Command results and refusals are Aedes' hook's to answer.
      const route = isCommandResultTopic(client.id, topic, config.topicLayout) ? null : routeFor(client.id, topic);
      if (route === null || typeof route === 'string') return false;
      routes.push(route);
    }
    const receivedAtMs = Date.now();
    refreshKeepalive(client);
    metrics.fastLane.inc(publishes.length);
    publishes.forEach(({ topic, qos, messageId, payload, retain }, index) => {
      metrics.received.inc({ qos });
      forwardPublish(client, routes[index]!, { deviceId: client.id, mqttTopic: topic, payload, qos, retain, receivedAtMs }, (error) => {
        if (error) failClient(client, error);
        else if (qos === 1) guard.write(pubackBytes(messageId));
      });
    });
    return true;
  };

  const createBroker = async (): Promise<Aedes> => {
    const created = await Aedes.createBroker({
      ...sessions.brokerOptions(),
      heartbeatInterval: config.heartbeatIntervalMs,
      connectTimeout: config.connectTimeoutMs,
      keepaliveLimit: config.keepaliveLimitS,
      // Packets pipelined behind a CONNECT wait in this queue until the CONNACK; a fuller queue drops the client.
      queueLimit: config.maxPendingPerClient,
      preConnect(client, packet, callback) {
        const connection = connections.get(client);
        if (connection) {
          // Aedes replaces an empty client id with a generated one before authenticate; keep the original.
          connection.connectClientId = packet.clientId;
          connection.cleanSession = packet.clean ?? true;
          connection.willTopic = packet.will?.topic;
        }
        callback(null, accepting);
      },
      authenticate(client, username, password, callback) {
        const connection = connections.get(client);
        if (connection && !connection.cleanSession && !sessions.available()) {
          metrics.connects.inc({ outcome: 'refused_3' });
          sampled.warn('auth:session_store', { clientId: client.id }, 'persistent session refused: session store unavailable');
          callback(connackError(3, 'session store unavailable'), false);
          return;
        }
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
              // A will fires later, perhaps from another replica: its topic must be one this device may publish to.
              const willDecision = decision.ok && connection?.willTopic !== undefined ? authorizePublish(client.id, connection.willTopic, config.topicLayout) : { ok: true as const };
              if (!willDecision.ok) {
                metrics.connects.inc({ outcome: 'refused_5' });
                metrics.authRefusals.inc({ reason: 'forbidden_will_topic' });
                sampled.warn('auth:will', { clientId: client.id, topic: connection?.willTopic, reason: willDecision.reason }, 'connection refused: will topic not allowed');
                callback(connackError(5, `will topic not allowed: ${willDecision.reason}`), false);
              } else if (decision.ok) {
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
      // Whatever the session store hands over, a device receives only its own commands, never expired ones.
      authorizeForward(client, packet: AedesPublishPacket) {
        if (!mayForward(client.id, packet.topic, config.topicLayout)) {
          metrics.forwardsRefused.inc({ reason: 'not_own_commands' });
          return null;
        }
        const delivery = readCommandDelivery(payloadBytes(packet));
        if (delivery !== null && Date.now() >= delivery.expiresAtMs) {
          metrics.forwardsRefused.inc({ reason: 'expired' });
          return null;
        }
        // QoS 0 has no PUBACK: written is as delivered as it gets.
        if (delivery !== null && packet.qos === 0) report({ v: 1, type: 'delivered', commandId: delivery.commandId, deviceId: client.id, atMs: Date.now(), gatewayId: config.gatewayId });
        return packet;
      },
    });
    // Aedes' types leave out these two events.
    const events = created as unknown as NodeJS.EventEmitter;
    events.on('ack', (packet: AedesPublishPacket | undefined, client: Client) => {
      if (!packet || packet.cmd !== 'publish' || !mayForward(client.id, packet.topic, config.topicLayout)) return;
      const delivery = readCommandDelivery(payloadBytes(packet));
      if (delivery === null) return;
      const nowMs = Date.now();
      metrics.commandsDelivered.inc();
      metrics.commandDeliveryLatency.observe(Math.max(0, nowMs - delivery.issuedAtMs) / 1000);
      sessions
        .pending()
        .settle(client.id, delivery.commandId)
        .catch((error: unknown) => sampled.warn('pending-settle', { err: describeError(error) }, 'could not clear a delivered command from the pending set'));
      report({ v: 1, type: 'delivered', commandId: delivery.commandId, deviceId: client.id, atMs: nowMs, gatewayId: config.gatewayId });
    });
    // Aedes reports session-store failures (a lookup that failed, a will sweep that failed) here; without a listener they would end the process.
    events.on('error', (error: Error) => {
      metrics.brokerErrors.inc();
      sampled.warn('broker-error', { err: error.message }, 'broker error');
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
    // Before any device connects: telemetry the hook marks skips Aedes' fan-out (ADR 0023).
    kafkaOnly = skipAedesFanOut(created);
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
      await sessions.start();
      broker = await createBroker();
      accepting = true;
      await listeners.start();
      logger.info({ ports: listeners.addresses(), gatewayId: config.gatewayId }, 'MQTT gateway listening');
    },
    async stop() {
      if (!broker) {
        await sessions.stop();
        return;
      }
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
      await sessions.stop();
    },
    problem() {
      if (!accepting) return 'not accepting connections';
      return sessions.problem() ?? sink.problem();
    },
    ports: () => listeners.addresses(),
    pendingCommands: () => sessions.pending(),
    commandMetrics: {
      consumed: (outcome) => metrics.commandsConsumed.inc({ outcome }),
      expired: (where) => metrics.commandsExpired.inc({ where }),
    },
    async handOver(command) {
      const running = broker;
      if (!running) throw new Error('gateway not running');
      const topic = commandTopic(command.deviceId, command.name, config.topicLayout);
      const { persistence } = running as unknown as { persistence: { subscriptionsByTopic(topic: string): Promise<unknown[]> } };
      // The device's own stored subscriptions (session-persistence.ts): clean sessions keep none.
      if ((await persistence.subscriptionsByTopic(topic)).length === 0) return 'no_session';
      await new Promise<void>((resolve, reject) => {
        running.publish({ cmd: 'publish', topic, payload: commandDeliveryPayload(command), qos: command.qos, retain: false, dup: false }, (error) => (error ? reject(error) : resolve()));
      });
      return 'queued';
    },
  };
}
