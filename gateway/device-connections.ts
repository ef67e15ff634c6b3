/**
 * Every connection the gateway holds, in one table keyed by its Aedes client: what its CONNECT said,
 * whether it is authenticated, the guard that can stop reading from it, and its QoS 1/2 publishes
 * waiting for Kafka in arrival order. Counts (connected devices, pending publishes) come from this table.
 *
 * Acknowledgements: Aedes writes the PUBACK when the authorizePublish callback runs, so calling the
 * callbacks of one connection in arrival order gives in-order PUBACKs [MQTT-4.6.0-2] although Kafka
 * may acknowledge out of order. A failed publish calls back with its error, which makes Aedes close
 * the connection without acknowledging it; the device resends after reconnecting.
 *
 * Backpressure: a connection with `perClientMax` publishes pending stops being read, and so does every
 * connection that publishes while `globalMax` publishes or `globalMaxBytes` payload bytes are pending
 * overall; reading resumes below half the cap, so throttling does not flap on every message. A
 * connection over its rate limit (rate-limit.ts, one per connection) is not read for the time
 * `pauseForRate` is given.
 */
import type { GuardedConnection } from './guarded-connection.ts';
import { createRateLimit, type RateLimit, type RateLimits } from './rate-limit.ts';

export type AckCallback = (error?: Error | null) => void;

export interface DeviceConnection {
  readonly guard: Pick<GuardedConnection, 'throttle' | 'flushed' | 'connectAccepted' | 'sessionPresent'>;
  /** The device id a TLS client certificate names, if one was presented. */
  readonly certificateSubject: string | undefined;
  /** The peer's address, which failed authentications are counted against. */
  readonly remoteAddress?: string | undefined;
  /** The client id as CONNECT carried it: Aedes replaces an empty one with a generated id before authenticate. */
  connectClientId: string;
  cleanSession: boolean;
  /** The will topic of the CONNECT, checked against the ACL before the session is accepted. */
  willTopic: string | undefined;
  /** Authenticated and registered with Aedes, until it disconnects. */
  ready: boolean;
  /** QoS 0 messages of this connection that were dropped, for the sampled log. */
  qos0Dropped: number;
  /** This connection's publish rate limit. */
  readonly rateLimit: RateLimit;
}

export interface DeviceConnectionsOptions {
  perClientMax: number;
  globalMax: number;
  /** Payload bytes pending over every connection at most (as `globalMax`). */
  globalMaxBytes: number;
  /** Each connection's publish rate limit. */
  rateLimits: RateLimits;
  /** Called when a connection stops being read because of a cap or its rate limit. */
  onThrottled: (reason: 'client' | 'global' | 'rate') => void;
}

export interface DeviceConnections<C> {
  /** Adds a connection that has just been accepted. */
  open(client: C, connection: Pick<DeviceConnection, 'guard' | 'certificateSubject' | 'remoteAddress'>): DeviceConnection;
  get(client: C): DeviceConnection | undefined;
  /** The connection closed: it leaves the table once its pending callbacks ran (they still run when their work settles). */
  close(client: C): void;
  /** Open connections. */
  all(): IterableIterator<[C, DeviceConnection]>;
  /** Registers a publish of `bytes` payload bytes whose outcome is `work`; `callback` runs in arrival order per client. */
  submit(client: C, work: Promise<void>, callback: AckCallback, bytes?: number): void;
  /** QoS 1/2 publishes whose callback has not run yet, over every connection. */
  pendingTotal(): number;
  /** Their payload bytes. */
  pendingBytes(): number;
  /** Whether either global cap (publishes, bytes) is reached: QoS 0 is then dropped. */
  overloaded(): boolean;
  /** Stops reading from the connection for `ms` (longer if already paused for longer). */
  pauseForRate(client: C, ms: number): void;
  /** Open connections paused by their rate limit now. */
  rateLimited(): number;
  /** Resolves once no publish is pending (at once when none is). */
  idle(): Promise<void>;
}

interface PendingAck {
  done: boolean;
  bytes: number;
  error: Error | null;
  callback: AckCallback;
}

interface Entry extends DeviceConnection {
  open: boolean;
  readonly acks: PendingAck[];
  ratePause: { timer: NodeJS.Timeout; untilMs: number } | null;
}

