/**
 * The device-fleet simulator: N MQTT connections from one process, each a device that publishes
 * telemetry with its own seq at a share of one fixed offered rate. Connections are bare MQTT 3.1.1
 * (raw-mqtt-connection.ts) on mqtt:// and mqtts://, and mqtt.js on ws:// or when asked
 * (`client: 'mqttjs'`), so the generator's own cost can be compared.
 *
 * Connections open in batches of `connectConcurrency`, so neither side sees a CONNECT storm.
 * Publishing is open loop: a single timer releases the messages due since the start (rate ×
 * elapsed) round-robin over the devices. A device sends at most `maxInflightPerDevice` unacknowledged
 * QoS 1 messages, like a real client; a message due while its device is full or disconnected waits
 * in the device's backlog and is sent when a PUBACK frees a slot (the schedule lag is reported).
 * Messages still in a backlog when the run ends are counted as not sent.
 *
 * Delivery: a device keeps its unacknowledged QoS 1 messages and resends them (same seq, same
 * payload) when it has reconnected, so it behaves at least once; a message counts as failed only
 * when it is given up (QoS 0 after a drop, or reconnecting disabled). Every sent and every
 * acknowledged (device, seq) goes into a ledger that the end-to-end audit compares with Kafka and
 * QuestDB.
 */
import mqtt, { type IClientOptions } from 'mqtt';
import { setTimeout as delay } from 'node:timers/promises';
import { falseOnTimeout, waitFor } from '../core/wait-for.ts';
import { createLatencyHistogram, type LatencyHistogram } from './latency-histogram.ts';
import { createMessageLedger, type MessageLedger } from './message-ledger.ts';
import { encodeTopic, openRawConnection } from './raw-mqtt-connection.ts';
import { createRateSchedule } from './rate-schedule.ts';
import { createTelemetryEncoder } from './telemetry-encoder.ts';
import { buildTelemetryPayload, schemaVersionOf, type SchemaVersion } from './telemetry-generator.ts';

export interface DeviceCredential {
  deviceId: string;
  secret: string;
}

export interface FleetOptions {
  /** `mqtt://host:port`, `mqtts://host:port` or `ws://host:port/mqtt`. */
  url: string;
  devices: readonly DeviceCredential[];
  /** Devices publish to `{topicPrefix}/{deviceId}/telemetry`. */
  topicPrefix: string;
  qos: 0 | 1;
  /** Share of devices (0..100) that speak telemetry v2; the rest speak v1. */
  v2Percent: number;
  /** Readings per message (1..8). */
  readings: number;
  maxInflightPerDevice: number;
  connectConcurrency: number;
  keepaliveS: number;
  /** Reconnect a device whose connection drops during the run (after 1-2 s). */
  reconnect: boolean;
  /** TLS: CA to trust, and whether to verify the server certificate. */
  tls?: { ca?: Buffer; rejectUnauthorized: boolean };
  /** Sees every publish and PUBACK of these device indexes (the queryable-latency probe). */
  observer?: FleetObserver;
  /** MQTT client: bare connections (default; mqtt:// and mqtts://) or mqtt.js (any URL). */
  client?: FleetClient;
  /** How often the schedule releases what is due, ms (default {@link defaultTickMs}): messages due within one tick leave together. */
  tickMs?: number;
}

export type FleetClient = 'raw' | 'mqttjs';

/** One device's connection, whichever client makes it. */
interface DeviceConnection {
  /**
   * Publishes the device's telemetry for (seq, sentAtMs): the same bytes every time, so a resend is
   * the same message. `done` runs on the PUBACK (QoS 1) or once written (QoS 0); it may never run if the connection drops.
   */
  publish(seq: number, sentAtMs: number, done: (error?: Error) => void): void;
  end(): Promise<void>;
}

interface ConnectionEvents {
  onConnect: () => void;
  /** Refused, timed out, dropped or ended; once per connection. */
  onClose: () => void;
}

export interface FleetObserver {
  devices: ReadonlySet<number>;
  onSent(deviceIndex: number, seq: number, sentAtMs: number): void;
  onFailed(deviceIndex: number, seq: number): void;
}

export interface FleetStats {
  devices: number;
  connected: number;
  connectFailures: number;
  connectMs: number;
  disconnects: number;
  /** Messages the schedule released (offered load). */
  offered: number;
  sent: number;
  /** Retransmissions after a reconnect (not counted in `sent`). */
  resent: number;
  /** QoS 1: PUBACK received. QoS 0: written to the socket. */
  acknowledged: number;
  /** The client gave up on the message (connection closed, no ack). */
  failed: number;
  /** Sent, neither acknowledged nor failed yet. */
  inFlight: number;
  /** Released by the schedule but waiting for a free in-flight slot or a connection. */
  backlog: number;
  /** Released but never sent because the run ended first. */
  notSent: number;
  /** Messages that left later than their release (device full or disconnected). */
  deferred: number;
  /** Largest delay between a timer tick's due time and its run: the generator's own saturation. */
  maxTickLateMs: number;
  readingsPerMessage: number;
}

