/**
 * `tributary bench devices|e2e|connections|commands|api`: the device-fleet simulator and the end-to-end
 * benchmark (loadtest/README.md). The only part of the benchmark that reads the environment.
 */
import { execFile } from 'node:child_process';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { promisify } from 'node:util';
import { dirname, join } from 'node:path';
import { runJob } from '../../core/lifecycle.ts';
import { createLogger } from '../../core/logger.ts';
import { readSettings, settingsHelp } from '../../core/settings.ts';
import { isStackRunning, readStackState, stackDir, startStack, stopOwnStack, type StackState } from '../../infra/stack.ts';
import { createBenchCredentials, readCredentialsFile, registerBenchDevices, writeCredentialsFile } from '../../loadtest/bench-devices.ts';
import { runApiBench } from '../../loadtest/api-bench.ts';
import { formatApiReport } from '../../loadtest/api-report.ts';
import { runCommandsBench } from '../../loadtest/commands-bench.ts';
import { formatCommandsReport } from '../../loadtest/commands-report.ts';
import { runConnectionSweep } from '../../loadtest/connection-sweep.ts';
import { createDeviceFleet, defaultTickMs, type FleetClient } from '../../loadtest/device-fleet.ts';
import { runE2eBench, type E2eOptions, type E2eResult } from '../../loadtest/e2e-bench.ts';
import { formatE2eReport, formatFleetReport, formatSweepReport, sweepPointOf } from '../../loadtest/e2e-report.ts';
import { faultKinds, faultKindsHelp, isFaultKind } from '../../loadtest/faults/fault-catalog.ts';
import { faultIsolation } from '../../loadtest/faults/fault-isolation.ts';
import type { FaultNetwork } from '../../infra/fault-network.ts';
import type { FaultNeeds, ScheduledFault } from '../../loadtest/faults/fault.ts';
import { findGroupMembers } from '../../loadtest/process-usage.ts';
import { benchPartitions } from '../../loadtest/run-names.ts';
import { defaultTimelineIntervalMs, fewestPlottedPoints, renderTimelinePlots } from '../../loadtest/run-timeline.ts';
import { renderLineChart } from '../../loadtest/svg-plot.ts';
import { findKnee, renderSweepPlots } from '../../loadtest/sweep-analysis.ts';
import { intFlag, parseCommandArgs, rangedIntFlag, UsageError } from '../cli-args.ts';
import { commandSettings, createProcessEnvReader } from '../settings-catalog.ts';
import { readStackSettings } from '../stack-settings.ts';