export function createDeviceConnections<C>(options: DeviceConnectionsOptions): DeviceConnections<C> {
  const entries = new Map<C, Entry>();
  // The sum of every entry's acks.length, kept in step by submit and release: the caps are checked per message.
  let pending = 0;
  let pendingBytes = 0;
  let globalCapHeld = false;
  let idleWaiters: Array<() => void> = [];
  const clientResumeAt = Math.floor(options.perClientMax / 2);
  const globalResumeAt = Math.floor(options.globalMax / 2);
  const globalResumeAtBytes = Math.floor(options.globalMaxBytes / 2);
  const overloaded = (): boolean => pending >= options.globalMax || pendingBytes >= options.globalMaxBytes;

  const throttle = (entry: Entry, reason: 'client' | 'global' | 'rate', on: boolean): void => {
    if (entry.open && entry.guard.throttle(reason, on) && on) options.onThrottled(reason);
  };

  const release = (client: C, entry: Entry): void => {
    const { acks } = entry;
    while (acks.length > 0 && acks[0]!.done) {
      const ack = acks.shift()!;
      pending -= 1;
      pendingBytes -= ack.bytes;
      ack.callback(ack.error);
    }
    if (acks.length === 0 && !entry.open && entries.get(client) === entry) entries.delete(client);
    if (acks.length <= clientResumeAt) throttle(entry, 'client', false);
    if (globalCapHeld && pending <= globalResumeAt && pendingBytes <= globalResumeAtBytes) {
      globalCapHeld = false;
      for (const other of entries.values()) throttle(other, 'global', false);
    }
    if (pending === 0 && idleWaiters.length > 0) {
      const waiters = idleWaiters;
      idleWaiters = [];
      for (const resolve of waiters) resolve();
    }
  };

  const open = (client: C, connection: Pick<DeviceConnection, 'guard' | 'certificateSubject' | 'remoteAddress'>): Entry => {
    const entry: Entry = {
      ...connection,
      connectClientId: '',
      cleanSession: true,
      willTopic: undefined,
      ready: false,
      qos0Dropped: 0,
      rateLimit: createRateLimit(options.rateLimits, Date.now()),
      open: true,
      acks: [],
      ratePause: null,
    };
    entries.set(client, entry);
    return entry;
  };

  const closedEntry = (client: C): Entry => {
    const entry = open(client, { guard: { throttle: () => false, flushed: () => Promise.resolve(), connectAccepted: () => undefined, sessionPresent: () => undefined }, certificateSubject: undefined });
    entry.open = false;
    return entry;
  };

  return {
    open,
    get: (client) => {
      const entry = entries.get(client);
      return entry?.open ? entry : undefined;
    },
    close(client) {
      const entry = entries.get(client);
      if (!entry) return;
      entry.open = false;
      entry.ready = false;
      if (entry.ratePause) clearTimeout(entry.ratePause.timer);
      entry.ratePause = null;
      if (entry.acks.length === 0) entries.delete(client);
    },
    *all() {
      for (const [client, entry] of entries) if (entry.open) yield [client, entry];
    },
    submit(client, work, callback, bytes = 0) {
      // A will published after its connection closed still runs through here.
      const entry = entries.get(client) ?? closedEntry(client);
      const ack: PendingAck = { done: false, bytes, error: null, callback };
      entry.acks.push(ack);
      pending += 1;
      pendingBytes += bytes;
      if (entry.acks.length >= options.perClientMax) throttle(entry, 'client', true);
      if (overloaded()) {
        globalCapHeld = true;
        throttle(entry, 'global', true);
      }
      work.then(
        () => {
          ack.done = true;
          release(client, entry);
        },
        (error: unknown) => {
          ack.done = true;
          ack.error = error instanceof Error ? error : new Error(String(error));
          release(client, entry);
        },
      );
    },
    pendingTotal: () => pending,
    pendingBytes: () => pendingBytes,
    overloaded,
    pauseForRate(client, ms) {
      const entry = entries.get(client);
      if (!entry?.open) return;
      const untilMs = Date.now() + ms;
      if (entry.ratePause) {
        if (entry.ratePause.untilMs >= untilMs) return;
        clearTimeout(entry.ratePause.timer);
      }
      const timer = setTimeout(() => {
        entry.ratePause = null;
        throttle(entry, 'rate', false);
      }, ms);
      entry.ratePause = { timer, untilMs };
      throttle(entry, 'rate', true);
    },
    rateLimited() {
      let count = 0;
      for (const entry of entries.values()) if (entry.open && entry.ratePause) count += 1;
      return count;
    },
    idle: () => (pending === 0 ? Promise.resolve() : new Promise((resolve) => idleWaiters.push(resolve))),
  };
}
