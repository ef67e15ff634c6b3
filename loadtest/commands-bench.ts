/**
 * The commands benchmark (`tributary bench commands`): N devices with persistent sessions
 * (clean session 0) subscribed to `devices/<id>/commands/#` on one gateway child process, then
 *
 * 1. connected fan-out: one command per device produced to the run's commands topic (acks=all, as
 *    fast as Kafka takes them); latency per command from its produce call to its arrival at the
 *    device;
 * 2. offline, then reconnect: the devices disconnect (their sessions stay), one command each is
 *    produced, the gateway queues every one in its session; then the devices come back at a bounded
 *    rate; latency per device from its reconnect to the command's arrival.
 *
 * Each phase counts what the devices received once, more than once (duplicates) or never (lost,
 * after the timeout), commands that reached another device than their own (must be 0), and the
 * gateway's delivered counter (the devices' PUBACKs); CPU and RSS of the gateway, Kafka, Redis and
 * the harness are measured per phase. Devices, topics and the commands consumer group are the
 * run's own.
 */
import { randomBytes } from 'node:crypto';
import { mkdir } from 'node:fs/promises';
import { cpus, loadavg, totalmem } from 'node:os';
import { join } from 'node:path';
import { setTimeout as delay } from 'node:timers/promises';
import { Kafka, logLevel, type Producer } from 'kafkajs';
import { encodeDeviceCommand, type DeviceCommand } from '../core/device-command.ts';
import { falseOnTimeout, waitFor } from '../core/wait-for.ts';
import { createBenchCredentials, registerBenchDevices } from './bench-devices.ts';
import type { DeviceCredential } from './device-fleet.ts';
import { createKafkaAuditor } from './kafka-audit.ts';
import { createLatencyHistogram, type LatencyHistogram, type LatencySummary } from './latency-histogram.ts';
import { freePort, startPipelineProcess, type PipelineProcess } from './pipeline-process.ts';
import { createProcessSampler, readProcessUsage, type ProcessUsageReport } from './process-usage.ts';
import { histogramQuantileBound, metricTotal, readHistogram } from '../core/prometheus-text.ts';
import { openRawConnection, type RawConnection } from './raw-mqtt-connection.ts';
import { pipelineEnv, runNames } from './run-names.ts';

export interface CommandsBenchOptions {
  kafkaBrokers: readonly string[];
  devices: number;
  /** Connections opened at once (first connect and reconnect). */
  connectConcurrency: number;
  /** Reconnects started per second at most in the offline phase. */
  reconnectRatePerSec: number;
  /** How long each phase may take before what is missing counts as lost. */
  phaseTimeoutMs: number;
  /** Commands per producer request. */
  produceBatch: number;
  /** Where the gateway's log goes, in a folder per run. */
  logDir: string;
  /** Extra environment for the gateway (TRIBUTARY_GATEWAY_REDIS_URL puts its sessions in Redis). */
  gatewayEnv?: Record<string, string>;
  /** Server processes to measure too, e.g. { kafka: 123, redis: 456 }. */
  serverPids?: Record<string, number>;
  /** Recorded in the result: what ran, and from which checkout. */
  commandLine?: string;
  commit?: string;
  onProgress?: (line: string) => void;
  signal?: AbortSignal;
}

export interface CommandsPhaseResult {
  /** One per device that connected at the start (a device that never did has no session to hold one). */
  commands: number;
  /** From the first produce call until Kafka acknowledged the last command. */
  produceMs: number;
  /** Commands received once or more by their own device. */
  received: number;
  /** Copies beyond the first. */
  duplicates: number;
  /** Of those, copies carrying the DUP flag. */
  duplicatesFlaggedDup: number;
  /** Produced, never received within the phase timeout. */
  lost: number;
  /** Received by a device other than the command's: must be 0. */
  crossed: number;
  /** The gateway's delivered counter (PUBACKs from devices) over the phase. */
  deliveredByGateway: number;
  /** Records the phase added to the command-events topic (queued + delivered + any others). */
  commandEvents: number;
  /** Connected: produce call → received. Offline: reconnect started → received. */
  latencyMs: LatencySummary;
  /** From the phase's first produce (connected) or first reconnect (offline) until the last command arrived. */
  allReceivedMs: number | null;
  receivedPerSec: number | null;
  processes: ProcessUsageReport[];
}