const help = `Usage: tributary bench <devices|e2e|connections|commands|api|clients|consumers> [options]

  devices       simulate a device fleet against any gateway; report PUBACK latency and counts
  e2e           run devices → gateway → Kafka → enricher → QuestDB and count every message
  connections   idle connections vs gateway memory
  commands      commands to N devices with persistent sessions: connected fan-out, then offline and reconnect
  api           dashboard reads through tributary api while the pipeline carries load; replay by CLI vs job
  clients       compare Kafka producer clients on one workload (see: tributary bench clients --help)
  consumers     compare the enricher's consumer adapters (see: tributary bench consumers --help)

Load options (devices, e2e, api):
  --devices <n>              simulated devices (default 100)
  --rate <msg/s>             offered rate over the whole fleet (default 1000)
  --duration <s>             seconds of load (default 10)
  --qos <0|1>                (default 1)
  --v2-percent <0..100>      share of devices speaking telemetry v2, the rest v1 (default 50)
  --readings <1..8>          readings per message (default 3)
  --inflight <n>             unacknowledged messages per device at most (default 8)
  --connect-concurrency <n>  connections opened at once (default 200)
  --tick-ms <ms>             how often the open-loop schedule releases what is due (default 1); what
                             falls due within a tick leaves as one burst (5 gives the figures before
                             2026-12-04 late, docs/benchmarks/arrivals.md)
  --client <raw|mqttjs>      the devices' MQTT client: bare MQTT 3.1.1 connections (default; mqtt://
                             and mqtts://) or mqtt.js (any URL, the default for ws://)

devices:
  --url <url>                mqtt://host:port, mqtts://host:port or ws://host:port/mqtt (default mqtt://127.0.0.1:1883)
  --ca <file>                CA certificate to trust (mqtts)
  --insecure                 do not verify the server certificate (mqtts)
  --topic-prefix <p>         devices publish to <p>/<id>/telemetry (default devices)
  --credentials <file>       JSON array of {deviceId, secret}; otherwise the devices are registered
                             in TRIBUTARY_TOPIC_DEVICES on TRIBUTARY_KAFKA_BROKERS first
  --device-prefix <p>        ids of registered devices: <p>-000001... (default bench)
  --write-credentials <file> save the registered devices' credentials for later runs
  --drain <s>                seconds to wait for outstanding acks after the load (default 30)
  --out <file>               also write the result as JSON

e2e:
  --sweep-rate <r1,r2,...>   one run per offered rate; reports the knee, writes SVG plots of
                             throughput, latency and CPU µs/msg per process
  --no-enrich                gateway and Kafka only (no enricher, no QuestDB)
  --no-kafka-audit           skip reading the topic back (no Kafka duplicate count)
  --restart-gateway-at <s>   fault: stop the gateway this many seconds into the load and start a new
                             one; devices reconnect and resend what was not acknowledged
  --restart-enricher-at <s>  fault: stop the enricher this many seconds into the load and start a new
                             one in the same group; it re-reads what was not committed
  --restart-signal <KILL|TERM>  how they are stopped: KILL (a crash, default) or TERM (graceful)
  --fault <kind>             inject a fault into the running pipeline (one of the kinds below); the
                             local stack the benchmark starts has what the kind needs (e.g. 3 brokers)
  --fault-at <s>             seconds into the load the fault starts (default: a third of --duration)
  --fault-for <s>            seconds it lasts before it is healed (default 20; healed at the load's
                             end at the latest)
${faultKindsHelp('                               ')}
  --questdb-disk-mb <n>      the local stack's QuestDB root on a tmpfs of this size (needs root; a
                             disk-full fault fills it; default: what the kind needs, else the disk)
  --drain-timeout <s>        wait this long for Kafka and QuestDB to catch up (default 120)
  --partitions <n>           partitions of the run's data topics (default 4; the product's
                             TRIBUTARY_KAFKA_PARTITIONS default of 12 costs more on a 2-core box)
  --keep-data                keep the run's topics, consumer groups and QuestDB tables (default: removed
                             once the run is audited, so repeated runs do not fill the stack's disk)
  --probe-poll <ms>          publish→queryable probe poll interval (default 50)
  --rest-window <s>          before the load: each process's CPU at rest (once the gateway and enricher
                             have gone quiet after the devices connected, up to 10 s), then as long
                             again with only the harness querying, to attribute CPU (default 10; 0 skips)
  --timeline <s>             the report's timeline interval: each stage's rate, the interval's own p99
                             PUBACK and queryable latency, and each process's cores and RSS, every
                             this many seconds of the load and the drain (default 10)
  --warmup <s>               before the measured load (after --rest-window): offer the same rate this
                             long, wait until the pipeline caught up, then measure from zero, so the
                             JVMs and V8 have compiled their hot paths; its messages are audited but
                             left out of the figures (default 0: none; each sweep run warms up at its rate)
  --prime <s>                before the first run: one unreported run of this long on the same stack
                             (at --prime-rate), so a freshly started stack's JVMs have compiled their
                             hot paths before any rate is measured (a sweep's first rate otherwise
                             carries Kafka's and QuestDB's JIT); audited like any run (default 0: none)
  --prime-rate <n>           its offered msg/s (default: the highest rate measured, at most 10,000)
  --out <file>               result JSON (default results/e2e-<timestamp>.json; plots beside it: a
                             sweep's, or a single run's timeline once it has 6 intervals)
  --stack-name <name>        local stack to start when no addresses are given (default bench; a
                             running stack of that name is refused, not replaced); with addresses,
                             the running local stack whose Kafka/QuestDB JVMs to measure
  --port-base <port>         its port base (default $TRIBUTARY_STACK_PORT_BASE or 19000)
  --kafka-pid, --questdb-pid measure these server processes too (with given addresses)
  --redis                    the gateway keeps its MQTT sessions in Redis (TRIBUTARY_GATEWAY_REDIS_URL):
                             the local stack's, which it then starts and measures (also connections);
                             with addresses, the Redis of the --stack-name stack
  --gateway-env NAME=value   extra environment for the gateway child (repeatable; also connections),
                             e.g. TRIBUTARY_KAFKA_LINGER_MS=0 or NODE_OPTIONS=--cpu-prof
  --enrich-env NAME=value    extra environment for the enricher child (repeatable)
  Uses TRIBUTARY_KAFKA_BROKERS and TRIBUTARY_QUESTDB_URL when both are set; otherwise starts a
  fresh local stack tied to this process and stops it at the end.

connections:
  --counts <n1,n2,...>       cumulative connection totals (default 1000,2500,5000,10000)
  --settle <s>               seconds to let memory settle after each step (default 5)
  --out <file>               result JSON (default results/connections-<timestamp>.json; plot beside it)
  Kafka as for e2e (addresses or a local stack without QuestDB).

commands:
  --devices <n>              devices with persistent sessions, each subscribed to its commands (default 10000)
  --connect-concurrency <n>  connections opened at once (default 200)
  --reconnect-rate <n/s>     offline phase: reconnects started per second at most (default 1000)
  --produce-batch <n>        commands per producer request (default 1000)
  --timeout <s>              each phase's time before what is missing counts as lost (default 120)
  --redis                    the gateway keeps its sessions in Redis (the local stack's, measured too)
  --gateway-env NAME=value   extra environment for the gateway child (repeatable)
  --out <file>               result JSON (default results/commands-<timestamp>.json)
  Kafka (and --stack-name, --port-base) as for e2e, without QuestDB.

api (the e2e pipeline with tributary api beside it; load options as above, defaults 1000 devices, 5000 msg/s, 30 s):
  --clients <n>              dashboard clients looping GET latest + GET series during the load (default 200;
                             0: the pipeline alone, for comparison)
  --replay-rounds <n>        after the load, on the idle pipeline: replay every partition by the CLI and
                             as a job, alternating, n times each (default 2; 0 skips)
  --out <file>               result JSON (default results/api-<timestamp>.json)
  --warmup <s>, --rest-window <s>  as for e2e (default 0 for both here); the dashboard clients read
                             during the measured load only
  Stack options as for e2e; with given addresses, --stack-name names the running local stack whose
  QuestDB PostgreSQL port the API reads through.

${settingsHelp(commandSettings.bench)}`;