export interface DeviceFleet {
  /** Opens every connection (batched); resolves when each device connected or failed. */
  connect(signal?: AbortSignal): Promise<void>;
  /** Offers `ratePerSec` for `durationMs`, then waits up to `drainTimeoutMs` for outstanding acks and reconnects. */
  run(options: { ratePerSec: number; durationMs: number; drainTimeoutMs: number; signal?: AbortSignal }): Promise<void>;
  stats(): FleetStats;
  /**
   * Starts a new measuring window (after a warm-up): zeroes the message counters and the PUBACK
   * histogram. The ledgers keep every message, since the audits count them all; the connection
   * figures (connectMs, connectFailures) and the gauges (connected, inFlight, backlog) stay.
   */
  resetCounters(): void;
  /** Publish→PUBACK latency (QoS 1) or publish→written (QoS 0), ms. */
  pubackLatency: LatencyHistogram;
  /** Every (device index, seq) sent. */
  sentLedger: MessageLedger;
  /** Every (device index, seq) acknowledged (QoS 1 only). */
  ackedLedger: MessageLedger;
  deviceIndexOf(deviceId: string): number | undefined;
  close(): Promise<void>;
}

interface PendingMessage {
  /** The payload's send time: with the seq, it rebuilds the same payload for a resend. */
  sentAtMs: number;
  /** performance.now() at the first transmission: latency counts from here, resends included. */
  startedAt: number;
}

interface SimulatedDevice {
  index: number;
  credential: DeviceCredential;
  topic: string;
  version: SchemaVersion;
  connection: DeviceConnection | null;
  /** Called with the outcome of the connection `connect` is waiting for. */
  firstOutcome: ((connected: boolean) => void) | null;
  /** Bumped whenever a connection is given up: callbacks and events of older clients are ignored. */
  generation: number;
  connected: boolean;
  nextSeq: number;
  /** Sent and not yet acknowledged, by seq: resent on the next connection after a drop. */
  pending: Map<number, PendingMessage>;
  backlog: number;
  /** Reconnects tried since the connection dropped; 0 while connected or never connected. */
  reconnectAttempts: number;
}

/**
 * The schedule's tick: 1 ms, the finest a Node timer gives. Independent devices spread their sends
 * over time; a coarser tick sends what fell due in it as one burst, which batches work all along
 * the pipeline and flatters its CPU per message (5 ms until 2026-12-04: 50 messages a burst at
 * 10,000 msg/s; docs/benchmarks/arrivals.md).
 */
export const defaultTickMs = 1;
const noop = (): void => undefined;