export interface CommandsBenchResult {
  runId: string;
  startedAt: string;
  commit: string | null;
  commandLine: string | null;
  sessionStore: 'memory' | 'redis';
  options: Omit<CommandsBenchOptions, 'onProgress' | 'signal' | 'commandLine' | 'commit'>;
  machine: { cpus: number; cpuModel: string; memoryGiB: number; node: string };
  /** 1, 5 and 15 minute load averages when the run began and ended (the machine is shared). */
  loadAverage: { before: number[]; after: number[] };
  connect: { connected: number; failures: number; ms: number; gatewayRssMiB: number; redisRssMiB: number | null };
  connected: CommandsPhaseResult;
  offline: CommandsPhaseResult & {
    /** From the first produce until the gateway had queued every command in its session. */
    queuedMs: number | null;
    /** Commands the gateway could not hold (e.g. no_session): each is lost. */
    notQueued: number;
    /** Reconnects whose CONNACK said the session was present. */
    sessionsPresent: number;
    reconnectFailures: number;
  };
  /** The gateway's own issued → PUBACK histogram after the connected phase (bucket upper bounds, ms). */
  gatewayDeliveryLatency: { p50BoundMs: number | null; p99BoundMs: number | null } | null;
  problems: string[];
}

type Phase = 'c' | 'o';

interface PhaseTally {
  /** The moment latency counts from, per device (performance.now()). */
  startedAt: Float64Array;
  copies: Uint16Array;
  received: number;
  duplicates: number;
  duplicatesFlaggedDup: number;
  crossed: number;
  firstAt: number;
  lastReceivedAt: number;
  latency: LatencyHistogram;
}

function createTally(devices: number): PhaseTally {
  return { startedAt: new Float64Array(devices), copies: new Uint16Array(devices), received: 0, duplicates: 0, duplicatesFlaggedDup: 0, crossed: 0, firstAt: 0, lastReceivedAt: 0, latency: createLatencyHistogram() };
}

interface BenchDevice {
  index: number;
  credential: DeviceCredential;
  /** `devices/<id>/commands/`: what every command topic of this device starts with. */
  commandsPrefix: string;
  connection: RawConnection | null;
}

/** A device the gateway refuses (its verification queue for one address is full) is tried again this often at most. */
const connectAttempts = 30;

/** Command ids carry the run, the phase and the device's index: `<run>-<phase>-<index>`. */
const commandIdOf = (runId: string, phase: Phase, index: number): string => `${runId}-${phase}-${index}`;

const commandTtlMs = 30 * 60_000;

const round = (value: number, digits = 1): number => Math.round(value * 10 ** digits) / 10 ** digits;

async function gatewayMetrics(gateway: PipelineProcess): Promise<string> {
  return (await fetch(gateway.readyUrl.replace(/\/readyz$/, '/metrics'), { signal: AbortSignal.timeout(5000) })).text();
}