const options = {
  devices: { type: 'string' },
  rate: { type: 'string' },
  duration: { type: 'string' },
  qos: { type: 'string' },
  'v2-percent': { type: 'string' },
  readings: { type: 'string' },
  inflight: { type: 'string' },
  'connect-concurrency': { type: 'string' },
  'tick-ms': { type: 'string' },
  client: { type: 'string' },
  url: { type: 'string' },
  ca: { type: 'string' },
  insecure: { type: 'boolean', default: false },
  'topic-prefix': { type: 'string' },
  credentials: { type: 'string' },
  'device-prefix': { type: 'string' },
  'write-credentials': { type: 'string' },
  drain: { type: 'string' },
  out: { type: 'string' },
  'sweep-rate': { type: 'string' },
  'no-enrich': { type: 'boolean', default: false },
  'no-kafka-audit': { type: 'boolean', default: false },
  'drain-timeout': { type: 'string' },
  partitions: { type: 'string' },
  'keep-data': { type: 'boolean', default: false },
  'probe-poll': { type: 'string' },
  'rest-window': { type: 'string' },
  timeline: { type: 'string' },
  warmup: { type: 'string' },
  prime: { type: 'string' },
  'prime-rate': { type: 'string' },
  'stack-name': { type: 'string' },
  'port-base': { type: 'string' },
  'kafka-pid': { type: 'string' },
  'questdb-pid': { type: 'string' },
  counts: { type: 'string' },
  settle: { type: 'string' },
  'gateway-env': { type: 'string', multiple: true },
  'restart-gateway-at': { type: 'string' },
  'restart-enricher-at': { type: 'string' },
  'restart-signal': { type: 'string' },
  fault: { type: 'string' },
  'fault-at': { type: 'string' },
  'fault-for': { type: 'string' },
  'questdb-disk-mb': { type: 'string' },
  redis: { type: 'boolean', default: false },
  'reconnect-rate': { type: 'string' },
  'produce-batch': { type: 'string' },
  timeout: { type: 'string' },
  'enrich-env': { type: 'string', multiple: true },
  clients: { type: 'string' },
  'replay-rounds': { type: 'string' },
} as const;

type Values = { [K in keyof typeof options]?: (typeof options)[K] extends { multiple: true } ? string[] : (typeof options)[K]['type'] extends 'boolean' ? boolean : string };

function envPairs(items: readonly string[] | undefined, name: string): Record<string, string> {
  return Object.fromEntries(
    (items ?? []).map((item) => {
      const index = item.indexOf('=');
      if (index <= 0) throw new UsageError(`--${name} expects NAME=value, got ${JSON.stringify(item)}`);
      return [item.slice(0, index), item.slice(index + 1)];
    }),
  );
}

/** The gateway child's extra environment: the Redis of --redis, then --gateway-env, which may override it. */
function gatewayEnv(values: Values, redisUrl: string | null): Record<string, string> {
  return { ...(redisUrl !== null && { TRIBUTARY_GATEWAY_REDIS_URL: redisUrl }), ...envPairs(values['gateway-env'], 'gateway-env') };
}

function rangedInt(values: Values, name: keyof Values, fallback: number, min: number, max: number): number {
  return rangedIntFlag(values[name], name, fallback, min, max);
}

function restartSignal(value: string | undefined): 'SIGKILL' | 'SIGTERM' {
  if (value === undefined || /^(SIG)?KILL$/i.test(value)) return 'SIGKILL';
  if (/^(SIG)?TERM$/i.test(value)) return 'SIGTERM';
  throw new UsageError(`--restart-signal must be KILL or TERM, got ${JSON.stringify(value)}`);
}

/** The `--fault` plan, or undefined without one. */
function faultPlan(values: Values, durationMs: number): ScheduledFault | undefined {
  const kind = values.fault;
  if (kind === undefined) {
    if (values['fault-at'] !== undefined || values['fault-for'] !== undefined) throw new UsageError('--fault-at and --fault-for need --fault');
    return undefined;
  }
  if (!isFaultKind(kind)) throw new UsageError(`--fault must be one of ${Object.keys(faultKinds).join(', ')}, got ${JSON.stringify(kind)}`);
  const durationS = durationMs / 1000;
  const atMs = rangedInt(values, 'fault-at', Math.max(1, Math.floor(durationS / 3)), 0, 86_400) * 1000;
  if (atMs >= durationMs) throw new UsageError(`--fault-at must be within the load (--duration ${durationS})`);
  return { fault: faultKinds[kind].create(), atMs, forMs: rangedInt(values, 'fault-for', 20, 1, 86_400) * 1000 };
}

