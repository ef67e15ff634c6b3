/**
 * Where MQTT sessions live: this process's memory (one gateway), or Redis, shared by every gateway
 * replica (TRIBUTARY_GATEWAY_REDIS_URL): subscriptions, queued QoS 1 messages and wills, through
 * aedes-persistence-redis, with the routing emitter carrying commands and `$SYS` between replicas.
 *
 * With Redis, the broker id is new on every boot: stored packets are keyed by broker id and a counter
 * that restarts at 0, so a reused id would overwrite another device's queued command with a new one.
 * Stored command packets expire with their command (packetTTL), so an expired command is gone from
 * Redis even if its device never comes back. Redis connections retry forever; while one is down,
 * `problem()` says so and `available()` is false.
 *
 * Factories do no I/O: connections open in `start()`, which waits for Redis (bounded), and close in `stop()`.
 */
import { randomUUID } from 'node:crypto';
import { setTimeout as delay } from 'node:timers/promises';
import memoryPersistence from 'aedes-persistence';
import persistenceRedis from 'aedes-persistence-redis';
import { Redis } from 'ioredis';
import mqemitterRedis from 'mqemitter-redis';
import { readCommandDelivery } from '../core/device-command.ts';
import { InfraError } from '../core/errors.ts';
import type { Logger } from '../core/logger.ts';
import { waitFor } from '../core/wait-for.ts';
import { commandTopicDevice, type TopicLayout } from './acl.ts';
import { createMemoryPendingCommands, createRedisPendingCommands, type PendingCommands } from './pending-commands.ts';
import { createRoutingEmitter, type MessageEmitter } from './routing-emitter.ts';
import { adaptPersistence } from './session-persistence.ts';

export interface SessionStore {
  /** True when gateway replicas share it (Redis). */
  readonly shared: boolean;
  /** Aedes' broker id, persistence and message bus; valid after `start()`. */
  brokerOptions(): { id: string; persistence: object; mq?: MessageEmitter };
  pending(): PendingCommands;
  /** False while the store cannot be reached: persistent sessions are refused meanwhile. */
  available(): boolean;
  problem(): string | null;
  start(): Promise<void>;
  stop(): Promise<void>;
}

export interface SessionStoreOptions {
  redisUrl: string | null;
  gatewayId: string;
  layout: TopicLayout;
  logger: Logger;
  /** A clean-session CONNECT skipped a store operation because the store was unavailable. */
  onSkipped: (operation: string) => void;
  /** How long `start()` waits for Redis. */
  startTimeoutMs?: number;
  /** Without Redis: an Aedes persistence of the caller's (tests look into it); Aedes' in-memory one when absent. */
  memoryPersistence?: object;
}

/** Seconds a stored packet outlives its command's expiry, so a delivery racing the expiry still finds it. */
const packetTtlGraceS = 5;

export function createSessionStore(options: SessionStoreOptions): SessionStore {
  return options.redisUrl === null ? createMemorySessionStore(options) : createRedisSessionStore({ ...options, redisUrl: options.redisUrl });
}

function createMemorySessionStore(options: SessionStoreOptions): SessionStore {
  const pending = createMemoryPendingCommands();
  let persistence: object | null = null;
  return {
    shared: false,
    brokerOptions() {
      persistence ??= adaptPersistence(options.memoryPersistence ?? (memoryPersistence as unknown as () => object)(), { layout: options.layout, available: () => true, onSkipped: options.onSkipped });
      return { id: options.gatewayId, persistence };
    },
    pending: () => pending,
    available: () => true,
    problem: () => null,
    async start() {},
    async stop() {},
  };
}