/** Creates the fleet; no connections until `connect`. */
export function createDeviceFleet(options: FleetOptions): DeviceFleet {
  const tickMs = options.tickMs ?? defaultTickMs;
  const devices: SimulatedDevice[] = options.devices.map((credential, index) => ({
    index,
    credential,
    topic: `${options.topicPrefix}/${credential.deviceId}/telemetry`,
    version: schemaVersionOf(index, options.v2Percent),
    connection: null,
    firstOutcome: null,
    generation: 0,
    connected: false,
    nextSeq: 0,
    pending: new Map(),
    backlog: 0,
    reconnectAttempts: 0,
  }));
  const indexById = new Map(devices.map((device) => [device.credential.deviceId, device.index]));
  const pubackLatency = createLatencyHistogram();
  const sentLedger = createMessageLedger(devices.length);
  const ackedLedger = createMessageLedger(devices.length);
  const observer = options.observer;
  const messageCounters = (): Pick<FleetStats, 'disconnects' | 'offered' | 'sent' | 'resent' | 'acknowledged' | 'failed' | 'notSent' | 'deferred' | 'maxTickLateMs'> => ({
    disconnects: 0,
    offered: 0,
    sent: 0,
    resent: 0,
    acknowledged: 0,
    failed: 0,
    notSent: 0,
    deferred: 0,
    maxTickLateMs: 0,
  });
  const counters = { connectFailures: 0, connectMs: 0, ...messageCounters() };
  let running = false;
  let closing = false;

  const transmit = (device: SimulatedDevice, seq: number, message: PendingMessage): void => {
    const connection = device.connection;
    if (!connection) return;
    const generation = device.generation;
    connection.publish(seq, message.sentAtMs, (error) => {
      // A dropped connection's callbacks: its messages are resent on the next connection.
      if (generation !== device.generation || !device.pending.delete(seq)) return;
      if (error) {
        counters.failed += 1;
        if (observer?.devices.has(device.index) === true) observer.onFailed(device.index, seq);
      } else {
        counters.acknowledged += 1;
        pubackLatency.recordMs(performance.now() - message.startedAt);
        if (options.qos === 1) ackedLedger.add(device.index, seq);
      }
      sendFromBacklog(device);
    });
  };

  const publish = (device: SimulatedDevice): void => {
    const seq = device.nextSeq;
    device.nextSeq += 1;
    counters.sent += 1;
    const sentAtMs = Date.now();
    const message: PendingMessage = { sentAtMs, startedAt: performance.now() };
    device.pending.set(seq, message);
    sentLedger.add(device.index, seq);
    if (observer?.devices.has(device.index) === true) observer.onSent(device.index, seq, sentAtMs);
    transmit(device, seq, message);
  };

  const sendFromBacklog = (device: SimulatedDevice): void => {
    while (running && device.backlog > 0 && device.connected && device.pending.size < options.maxInflightPerDevice) {
      device.backlog -= 1;
      counters.deferred += 1;
      publish(device);
    }
  };

  /** Gives up on every pending message of a device (QoS 0 after a drop, or no reconnecting). */
  const failPending = (device: SimulatedDevice): void => {
    for (const seq of device.pending.keys()) {
      counters.failed += 1;
      if (observer?.devices.has(device.index) === true) observer.onFailed(device.index, seq);
    }
    device.pending.clear();
  };

  const url = new URL(options.url);
  const useRaw = (options.client ?? 'raw') === 'raw';
  if (useRaw && url.protocol !== 'mqtt:' && url.protocol !== 'mqtts:') throw new Error(`the bare MQTT client speaks mqtt:// and mqtts:// only, not ${url.protocol}; use client mqttjs`);

  // Payloads are written into one scratch buffer that the connection copies from at once.
  const encoders = { 1: createTelemetryEncoder(1, options.readings), 2: createTelemetryEncoder(2, options.readings) };
  const scratch = Buffer.allocUnsafe(Math.max(encoders[1].maxBytes, encoders[2].maxBytes));

  const openRaw = (device: SimulatedDevice, events: ConnectionEvents): DeviceConnection => {
    const topic = encodeTopic(device.topic);
    const encoder = encoders[device.version];
    const connection = openRawConnection({
      url,
      clientId: device.credential.deviceId,
      username: device.credential.deviceId,
      password: device.credential.secret,
      keepaliveS: options.keepaliveS,
      connectTimeoutMs: 30_000,
      ...(options.tls && { tls: options.tls }),
      ...events,
    });
    return {
      publish: (seq, sentAtMs, done) => connection.publish(topic, scratch.subarray(0, encoder.write(scratch, 0, seq, sentAtMs)), options.qos, done),
      end: () => connection.end(),
    };
  };

  const mqttjsOptions = (credential: DeviceCredential): IClientOptions => ({
    clientId: credential.deviceId,
    username: credential.deviceId,
    password: credential.secret,
    protocolVersion: 4,
    clean: true,
    keepalive: options.keepaliveS,
    manualConnect: true,
    reconnectPeriod: 0,
    connectTimeout: 30_000,
    queueQoSZero: false,
    // mqtt.js calls its debug logger on every packet; a no-op saves a few per cent of generator CPU.
    log: noop,
    ...(options.tls && { ca: options.tls.ca, rejectUnauthorized: options.tls.rejectUnauthorized }),
  });

  const openMqttjs = (device: SimulatedDevice, events: ConnectionEvents): DeviceConnection => {
    const client = mqtt.connect(options.url, mqttjsOptions(device.credential));
    let closed = false;
    client.on('connect', events.onConnect);
    client.on('close', () => {
      if (closed) return;
      closed = true;
      client.end(true);
      events.onClose();
    });
    client.on('error', noop);
    client.connect();
    return {
      publish: (seq, sentAtMs, done) => void client.publish(device.topic, buildTelemetryPayload(device.version, seq, sentAtMs, options.readings), { qos: options.qos }, (error) => done(error)),
      end: () =>
        new Promise<void>((resolve) => {
          // end() of a client that never connected may not call back: do not wait forever.
          const timer = setTimeout(resolve, 5000);
          client.end(true, {}, () => {
            clearTimeout(timer);
            resolve();
          });
        }),
    };
  };

  /**
   * Opens a new connection for the device. After a drop the device resends its unacknowledged
   * messages itself, on a fresh connection with the same payloads (same seq and send time), like
   * real firmware: mqtt.js's own replay of its store after a manual reconnect proved unreliable (a
   * message could stay unacknowledged for good).
   */
  const openClient = (device: SimulatedDevice): void => {
    const generation = device.generation;
    const settleFirst = (connected: boolean): void => {
      const outcome = device.firstOutcome;
      device.firstOutcome = null;
      outcome?.(connected);
    };
    const events: ConnectionEvents = {
      onConnect: () => {
        if (generation !== device.generation) return;
        device.connected = true;
        device.reconnectAttempts = 0;
        settleFirst(true);
        for (const [seq, message] of device.pending) {
          counters.resent += 1;
          transmit(device, seq, message);
        }
        sendFromBacklog(device);
      },
      onClose: () => {
        if (generation !== device.generation || closing) return;
        settleFirst(false);
        const wasConnected = device.connected;
        device.connected = false;
        if (wasConnected) counters.disconnects += 1;
        else if (device.reconnectAttempts === 0) return; // a first connect that failed: `connect` retries it
        if (!options.reconnect || options.qos === 0) failPending(device);
        if (!options.reconnect) return;
        device.generation += 1;
        device.reconnectAttempts += 1;
        // Jittered and backing off to 5 s, so a gateway restart does not bring every device back at once.
        const delayMs = Math.min(5000, 1000 * device.reconnectAttempts) * (1 + Math.random());
        setTimeout(() => {
          if (!closing) openClient(device);
        }, delayMs).unref();
      },
    };
    device.connection = useRaw ? openRaw(device, events) : openMqttjs(device, events);
  };

  const connectOne = (device: SimulatedDevice): Promise<boolean> =>
    new Promise((resolve) => {
      device.firstOutcome = resolve;
      openClient(device);
    });

  const stats = (): FleetStats => {
    let connected = 0;
    let inFlight = 0;
    let backlog = 0;
    for (const device of devices) {
      if (device.connected) connected += 1;
      inFlight += device.pending.size;
      backlog += device.backlog;
    }
    return { devices: devices.length, connected, ...counters, inFlight, backlog, readingsPerMessage: Math.max(1, Math.min(8, options.readings)) };
  };

  return {
    pubackLatency,
    sentLedger,
    ackedLedger,
    stats,
    resetCounters() {
      Object.assign(counters, messageCounters());
      pubackLatency.reset();
    },
    deviceIndexOf: (deviceId) => indexById.get(deviceId),

    async connect(signal) {
      const started = performance.now();
      let next = 0;
      const worker = async (): Promise<void> => {
        while (next < devices.length && !signal?.aborted) {
          const device = devices[next]!;
          next += 1;
          // A registry change reaches the gateway within seconds: retry a refused device a few times.
          for (let attempt = 0; attempt < 5; attempt += 1) {
            if (await connectOne(device)) break;
            if (closing || signal?.aborted) return;
            device.generation += 1;
            await device.connection?.end();
            device.connection = null;
            if (attempt === 4) counters.connectFailures += 1;
            else await delay(500 * (attempt + 1));
          }
        }
      };
      await Promise.all(Array.from({ length: Math.max(1, Math.min(options.connectConcurrency, devices.length)) }, worker));
      counters.connectMs = Math.round(performance.now() - started);
    },

    async run({ ratePerSec, durationMs, drainTimeoutMs, signal }) {
      const startMs = performance.now();
      // Elapsed time, not clock readings: (start + duration) − start can fall short of the duration
      // in floating point, and the last message due would never be offered.
      const schedule = createRateSchedule({ ratePerSec, startMs: 0 });
      const endMs = startMs + durationMs;
      let cursor = 0;
      running = true;
      let expectedTickAt = startMs;
      while (!signal?.aborted) {
        const now = performance.now();
        counters.maxTickLateMs = Math.max(counters.maxTickLateMs, Math.round(now - expectedTickAt));
        const due = schedule.due(Math.min(now - startMs, durationMs));
        counters.offered += due;
        for (let i = 0; i < due; i += 1) {
          const device = devices[cursor]!;
          cursor = cursor + 1 === devices.length ? 0 : cursor + 1;
          if (device.connected && device.backlog === 0 && device.pending.size < options.maxInflightPerDevice) publish(device);
          else device.backlog += 1;
        }
        if (now >= endMs) break;
        expectedTickAt = now + tickMs;
        await delay(tickMs);
      }
      running = false;
      for (const device of devices) {
        counters.notSent += device.backlog;
        device.backlog = 0;
      }
      // Drained when nothing is unacknowledged and every dropped device is back (a device still
      // waiting to reconnect would otherwise end the run disconnected, depending on timing alone).
      const unsettled = (device: SimulatedDevice): boolean => device.pending.size > 0 || device.reconnectAttempts > 0;
      await waitFor(() => !devices.some(unsettled), { description: 'every device to settle', timeoutMs: drainTimeoutMs, intervalMs: 20 }).catch(falseOnTimeout);
    },

    async close() {
      closing = true;
      running = false;
      await Promise.all(devices.map((device) => device.connection?.end() ?? Promise.resolve()));
    },
  };
}