/** The size of the tmpfs for QuestDB's root: --questdb-disk-mb, else what the fault kind asks for. */
function questdbDisk(values: Values, needs: FaultNeeds | undefined): { questdbDiskMb?: number } {
  if (values['questdb-disk-mb'] !== undefined) return { questdbDiskMb: rangedInt(values, 'questdb-disk-mb', 0, 16, 1_048_576) };
  return needs?.questdbDiskMb === undefined ? {} : { questdbDiskMb: needs.questdbDiskMb };
}

function intList(text: string, name: string): number[] {
  const list = text.split(',').map((item) => intFlag(item.trim(), name, 0));
  if (list.length === 0 || list.some((value) => value <= 0)) throw new UsageError(`--${name} expects positive whole numbers separated by commas`);
  return list;
}

export function loadOptions(values: Values) {
  const qos = rangedInt(values, 'qos', 1, 0, 1) as 0 | 1;
  return {
    devices: rangedInt(values, 'devices', 100, 1, 200_000),
    ratePerSec: rangedInt(values, 'rate', 1000, 1, 10_000_000),
    durationMs: rangedInt(values, 'duration', 10, 1, 86_400) * 1000,
    qos,
    v2Percent: rangedInt(values, 'v2-percent', 50, 0, 100),
    readings: rangedInt(values, 'readings', 3, 1, 8),
    maxInflightPerDevice: rangedInt(values, 'inflight', 8, 1, 65_535),
    connectConcurrency: rangedInt(values, 'connect-concurrency', 200, 1, 10_000),
    tickMs: rangedInt(values, 'tick-ms', defaultTickMs, 1, 1_000),
    client: fleetClient(values),
  };
}

function fleetClient(values: Values): FleetClient {
  const client = values.client ?? (values.url?.startsWith('ws') === true ? 'mqttjs' : 'raw');
  if (client !== 'raw' && client !== 'mqttjs') throw new UsageError(`--client must be raw or mqttjs, got ${JSON.stringify(client)}`);
  return client;
}

/** A one-line status: rewritten in place on a terminal, a line every 5 s otherwise. */
function progressPrinter(): (line: string) => void {
  const tty = process.stderr.isTTY;
  let lastPrinted = 0;
  return (line) => {
    if (tty) {
      process.stderr.write(`\r\x1b[2K${line.slice(0, (process.stderr.columns || 160) - 1)}`);
      return;
    }
    if (!line.startsWith('[') || Date.now() - lastPrinted >= 5000) {
      lastPrinted = Date.now();
      process.stderr.write(`${line}\n`);
    }
  };
}

function endProgress(): void {
  if (process.stderr.isTTY) process.stderr.write('\n');
}

function timestamp(): string {
  return new Date().toISOString().replace(/[:.]/g, '-');
}

async function writeJson(file: string, value: unknown): Promise<void> {
  await mkdir(dirname(file), { recursive: true });
  await writeFile(file, JSON.stringify(value, null, 2) + '\n');
}

/** The servers of a local stack (the recorded process groups lead with a watchdog shell when owned). */
async function stackServerPids(state: StackState): Promise<Record<string, number>> {
  const serverPids: Record<string, number> = {};
  for (const node of state.kafka.nodes) {
    const [pid] = await findGroupMembers(node.pgid, 'java');
    if (pid !== undefined) serverPids[state.kafka.nodes.length > 1 ? `kafka-${node.nodeId}` : 'kafka'] = pid;
  }
  if (state.questdb) {
    const [pid] = await findGroupMembers(state.questdb.pgid, 'java');
    if (pid !== undefined) serverPids.questdb = pid;
  }
  if (state.redis) {
    const [pid] = await findGroupMembers(state.redis.pgid, 'redis-server');
    if (pid !== undefined) serverPids.redis = pid;
  }
  return serverPids;
}

/** A local stack's QuestDB over the PostgreSQL wire protocol, with QuestDB's default credentials and database. */
function questdbPgUrlOf(state: StackState): string | null {
  return state.questdb ? `postgresql://admin:quest@${new URL(state.questdb.httpUrl).hostname}:${state.questdb.pgPort}/qdb` : null;
}