function createRedisSessionStore(options: SessionStoreOptions & { redisUrl: string }): SessionStore {
  const logger = options.logger.child({ component: 'session-store' });
  const brokerId = `${options.gatewayId}-${randomUUID()}`;
  let connections: { db: Redis; publisher: Redis; subscriber: Redis; systemPublisher: Redis; systemSubscriber: Redis } | null = null;
  let built: { persistence: object; mq: MessageEmitter; pending: PendingCommands } | null = null;

  const connect = (role: string): Redis => {
    // lazyConnect: nothing opens before start(); maxRetriesPerRequest: a command fails after a few
    // reconnect attempts instead of waiting for Redis forever (callers retry or refuse).
    const redis = new Redis(options.redisUrl, { lazyConnect: true, maxRetriesPerRequest: 2, connectionName: `tributary-gateway-${role}`, retryStrategy: (times) => Math.min(times * 200, 2000) });
    let lastLoggedAtMs = 0;
    redis.on('error', (error: Error) => {
      if (Date.now() - lastLoggedAtMs < 10_000) return;
      lastLoggedAtMs = Date.now();
      logger.warn({ role, err: error.message }, 'Redis connection error; reconnecting');
    });
    redis.on('ready', () => logger.info({ role }, 'Redis connection ready'));
    return redis;
  };
  const packetTTL = (packet: { topic: string; payload: Buffer }): number => {
    if (commandTopicDevice(packet.topic, options.layout) === null) return 0;
    const delivery = readCommandDelivery(packet.payload);
    if (delivery === null) return 0;
    return Math.max(1, Math.ceil((delivery.expiresAtMs - Date.now()) / 1000) + packetTtlGraceS);
  };
  const available = (): boolean => connections !== null && Object.values(connections).every((redis) => redis.status === 'ready');

  return {
    shared: true,
    brokerOptions() {
      if (!built) throw new Error('session store not started');
      return { id: brokerId, persistence: built.persistence, mq: built.mq };
    },
    pending() {
      if (!built) throw new Error('session store not started');
      return built.pending;
    },
    available,
    problem: () => (available() ? null : 'Redis (session store) unavailable'),
    async start() {
      const db = connect('sessions');
      const publisher = connect('commands-publish');
      const subscriber = connect('commands-subscribe');
      const systemPublisher = connect('sys-publish');
      const systemSubscriber = connect('sys-subscribe');
      connections = { db, publisher, subscriber, systemPublisher, systemSubscriber };
      for (const redis of Object.values(connections)) redis.connect().catch(() => undefined);
      const timeoutMs = options.startTimeoutMs ?? 60_000;
      try {
        await waitFor(available, { timeoutMs, intervalMs: 100, description: `Redis at ${options.redisUrl}` });
      } catch (error) {
        throw new InfraError('REDIS_UNAVAILABLE', `Redis at ${options.redisUrl} not reachable within ${timeoutMs} ms`, { retriable: true, cause: error });
      }
      // mqemitter-redis gets connections that are ready already: its own connect at once and queue its first
      // PSUBSCRIBEs ahead of ioredis' ready check, which then fails ("Connection in subscriber mode") and leaves
      // `$SYS/sub/+` unsubscribed. Aedes waits for its own `$SYS/sub/add` to come back before a SUBACK, so
      // every SUBSCRIBE of a persistent session would then hang (seen in 3 of 9 gateway starts).
      const system = mqemitterRedis({ subConn: systemSubscriber, pubConn: systemPublisher }) as unknown as MessageEmitter & { state: NodeJS.EventEmitter };
      system.state.on('error', (error: Error) => logger.warn({ err: error.message }, 'Redis $SYS emitter error'));
      built = {
        persistence: adaptPersistence(persistenceRedis({ conn: db, packetTTL }), { layout: options.layout, available, onSkipped: options.onSkipped }),
        mq: createRoutingEmitter({ layout: options.layout, publisher, subscriber, system, logger }),
        pending: createRedisPendingCommands(db),
      };
      logger.info({ brokerId, url: options.redisUrl }, 'sessions stored in Redis');
    },
    async stop() {
      const open = connections;
      connections = null;
      if (!open) return;
      // QUIT lets Redis finish what it was sent; disconnect if it does not answer.
      await Promise.all(Object.values(open).map((redis) => Promise.race([redis.quit().catch(() => undefined), delay(2000)]).then(() => redis.disconnect())));
    },
  };
}