/** Runs both phases once; throws only when the stack or the gateway fails to start. */
export async function runCommandsBench(options: CommandsBenchOptions): Promise<CommandsBenchResult> {
  const runId = `${Date.now().toString(36)}${randomBytes(2).toString('hex')}`;
  const startedAt = new Date().toISOString();
  const loadBefore = loadavg().map((value) => round(value, 2));
  const progress = options.onProgress ?? (() => undefined);
  const names = runNames(runId);
  const commandsTopic = `${names.topicPrefix}commands`;
  const commandEventsTopic = `${names.topicPrefix}command-events`;
  const commandsGroup = `bench-${runId}-commands`;
  const logDir = join(options.logDir, runId);
  await mkdir(logDir, { recursive: true });
  const problems: string[] = [];
  const sessionStore = options.gatewayEnv?.TRIBUTARY_GATEWAY_REDIS_URL === undefined ? 'memory' : 'redis';

  const kafka = new Kafka({ clientId: `tributary-bench-commands-${runId}`, brokers: [...options.kafkaBrokers], logLevel: logLevel.NOTHING });
  const admin = kafka.admin();
  const producer: Producer = kafka.producer({ allowAutoTopicCreation: false });
  const auditor = createKafkaAuditor(options.kafkaBrokers);
  const sampler = createProcessSampler();
  const devices: BenchDevice[] = createBenchCredentials(`cmd-${runId}`, options.devices).map((credential, index) => ({
    index,
    credential,
    commandsPrefix: `devices/${credential.deviceId}/commands/`,
    connection: null,
  }));
  const tallies: Record<Phase, PhaseTally> = { c: createTally(devices.length), o: createTally(devices.length) };
  const counters = { sessionsPresent: 0, drops: 0 };
  // While true, connections close because the bench ends them: not counted as drops.
  let closing = false;
  let gateway: PipelineProcess | null = null;

  const receive = (device: BenchDevice, topic: Buffer, payload: Buffer, dup: boolean): void => {
    const now = performance.now();
    let commandId: unknown;
    try {
      commandId = (JSON.parse(payload.toString('utf8')) as { commandId?: unknown }).commandId;
    } catch {
      commandId = undefined;
    }
    const [run, phase, indexText] = typeof commandId === 'string' ? commandId.split('-') : [];
    const tally = phase === 'c' || phase === 'o' ? tallies[phase] : undefined;
    if (run !== runId || tally === undefined) {
      problems.push(`device ${device.credential.deviceId} received something not of this run on ${topic.toString()}`);
      return;
    }
    if (Number(indexText) !== device.index || !topic.toString('utf8').startsWith(device.commandsPrefix)) {
      tally.crossed += 1;
      return;
    }
    const copies = (tally.copies[device.index] = (tally.copies[device.index] ?? 0) + 1);
    if (copies > 1) {
      tally.duplicates += 1;
      if (dup) tally.duplicatesFlaggedDup += 1;
      return;
    }
    tally.received += 1;
    tally.lastReceivedAt = now;
    tally.latency.recordMs(now - (tally.startedAt[device.index] ?? now));
  };

  /** One connection with a persistent session; `subscribe` on the first. Resolves whether it got a CONNACK (and SUBACK 1). */
  const connectDevice = (device: BenchDevice, url: URL, subscribe: boolean): Promise<boolean> =>
    new Promise((resolve) => {
      let settled = false;
      const settle = (ok: boolean): void => {
        if (settled) return;
        settled = true;
        resolve(ok);
      };
      const connection = openRawConnection({
        url,
        clientId: device.credential.deviceId,
        username: device.credential.deviceId,
        password: device.credential.secret,
        keepaliveS: 300,
        connectTimeoutMs: 30_000,
        cleanSession: false,
        onConnect: (sessionPresent) => {
          if (sessionPresent) counters.sessionsPresent += 1;
          if (!subscribe) return settle(true);
          connection.subscribe(`${device.commandsPrefix}#`, 1, (granted) => settle(granted === 1));
        },
        onClose: () => {
          if (settled && !closing) counters.drops += 1;
          settle(false);
        },
        onPublish: (topic, payload, flags) => receive(device, topic, payload, flags.dup),
      });
      device.connection = connection;
    });

  /**
   * Connects `list`, `connectConcurrency` at a time and at most `ratePerSec` started per second; a
   * refused device (the gateway refuses CONNECTs while too many from one address await
   * verification) is tried again, backing off. `onStart` runs once per device before its first
   * attempt. Returns the devices that connected.
   */
  const connectAll = async (list: readonly BenchDevice[], url: URL, subscribe: boolean, ratePerSec: number, onStart: (device: BenchDevice) => void): Promise<BenchDevice[]> => {
    const began = performance.now();
    let next = 0;
    const connected: BenchDevice[] = [];
    const worker = async (): Promise<void> => {
      while (next < list.length && !options.signal?.aborted) {
        const device = list[next]!;
        const dueAt = began + (next / ratePerSec) * 1000;
        next += 1;
        const wait = dueAt - performance.now();
        if (wait > 0) await delay(wait);
        onStart(device);
        for (let attempt = 1; ; attempt += 1) {
          if (await connectDevice(device, url, subscribe)) {
            connected.push(device);
            break;
          }
          await device.connection?.end();
          device.connection = null;
          if (attempt === connectAttempts || closing) break;
          await delay(Math.min(2000, 200 * attempt) * (1 + Math.random()));
        }
      }
    };
    await Promise.all(Array.from({ length: Math.max(1, Math.min(options.connectConcurrency, list.length)) }, worker));
    return connected;
  };

  /** Produces one command per device of `list` in batches (acks=all); latency of the connected phase counts from each batch's send. */
  const produceAll = async (phase: Phase, list: readonly BenchDevice[]): Promise<number> => {
    const began = performance.now();
    for (let start = 0; start < list.length; start += options.produceBatch) {
      const batch = list.slice(start, start + options.produceBatch);
      const issuedAtMs = Date.now();
      const messages = batch.map((device) => {
        const command: DeviceCommand = {
          v: 1,
          commandId: commandIdOf(runId, phase, device.index),
          deviceId: device.credential.deviceId,
          name: 'bench',
          params: { phase },
          qos: 1,
          issuedAtMs,
          expiresAtMs: issuedAtMs + commandTtlMs,
        };
        return { key: device.credential.deviceId, value: encodeDeviceCommand(command) };
      });
      const sentAt = performance.now();
      if (phase === 'c') for (const device of batch) tallies.c.startedAt[device.index] = sentAt;
      await producer.send({ topic: commandsTopic, acks: -1, messages });
    }
    return Math.round(performance.now() - began);
  };

  const metric = async (name: string, where?: Record<string, string>): Promise<number> => metricTotal(await gatewayMetrics(gateway!), name, where);

  const waitPhase = async (tally: PhaseTally, expected: number, deliveredBefore: number, description: string): Promise<void> => {
    const timeoutMs = options.phaseTimeoutMs;
    await waitFor(() => tally.received >= expected, { description, timeoutMs, intervalMs: 20, ...(options.signal && { signal: options.signal }) }).catch(falseOnTimeout);
    // Every PUBACK counted by the gateway; then a moment for late duplicates to arrive.
    await waitFor(async () => (await metric('tributary_gateway_commands_delivered_total')) - deliveredBefore >= tally.received, {
      description: 'the gateway to count every PUBACK',
      timeoutMs: 10_000,
      intervalMs: 100,
    }).catch(falseOnTimeout);
    await delay(1000);
  };

  const phaseResult = async (phase: Phase, commands: number, produceMs: number, deliveredBefore: number, eventsBefore: number, processes: ProcessUsageReport[]): Promise<CommandsPhaseResult> => {
    const tally = tallies[phase];
    const allReceived = tally.received === commands ? tally.lastReceivedAt - tally.firstAt : null;
    return {
      commands,
      produceMs,
      received: tally.received,
      duplicates: tally.duplicates,
      duplicatesFlaggedDup: tally.duplicatesFlaggedDup,
      lost: commands - tally.received,
      crossed: tally.crossed,
      deliveredByGateway: (await metric('tributary_gateway_commands_delivered_total')) - deliveredBefore,
      commandEvents: (await auditor.recordCount(commandEventsTopic)) - eventsBefore,
      latencyMs: tally.latency.summary(),
      allReceivedMs: allReceived === null ? null : Math.round(allReceived),
      receivedPerSec: allReceived === null || allReceived <= 0 ? null : Math.round((tally.received / allReceived) * 1000),
      processes,
    };
  };

  try {
    await Promise.all([admin.connect(), producer.connect()]);
    await auditor.ensureTopic(names.devicesTopic, 1, { 'cleanup.policy': 'compact' });
    progress(`registering ${devices.length} devices`);
    await registerBenchDevices({ brokers: options.kafkaBrokers, devicesTopic: names.devicesTopic, credentials: devices.map((device) => device.credential) });
    const [mqttPort, gatewayHttpPort] = await Promise.all([freePort(), freePort()]);
    const env = pipelineEnv(names, { kafkaBrokers: options.kafkaBrokers, replicationFactor: 1, questdbHttpUrl: '', mqttPort, gatewayHttpPort, enrichHttpPort: 0 }, {
      gateway: { TRIBUTARY_TOPIC_COMMANDS: commandsTopic, TRIBUTARY_TOPIC_COMMAND_EVENTS: commandEventsTopic, TRIBUTARY_GATEWAY_COMMANDS_GROUP: commandsGroup, ...options.gatewayEnv },
    });
    progress(`starting the gateway (sessions in ${sessionStore})`);
    gateway = await startPipelineProcess({ name: 'gateway', command: 'gateway', env: env.gateway, readyUrl: `http://127.0.0.1:${gatewayHttpPort}/readyz`, logDir, readyTimeoutMs: 60_000 });
    sampler.watch('gateway', gateway.pid);
    sampler.watch('bench', process.pid);
    for (const [name, pid] of Object.entries(options.serverPids ?? {})) sampler.watch(name, pid);
    // The gateway joins its commands group in the background: latency must not include the join.
    await waitFor(
      async () => {
        const [group] = (await admin.describeGroups([commandsGroup])).groups;
        return group?.state === 'Stable' && group.members.length > 0;
      },
      { description: `the gateway in consumer group ${commandsGroup}`, timeoutMs: 60_000, intervalMs: 250 },
    );
    const url = new URL(`mqtt://127.0.0.1:${mqttPort}`);

    progress(`connecting ${devices.length} devices (persistent sessions, subscribed to their commands)`);
    const connectBegan = performance.now();
    const active = await connectAll(devices, url, true, Number.POSITIVE_INFINITY, () => undefined);
    const connectMs = Math.round(performance.now() - connectBegan);
    const connectFailures = devices.length - active.length;
    if (connectFailures > 0) problems.push(`${connectFailures} devices never connected (they get no commands)`);
    counters.sessionsPresent = 0;
    const gatewayRss = (await readProcessUsage(gateway.pid))?.rssBytes ?? 0;
    const redisPid = options.serverPids?.redis;
    const redisRss = redisPid === undefined ? null : ((await readProcessUsage(redisPid))?.rssBytes ?? 0);
    const mib = (bytes: number): number => round(bytes / 2 ** 20);

    progress(`connected fan-out: ${active.length} commands`);
    let deliveredBefore = await metric('tributary_gateway_commands_delivered_total');
    let eventsBefore = await auditor.recordCount(commandEventsTopic);
    await sampler.markStart();
    tallies.c.firstAt = performance.now();
    const connectedProduceMs = await produceAll('c', active);
    await waitPhase(tallies.c, active.length, deliveredBefore, 'every connected device to receive its command');
    const connected = await phaseResult('c', active.length, connectedProduceMs, deliveredBefore, eventsBefore, await sampler.markEnd());
    const histogram = readHistogram(await gatewayMetrics(gateway), 'tributary_gateway_command_delivery_latency_seconds');
    const bound = (q: number): number | null => {
      const value = histogram ? histogramQuantileBound(histogram, q) : null;
      return value === null ? null : value * 1000;
    };

    progress('offline: disconnecting every device (sessions stay)');
    closing = true;
    await Promise.all(devices.map((device) => device.connection?.end() ?? Promise.resolve()));
    closing = false;
    await waitFor(async () => (await metric('tributary_gateway_connections')) === 0, { description: 'the gateway to see every device gone', timeoutMs: 60_000, intervalMs: 200 }).catch(falseOnTimeout);
    deliveredBefore = await metric('tributary_gateway_commands_delivered_total');
    eventsBefore = await auditor.recordCount(commandEventsTopic);
    const queuedBefore = await metric('tributary_gateway_commands_consumed_total', { outcome: 'queued' });
    const consumedBefore = await metric('tributary_gateway_commands_consumed_total');
    await sampler.markStart();
    const offlineBegan = performance.now();
    const offlineProduceMs = await produceAll('o', active);
    const queuedWait = await waitFor(async () => (await metric('tributary_gateway_commands_consumed_total')) - consumedBefore >= active.length, {
      description: 'the gateway to take every command',
      timeoutMs: options.phaseTimeoutMs,
      intervalMs: 100,
    }).catch(falseOnTimeout);
    const queuedMs = queuedWait === false ? null : Math.round(performance.now() - offlineBegan);
    const queued = (await metric('tributary_gateway_commands_consumed_total', { outcome: 'queued' })) - queuedBefore;
    progress(`offline: ${queued} commands queued; reconnecting at ${options.reconnectRatePerSec}/s`);
    tallies.o.firstAt = performance.now();
    const reconnectFailures = active.length - (await connectAll(active, url, false, options.reconnectRatePerSec, (device) => {
      tallies.o.startedAt[device.index] = performance.now();
    })).length;
    await waitPhase(tallies.o, active.length, deliveredBefore, 'every reconnected device to receive its queued command');
    const offline = await phaseResult('o', active.length, offlineProduceMs, deliveredBefore, eventsBefore, await sampler.markEnd());
    if (counters.drops > 0) problems.push(`${counters.drops} connections dropped by the gateway`);
    for (const [name, phase] of [['connected', connected], ['offline', offline]] as const) {
      if (phase.lost > 0) problems.push(`${name}: ${phase.lost} commands never received`);
      if (phase.crossed > 0) problems.push(`${name}: ${phase.crossed} commands received by another device`);
    }
    return {
      runId,
      startedAt,
      commit: options.commit ?? null,
      commandLine: options.commandLine ?? null,
      sessionStore,
      options: {
        kafkaBrokers: options.kafkaBrokers,
        devices: options.devices,
        connectConcurrency: options.connectConcurrency,
        reconnectRatePerSec: options.reconnectRatePerSec,
        phaseTimeoutMs: options.phaseTimeoutMs,
        produceBatch: options.produceBatch,
        logDir: options.logDir,
        gatewayEnv: options.gatewayEnv ?? {},
        serverPids: options.serverPids ?? {},
      },
      machine: { cpus: cpus().length, cpuModel: cpus()[0]?.model ?? 'unknown', memoryGiB: round(totalmem() / 2 ** 30), node: process.version },
      loadAverage: { before: loadBefore, after: loadavg().map((value) => round(value, 2)) },
      connect: { connected: active.length, failures: connectFailures, ms: connectMs, gatewayRssMiB: mib(gatewayRss), redisRssMiB: redisRss === null ? null : mib(redisRss) },
      connected,
      offline: {
        ...offline,
        queuedMs,
        notQueued: active.length - queued,
        sessionsPresent: counters.sessionsPresent,
        reconnectFailures,
      },
      gatewayDeliveryLatency: histogram ? { p50BoundMs: bound(0.5), p99BoundMs: bound(0.99) } : null,
      problems,
    };
  } finally {
    closing = true;
    sampler.stop();
    await Promise.all(devices.map((device) => device.connection?.end() ?? Promise.resolve()));
    await gateway?.stop();
    // The run's topics go once nothing uses them, as in bench e2e (ADR 0026).
    await auditor.deleteTopicsByPrefix(names.topicPrefix).catch((error: unknown) => void problems.push(`removing the run's topics: ${String(error)}`));
    await Promise.allSettled([producer.disconnect(), admin.disconnect(), auditor.close()]);
  }
}