/** Stack addresses from the environment, or a fresh local stack tied to this process. */
async function withStack<T>(
  values: Values,
  questdb: boolean,
  shape: { brokers: 1 | 3; questdbDiskMb?: number; faultNetwork?: boolean },
  run: (stack: {
    kafkaBrokers: string[];
    questdbHttpUrl: string;
    serverPids: Record<string, number>;
    /** QuestDB's PostgreSQL wire endpoint, when the stack is a local one. */
    questdbPgUrl: string | null;
    dir: string | null;
    /** With --redis: the Redis the gateway is to use. */
    redisUrl: string | null;
    network?: FaultNetwork;
    kafkaRelayed?: { port: number; relayPort: number };
  }) => Promise<T>,
): Promise<T> {
  const env = createProcessEnvReader();
  const settings = readStackSettings(env);
  const { kafkaBrokers, questdbUrl } = readSettings(env, commandSettings.bench);
  const given = (setting: { name: string }): boolean => env.isSet(setting.name);
  env.finish();
  if (given(commandSettings.bench.kafkaBrokers) && (given(commandSettings.bench.questdbUrl) || !questdb)) {
    if (shape.faultNetwork === true) throw new UsageError('a network fault needs the local stack the benchmark starts (its servers listen on the fault network): unset the Kafka and QuestDB addresses');
    // A running local stack named with --stack-name: measure its JVMs too.
    const existing = values['stack-name'] === undefined ? null : await readStackState(stackDir(settings.home, values['stack-name']));
    const redisUrl = values.redis === true ? (existing?.redis?.url ?? null) : null;
    if (values.redis === true && redisUrl === null) {
      throw new UsageError('--redis with given addresses needs --stack-name of a running local stack with Redis (or pass --gateway-env TRIBUTARY_GATEWAY_REDIS_URL=redis://host:port instead)');
    }
    const serverPids = existing ? await stackServerPids(existing) : {};
    if (values['kafka-pid'] !== undefined) serverPids.kafka = intFlag(values['kafka-pid'], 'kafka-pid', 0);
    if (values['questdb-pid'] !== undefined) serverPids.questdb = intFlag(values['questdb-pid'], 'questdb-pid', 0);
    return run({ kafkaBrokers, questdbHttpUrl: given(commandSettings.bench.questdbUrl) ? questdbUrl : '', serverPids, questdbPgUrl: existing ? questdbPgUrlOf(existing) : null, dir: existing?.dir ?? null, redisUrl });
  }
  const name = values['stack-name'] ?? 'bench';
  const dir = stackDir(settings.home, name);
  const running = await readStackState(dir);
  if (running && isStackRunning(running)) {
    throw new UsageError(
      `stack "${name}" is already running: to measure it, give its addresses (TRIBUTARY_KAFKA_BROKERS=${running.kafka.bootstrap.join(',')}${running.questdb ? ` TRIBUTARY_QUESTDB_URL=${running.questdb.httpUrl}` : ''}) with --stack-name ${name}; for a fresh stack, choose another --stack-name`,
    );
  }
  process.stderr.write(`starting local stack "${name}" (Kafka${questdb ? ' + QuestDB' : ''}${values.redis === true ? ' + Redis' : ''})...\n`);
  let state: StackState | null = null;
  try {
    state = await startStack({
      ...settings,
      name,
      portBase: intFlag(values['port-base'], 'port-base', settings.portBase),
      brokers: shape.brokers,
      questdb,
      redis: values.redis === true,
      ...(questdb && shape.questdbDiskMb !== undefined && { questdbDiskMb: shape.questdbDiskMb }),
      fresh: true,
      ownerPid: process.pid,
      faultNetwork: shape.faultNetwork === true,
      env: process.env,
      log: (message) => process.stderr.write(`${message}\n`),
    });
    return await run({ kafkaBrokers: state.kafka.bootstrap, questdbHttpUrl: state.questdb?.httpUrl ?? '', serverPids: await stackServerPids(state), questdbPgUrl: questdbPgUrlOf(state), dir: state.dir, redisUrl: state.redis?.url ?? null, ...(state.network && { network: state.network }), ...(state.kafka.relayed && { kafkaRelayed: state.kafka.relayed }) });
  } finally {
    // What this process started, a start that failed half-way included; never a running stack of that name.
    if (state ?? (await readStackState(dir))) await stopOwnStack(dir, process.pid, (message) => process.stderr.write(`${message}\n`));
  }
}

async function devicesAction(values: Values): Promise<number> {
  const load = loadOptions(values);
  const env = createProcessEnvReader();
  const { kafkaBrokers, devices: devicesTopic } = readSettings(env, commandSettings.bench);
  env.finish();
  let credentials;
  if (values.credentials !== undefined) {
    credentials = (await readCredentialsFile(values.credentials)).slice(0, load.devices);
    if (credentials.length < load.devices) throw new UsageError(`${values.credentials} has only ${credentials.length} devices; --devices ${load.devices}`);
  } else {
    credentials = createBenchCredentials(values['device-prefix'] ?? 'bench', load.devices);
    process.stderr.write(`registering ${credentials.length} devices in ${devicesTopic} on ${kafkaBrokers.join(',')}...\n`);
    await registerBenchDevices({ brokers: kafkaBrokers, devicesTopic, credentials });
    if (values['write-credentials'] !== undefined) await writeCredentialsFile(values['write-credentials'], credentials);
  }
  const fleet = createDeviceFleet({
    url: values.url ?? 'mqtt://127.0.0.1:1883',
    devices: credentials,
    topicPrefix: values['topic-prefix'] ?? 'devices',
    qos: load.qos,
    v2Percent: load.v2Percent,
    readings: load.readings,
    maxInflightPerDevice: load.maxInflightPerDevice,
    connectConcurrency: load.connectConcurrency,
    tickMs: load.tickMs,
    client: load.client,
    keepaliveS: 120,
    reconnect: true,
    ...((values.ca !== undefined || values.insecure) && { tls: { ...(values.ca !== undefined && { ca: await readFile(values.ca) }), rejectUnauthorized: !values.insecure } }),
  });
  return runBench(async (signal) => {
    const progress = progressPrinter();
    try {
      progress(`connecting ${credentials.length} devices to ${values.url ?? 'mqtt://127.0.0.1:1883'}`);
      await fleet.connect(signal);
      const started = performance.now();
      const ticker = setInterval(() => {
        const s = fleet.stats();
        progress(`[${((performance.now() - started) / 1000).toFixed(0).padStart(3)}s] connected ${s.connected} offered ${s.offered} sent ${s.sent} acked ${s.acknowledged} failed ${s.failed} backlog ${s.backlog} p99 ${fleet.pubackLatency.percentileMs(0.99).toFixed(1)} ms`);
      }, 1000);
      try {
        await fleet.run({ ratePerSec: load.ratePerSec, durationMs: load.durationMs, drainTimeoutMs: rangedInt(values, 'drain', 30, 0, 3600) * 1000, signal });
      } finally {
        clearInterval(ticker);
        endProgress();
      }
      const stats = fleet.stats();
      const latency = fleet.pubackLatency.summary();
      process.stdout.write(formatFleetReport(stats, latency, load.durationMs / 1000, load.qos) + '\n');
      if (values.out !== undefined) await writeJson(values.out, { startedAt: new Date(Date.now() - load.durationMs).toISOString(), url: values.url, ...load, stats, latencyMs: latency });
      return stats.connectFailures > 0 || stats.failed > 0 || stats.inFlight > 0 ? 1 : 0;
    } finally {
      await fleet.close();
    }
  });
}

async function e2eAction(values: Values): Promise<number> {
  const load = loadOptions(values);
  const rates = values['sweep-rate'] !== undefined ? intList(values['sweep-rate'], 'sweep-rate') : [load.ratePerSec];
  const primePlan = primeOptions(values, rates);
  const out = values.out ?? join('results', `e2e-${timestamp()}.json`);
  const needs: FaultNeeds | undefined = faultPlan(values, load.durationMs) && faultKinds[values.fault as keyof typeof faultKinds].needs;
  if (needs && needs.enrich && values['no-enrich']) throw new UsageError(`--fault ${values.fault} acts on the enricher or QuestDB: drop --no-enrich`);
  return runBench((signal) =>
    withStack(values, !values['no-enrich'], { brokers: needs?.brokers ?? 1, ...questdbDisk(values, needs), faultNetwork: needs?.isolate !== undefined }, async (stack) => {
      const results: E2eResult[] = [];
      const credentials = createBenchCredentials('bench', load.devices);
      const runOptions = (rate: number): E2eOptions => {
        // A fresh fault per run: a fault object holds what it did until it is healed.
        const fault = faultPlan(values, load.durationMs);
        return {
          ...load,
          ratePerSec: rate,
          kafkaBrokers: stack.kafkaBrokers,
          questdbHttpUrl: stack.questdbHttpUrl,
          enrich: !values['no-enrich'],
          auditKafka: !values['no-kafka-audit'],
          drainTimeoutMs: rangedInt(values, 'drain-timeout', 120, 1, 3600) * 1000,
          partitions: rangedInt(values, 'partitions', benchPartitions, 1, 10_000),
          keepData: values['keep-data'] === true,
          probePollMs: rangedInt(values, 'probe-poll', 50, 5, 10_000),
          restWindowMs: rangedInt(values, 'rest-window', 10, 0, 600) * 1000,
          timelineIntervalMs: rangedInt(values, 'timeline', defaultTimelineIntervalMs / 1000, 1, 3600) * 1000,
          warmupMs: rangedInt(values, 'warmup', 0, 0, 600) * 1000,
          maxProbeRatePerSec: 300,
          logDir: join(dirname(out), 'logs'),
          serverPids: stack.serverPids,
          gatewayEnv: gatewayEnv(values, stack.redisUrl),
          enrichEnv: envPairs(values['enrich-env'], 'enrich-env'),
          ...(values['restart-gateway-at'] !== undefined && { restartGateway: { afterMs: rangedInt(values, 'restart-gateway-at', 0, 1, 86_400) * 1000, signal: restartSignal(values['restart-signal']) } }),
          ...(fault && { fault }),
          ...(stack.dir !== null && { stackDir: stack.dir }),
          ...(needs?.isolate && { isolated: faultIsolation(needs, stack) }),
          ...(values['restart-enricher-at'] !== undefined && { restartEnricher: { afterMs: rangedInt(values, 'restart-enricher-at', 0, 1, 86_400) * 1000, signal: restartSignal(values['restart-signal']) } }),
          credentials,
          onProgress: progressPrinter(),
          signal,
        };
      };
      const prime = primePlan === null ? null : await runPrime(runOptions(rates[0]!), primePlan);
      for (const rate of rates) {
        if (signal.aborted) break;
        const result = await runE2eBench(runOptions(rate));
        endProgress();
        results.push(result);
        process.stdout.write(formatE2eReport(result) + '\n\n');
      }
      const primeOk = prime === null || prime.countsAgree;
      if (rates.length === 1) {
        const result = results[0]!;
        await writeJson(out, prime ? { ...result, prime } : result);
        process.stdout.write(`result: ${out}\n`);
        if (result.timeline.length >= fewestPlottedPoints) {
          const stem = out.replace(/\.json$/, '');
          const plots = renderTimelinePlots(result.timeline, result.options.ratePerSec, `${result.options.ratePerSec.toLocaleString('en-US')} msg/s offered, ${load.devices} devices`);
          const files = { rates: plots.ratesSvg, latency: plots.latencySvg, memory: plots.memorySvg, cpu: plots.cpuSvg };
          for (const [name, svg] of Object.entries(files)) await writeFile(`${stem}.timeline-${name}.svg`, svg);
          process.stdout.write(`timeline plots: ${Object.keys(files).map((name) => `${stem}.timeline-${name}.svg`).join(', ')}\n`);
        }
      } else {
        const points = results.map(sweepPointOf);
        const knee = findKnee(points);
        const label = `${load.devices} devices, QoS ${load.qos}, ${load.readings} readings/msg`;
        const plots = renderSweepPlots(points, label);
        const stem = out.replace(/\.json$/, '');
        await writeJson(out, { knee, points, runs: results, ...(prime && { prime }) });
        await writeFile(`${stem}.throughput.svg`, plots.throughputSvg);
        await writeFile(`${stem}.latency.svg`, plots.latencySvg);
        await writeFile(`${stem}.cpu.svg`, plots.cpuSvg);
        process.stdout.write(`${formatSweepReport(points, knee)}\nresult: ${out}\nplots: ${stem}.throughput.svg, ${stem}.latency.svg, ${stem}.cpu.svg\n`);
      }
      return primeOk && results.every((result) => result.countsAgree) && !signal.aborted ? 0 : 1;
    }),
  );
}

interface PrimeOptions {
  ratePerSec: number;
  durationMs: number;
}

/** `--prime` and `--prime-rate`, or null without a prime run. */
export function primeOptions(values: Values, rates: readonly number[]): PrimeOptions | null {
  const seconds = rangedInt(values, 'prime', 0, 0, 3600);
  if (seconds === 0) {
    if (values['prime-rate'] !== undefined) throw new UsageError('--prime-rate needs --prime');
    return null;
  }
  return { ratePerSec: rangedInt(values, 'prime-rate', Math.min(Math.max(...rates), 10_000), 1, 10_000_000), durationMs: seconds * 1000 };
}

/** What the report and the JSON keep of the prime run: it is audited, not measured. */
interface PrimeSummary {
  ratePerSec: number;
  seconds: number;
  acknowledged: number;
  countsAgree: boolean;
  problems: string[];
}

/** The unreported run before the measured ones: same stack, devices and audits, no rest window or warm-up, no fault. */
async function runPrime(base: E2eOptions, prime: PrimeOptions): Promise<PrimeSummary> {
  const { fault: _fault, restartGateway: _gateway, restartEnricher: _enricher, ...plain } = base;
  process.stderr.write(`priming the stack: ${prime.ratePerSec} msg/s for ${prime.durationMs / 1000} s, not reported\n`);
  const result = await runE2eBench({ ...plain, ratePerSec: prime.ratePerSec, durationMs: prime.durationMs, restWindowMs: 0, warmupMs: 0 });
  endProgress();
  const summary = { ratePerSec: prime.ratePerSec, seconds: prime.durationMs / 1000, acknowledged: result.counts.acknowledged, countsAgree: result.countsAgree, problems: result.problems };
  process.stdout.write(`prime       ${prime.ratePerSec.toLocaleString('en-US')} msg/s for ${summary.seconds} s: ${summary.acknowledged.toLocaleString('en-US')} acknowledged; ${result.countsAgree ? 'counts agree' : `COUNTS DISAGREE: ${result.problems.join('; ')}`}\n\n`);
  return summary;
}

/** A benchmark runs as a job: Ctrl-C stops the load and still reports; a second Ctrl-C exits at once. */
function runBench(job: (signal: AbortSignal) => Promise<number>): Promise<number> {
  // Long enough for a local stack the benchmark started to stop (each server gets 30 s).
  return runJob(job, { logger: createLogger({ level: 'warn', name: 'tributary-bench', to: 'stderr' }), shutdownDeadlineMs: 120_000 });
}

async function connectionsAction(values: Values): Promise<number> {
  const counts = intList(values.counts ?? '1000,2500,5000,10000', 'counts');
  const out = values.out ?? join('results', `connections-${timestamp()}.json`);
  return withStack(values, false, { brokers: 1 }, async (stack) => {
    const result = await runConnectionSweep({
      kafkaBrokers: stack.kafkaBrokers,
      counts,
      connectConcurrency: rangedInt(values, 'connect-concurrency', 200, 1, 10_000),
      settleMs: rangedInt(values, 'settle', 5, 0, 600) * 1000,
      logDir: join(dirname(out), 'logs'),
      gatewayEnv: gatewayEnv(values, stack.redisUrl),
      onProgress: (line) => process.stderr.write(`${line}\n`),
    });
    const stem = out.replace(/\.json$/, '');
    await writeJson(out, result);
    await writeFile(
      `${stem}.svg`,
      renderLineChart({
        title: 'Gateway memory vs idle connections',
        xLabel: 'idle MQTT connections',
        yLabel: 'gateway RSS (MiB)',
        series: [{ name: 'gateway RSS', points: [[0, result.baselineRssMiB], ...result.steps.map((s): [number, number] => [s.connections, s.gatewayRssMiB])] }],
      }),
    );
    process.stdout.write(`result: ${out}\nplot: ${stem}.svg\n`);
    return result.steps.every((step) => step.connectFailures === 0) ? 0 : 1;
  });
}

/** The checkout's commit (with -dirty when it has changes), or null outside a git checkout. */
async function checkoutCommit(): Promise<string | null> {
  try {
    return (await promisify(execFile)('git', ['describe', '--always', '--dirty', '--abbrev=10'], { cwd: new URL('../..', import.meta.url) })).stdout.trim();
  } catch {
    return null;
  }
}

async function commandsAction(values: Values, args: readonly string[]): Promise<number> {
  const out = values.out ?? join('results', `commands-${timestamp()}.json`);
  const devices = rangedInt(values, 'devices', 10_000, 1, 200_000);
  return runBench((signal) =>
    withStack(values, false, { brokers: 1 }, async (stack) => {
      const result = await runCommandsBench({
        kafkaBrokers: stack.kafkaBrokers,
        devices,
        connectConcurrency: rangedInt(values, 'connect-concurrency', 200, 1, 10_000),
        reconnectRatePerSec: rangedInt(values, 'reconnect-rate', 1000, 1, 1_000_000),
        produceBatch: rangedInt(values, 'produce-batch', 1000, 1, 100_000),
        phaseTimeoutMs: rangedInt(values, 'timeout', 120, 1, 3600) * 1000,
        logDir: join(dirname(out), 'logs'),
        gatewayEnv: gatewayEnv(values, stack.redisUrl),
        serverPids: stack.serverPids,
        commandLine: ['tributary', 'bench', ...args].join(' '),
        commit: (await checkoutCommit()) ?? 'unknown',
        onProgress: (line) => process.stderr.write(`${line}\n`),
        signal,
      });
      await writeJson(out, result);
      process.stdout.write(`${formatCommandsReport(result)}\nresult: ${out}\n`);
      return result.problems.length === 0 && !signal.aborted ? 0 : 1;
    }),
  );
}

async function apiAction(values: Values, args: readonly string[]): Promise<number> {
  const load = loadOptions({ devices: '1000', rate: '5000', duration: '30', ...values });
  const out = values.out ?? join('results', `api-${timestamp()}.json`);
  return runBench((signal) =>
    withStack(values, true, { brokers: 1 }, async (stack) => {
      if (stack.questdbPgUrl === null) throw new UsageError('bench api reads QuestDB over its PostgreSQL port: run it on a local stack (no addresses, or --stack-name of a running one)');
      const result = await runApiBench({
        e2e: {
          ...load,
          kafkaBrokers: stack.kafkaBrokers,
          questdbHttpUrl: stack.questdbHttpUrl,
          enrich: true,
          auditKafka: !values['no-kafka-audit'],
          drainTimeoutMs: rangedInt(values, 'drain-timeout', 120, 1, 3600) * 1000,
          probePollMs: rangedInt(values, 'probe-poll', 50, 5, 10_000),
          restWindowMs: rangedInt(values, 'rest-window', 0, 0, 600) * 1000,
          warmupMs: rangedInt(values, 'warmup', 0, 0, 600) * 1000,
          maxProbeRatePerSec: 300,
          logDir: join(dirname(out), 'logs'),
          serverPids: stack.serverPids,
          gatewayEnv: gatewayEnv(values, stack.redisUrl),
          enrichEnv: envPairs(values['enrich-env'], 'enrich-env'),
          credentials: createBenchCredentials('bench', load.devices),
          onProgress: progressPrinter(),
          signal,
        },
        questdbPgUrl: stack.questdbPgUrl,
        clients: rangedInt(values, 'clients', 200, 0, 10_000),
        replayRounds: rangedInt(values, 'replay-rounds', 2, 0, 100),
        replayTimeoutMs: 600_000,
        commandLine: ['tributary', 'bench', ...args].join(' '),
        commit: (await checkoutCommit()) ?? 'unknown',
      });
      endProgress();
      await writeJson(out, result);
      process.stdout.write(`${formatApiReport(result)}\nresult: ${out}\n`);
      return result.problems.length === 0 && result.e2e.countsAgree && !signal.aborted ? 0 : 1;
    }),
  );
}

export async function benchCommand(args: readonly string[]): Promise<number> {
  // The client comparison has options of its own.
  if (args[0] === 'clients') return (await import('./bench-clients-command.ts')).benchClientsCommand(args.slice(1));
  if (args[0] === 'consumers') return (await import('./bench-consumers-command.ts')).benchConsumersCommand(args.slice(1));
  const parsed = parseCommandArgs(args, options, help);
  if (!parsed) return 0;
  const [action, ...extra] = parsed.positionals;
  if (extra.length > 0) throw new UsageError(`unexpected arguments: ${extra.join(' ')}`);
  const values = parsed.values as Values;
  switch (action) {
    case 'devices':
      return devicesAction(values);
    case 'e2e':
      return e2eAction(values);
    case 'connections':
      return connectionsAction(values);
    case 'commands':
      return commandsAction(values, args);
    case 'api':
      return apiAction(values, args);
    default:
      throw new UsageError(`unknown bench command ${JSON.stringify(action ?? '')}\n\n${help}`);
  }
}
