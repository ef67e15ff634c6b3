/**
 * The Kafka client comparison: the same producer workload through KafkaProducerPort on each
 * client (kafkajs, @platformatic/kafka, node-rdkafka), so the product's one producer client is
 * chosen by numbers (ADR 0006). The product's adapter is kafka/platformatic-producer.ts; the other
 * two exist only for this comparison and live beside it (kafkajs-producer.ts, rdkafka-producer.ts).
 *
 * Workload: `devices` simulated devices, one ~200-byte telemetry payload each (key = device id,
 * headers as the gateway builds them), reused for every send so only the client's cost is measured.
 * Two kinds of cell, each on a fresh topic with a fresh producer after a short warm-up, repeated
 * for `rounds` rounds with the clients interleaved (see `runOrder`):
 *  - throughput: a closed loop keeping `concurrency` sends outstanding for `cellDurationMs`;
 *  - latency: an open loop offering `rate` msg/s; latency counts from each record's scheduled send
 *    time, so a client that falls behind is charged for the wait (no coordinated omission).
 * Afterwards the topic's end offsets must add up to at least the acknowledged sends.
 *
 * node-rdkafka is a native addon that must be built against this Node's headers, so it is not a
 * project dependency: `ensureNodeRdkafka` installs it on demand into a cache directory.
 */
import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { createWriteStream, existsSync, readFileSync } from 'node:fs';
import { mkdir, readFile, rename, rm, writeFile } from 'node:fs/promises';
import { loadavg } from 'node:os';
import { join } from 'node:path';
import { monitorEventLoopDelay, performance } from 'node:perf_hooks';
import { Kafka, logLevel } from 'kafkajs';
import type { KafkaProducerPort, OutgoingRecord } from '../core/kafka-port.ts';
import { describeError } from '../core/errors.ts';
import { silentLogger } from '../core/logger.ts';
import { buildRecord } from '../ingest/record-builder.ts';
import { createKafkaClientFactory } from '../kafka/kafka-client-factory.ts';
import { createPlatformaticProducer } from '../kafka/platformatic-producer.ts';
import { createKafkajsProducer } from './kafkajs-producer.ts';
import { createLatencyHistogram, type LatencySummary } from './latency-histogram.ts';
import { createRateSchedule } from './rate-schedule.ts';
import { median as medianOrNull } from './median.ts';
import { createRdkafkaProducer, loadNodeRdkafka, type RdkafkaModule } from './rdkafka-producer.ts';
import { buildTelemetryPayload } from './telemetry-generator.ts';

export const clientNames = ['kafkajs', 'platformatic', 'rdkafka'] as const;
export type ClientName = (typeof clientNames)[number];

export type CellSpec = { kind: 'throughput'; concurrency: number } | { kind: 'latency'; ratePerSec: number };

export interface ProducerSettings {
  sendTimeoutMs: number;
  lingerMs: number;
  maxBatchRecords: number;
  /** node-rdkafka only: how often delivery reports are polled. */
  rdkafkaPollIntervalMs: number;
}

export interface CellResult {
  client: ClientName;
  cell: CellSpec;
  /** 1-based round; each round runs every cell once per client. */
  round: number;
  durationMs: number;
  /** Sends started during the measured window. */
  offered: number;
  acknowledged: number;
  failed: number;
  /** Acknowledged sends per second over the measured window. */
  ackedPerSec: number;
  latency: LatencySummary;
  /** CPU time of this whole process (client, workload, event loop) over the window, % of one core. */
  cpuPercent: number;
  eventLoopDelayP99Ms: number;
  loadAverage1m: { before: number; after: number };
  topic: string;
  /** All acknowledged sends of the cell, warm-up included, and what the topic holds. */
  check: { acknowledgedTotal: number; endOffsetTotal: number; ok: boolean };
  firstError: string | null;
}

export interface SkippedClient {
  client: ClientName;
  reason: string;
}

export interface ClientCompareResult {
  startedAt: string;
  node: string;
  brokers: string[];
  settings: ProducerSettings & { devices: number; partitions: number; cellDurationMs: number; warmupMs: number; rounds: number; payloadBytes: number };
  clientVersions: Partial<Record<ClientName, string>>;
  cells: CellResult[];
  skipped: SkippedClient[];
}

// ---------------------------------------------------------------------------------------------
// Pure parts (unit-tested)

/** Parses `kafkajs,rdkafka` into known client names, in the given order, without duplicates. */
export function parseClientList(text: string): ClientName[] {
  const names = text
    .split(',')
    .map((item) => item.trim())
    .filter((item) => item !== '');
  const unknown = names.filter((name) => !(clientNames as readonly string[]).includes(name));
  if (unknown.length > 0 || names.length === 0) throw new RangeError(`unknown client(s) ${JSON.stringify(unknown)}; expected some of ${clientNames.join(', ')}`);
  return [...new Set(names as ClientName[])];
}

/** The cells each client runs, throughput first. */
export function cellPlan(concurrencies: readonly number[], rates: readonly number[]): CellSpec[] {
  return [...concurrencies.map((concurrency) => ({ kind: 'throughput' as const, concurrency })), ...rates.map((ratePerSec) => ({ kind: 'latency' as const, ratePerSec }))];
}

/**
 * The order of the runs: round by round, cell by cell, every client in turn, the client order
 * rotated each round. On a shared machine the background load drifts; interleaving spreads that
 * drift over the clients instead of charging it to whichever ran last.
 */
export function runOrder<T>(clients: readonly T[], cells: readonly CellSpec[], rounds: number): Array<{ round: number; cell: CellSpec; client: T }> {
  const order: Array<{ round: number; cell: CellSpec; client: T }> = [];
  for (let round = 1; round <= rounds; round += 1) {
    for (const [cellIndex, cell] of cells.entries()) {
      for (let index = 0; index < clients.length; index += 1) {
        order.push({ round, cell, client: clients[(index + round - 1 + cellIndex) % clients.length]! });
      }
    }
  }
  return order;
}

/** The median, NaN for none (it prints as such in the comparison tables). */
export function median(values: readonly number[]): number {
  return medianOrNull(values) ?? Number.NaN;
}

export interface CellMedian {
  client: ClientName;
  cell: CellSpec;
  rounds: number;
  ackedPerSec: number;
  p50Ms: number;
  p95Ms: number;
  p99Ms: number;
  maxMs: number;
  cpuPercent: number;
  failed: number;
  checksOk: boolean;
}

/** Per client and cell: the median over the rounds of each figure (failures are summed). */
export function medianByCell(cells: readonly CellResult[]): CellMedian[] {
  const groups = new Map<string, CellResult[]>();
  for (const cell of cells) {
    const key = `${cell.client}\u0000${cellLabel(cell.cell)}`;
    const group = groups.get(key);
    if (group) group.push(cell);
    else groups.set(key, [cell]);
  }
  return [...groups.values()].map((group) => ({
    client: group[0]!.client,
    cell: group[0]!.cell,
    rounds: group.length,
    ackedPerSec: median(group.map((cell) => cell.ackedPerSec)),
    p50Ms: median(group.map((cell) => cell.latency.p50Ms)),
    p95Ms: median(group.map((cell) => cell.latency.p95Ms)),
    p99Ms: median(group.map((cell) => cell.latency.p99Ms)),
    maxMs: median(group.map((cell) => cell.latency.maxMs)),
    cpuPercent: median(group.map((cell) => cell.cpuPercent)),
    failed: group.reduce((sum, cell) => sum + cell.failed, 0),
    checksOk: group.every((cell) => cell.check.ok),
  }));
}

export function cellLabel(cell: CellSpec): string {
  return cell.kind === 'throughput' ? `max, ${cell.concurrency} outstanding` : `${cell.ratePerSec} msg/s offered`;
}

/** Device ids like the simulator's: bench-000001... */
export function deviceIds(count: number, prefix = 'bench'): string[] {
  return Array.from({ length: count }, (_, index) => `${prefix}-${String(index + 1).padStart(6, '0')}`);
}

/** The end-offset check: every acknowledged send must be in the topic (more is allowed: failed sends may have been written). */
export function endOffsetCheck(acknowledgedTotal: number, endOffsets: ReadonlyArray<{ offset: string }>): CellResult['check'] {
  const endOffsetTotal = endOffsets.reduce((sum, { offset }) => sum + Number(offset), 0);
  return { acknowledgedTotal, endOffsetTotal, ok: endOffsetTotal >= acknowledgedTotal };
}

/** Where node-rdkafka is installed for a given package version and Node ABI (native addons are per ABI). */
export function rdkafkaInstallDir(cacheDir: string, version: string, nodeAbi: string): string {
  return join(cacheDir, `node-rdkafka-${version}-abi${nodeAbi}`);
}

const fixed = (value: number, digits = 1): string => (Number.isFinite(value) ? value.toFixed(digits) : '-');

function formatTable(header: readonly string[], rows: ReadonlyArray<readonly string[]>, leftColumns: number): string[] {
  const widths = header.map((title, column) => Math.max(title.length, ...rows.map((row) => row[column]!.length)));
  const line = (cells: readonly string[]): string => cells.map((cell, column) => (column < leftColumns ? cell.padEnd(widths[column]!) : cell.padStart(widths[column]!))).join('  ');
  return [line(header), widths.map((width) => '-'.repeat(width)).join('  '), ...rows.map(line)];
}

/** Fixed-width tables: every run, then (with several rounds) the medians per client and cell, then skipped clients. */
export function formatClientCompareTable(result: Pick<ClientCompareResult, 'cells' | 'skipped'>): string {
  const rows = result.cells.map((cell) => [
    cell.client,
    cellLabel(cell.cell),
    cell.round.toString(),
    Math.round(cell.ackedPerSec).toString(),
    cell.failed.toString(),
    fixed(cell.latency.p50Ms),
    fixed(cell.latency.p95Ms),
    fixed(cell.latency.p99Ms),
    fixed(cell.latency.maxMs),
    Math.round(cell.cpuPercent).toString(),
    fixed(cell.eventLoopDelayP99Ms),
    `${fixed(cell.loadAverage1m.before, 2)}→${fixed(cell.loadAverage1m.after, 2)}`,
    cell.check.ok ? `yes (${cell.check.endOffsetTotal}/${cell.check.acknowledgedTotal})` : `NO (${cell.check.endOffsetTotal}/${cell.check.acknowledgedTotal})`,
  ]);
  const lines = formatTable(['client', 'cell', 'round', 'acked/s', 'failed', 'p50 ms', 'p95 ms', 'p99 ms', 'max ms', 'cpu %', 'loop p99 ms', 'load 1m', 'offsets ≥ acked'], rows, 2);
  if (result.cells.some((cell) => cell.round > 1)) {
    const medians = medianByCell(result.cells).sort((a, b) => cellLabel(a.cell).localeCompare(cellLabel(b.cell)) || a.client.localeCompare(b.client));
    lines.push('', 'medians over rounds:');
    lines.push(
      ...formatTable(
        ['client', 'cell', 'rounds', 'acked/s', 'failed', 'p50 ms', 'p95 ms', 'p99 ms', 'max ms', 'cpu %', 'offsets ≥ acked'],
        medians.map((row) => [
          row.client,
          cellLabel(row.cell),
          row.rounds.toString(),
          Math.round(row.ackedPerSec).toString(),
          row.failed.toString(),
          fixed(row.p50Ms),
          fixed(row.p95Ms),
          fixed(row.p99Ms),
          fixed(row.maxMs),
          Math.round(row.cpuPercent).toString(),
          row.checksOk ? 'yes' : 'NO',
        ]),
        2,
      ),
    );
  }
  for (const skipped of result.skipped) lines.push(`${skipped.client}: skipped: ${skipped.reason}`);
  return lines.join('\n');
}

// ---------------------------------------------------------------------------------------------
// node-rdkafka on demand

function runLogged(command: string, args: readonly string[], options: { cwd: string; env: NodeJS.ProcessEnv; logFile: string; timeoutMs: number }): Promise<void> {
  return new Promise<void>((resolve, reject) => {
    const log = createWriteStream(options.logFile, { flags: 'a' });
    log.write(`$ ${command} ${args.join(' ')}\n`);
    const child = spawn(command, [...args], { cwd: options.cwd, env: options.env, stdio: ['ignore', 'pipe', 'pipe'] });
    child.stdout.pipe(log, { end: false });
    child.stderr.pipe(log, { end: false });
    const timer = setTimeout(() => child.kill('SIGTERM'), options.timeoutMs);
    child.on('error', (error) => {
      clearTimeout(timer);
      log.end();
      reject(error);
    });
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      log.end(() => (code === 0 ? resolve() : reject(new Error(`${command} ${args.join(' ')} exited with ${code ?? signal}; see ${options.logFile}`))));
    });
  });
}

async function tailOf(file: string, lines: number): Promise<string> {
  try {
    return (await readFile(file, 'utf8')).trimEnd().split('\n').slice(-lines).join('\n');
  } catch {
    return '';
  }
}

/**
 * Node's C headers for this runtime, from the npm registry's `node-<platform>-<arch>` package
 * (nodejs.org may be unreachable). Returns the directory to use as node-gyp's nodedir.
 */
export async function ensureNodeHeaders(cacheDir: string, env: NodeJS.ProcessEnv, logFile: string, log: (message: string) => void): Promise<string> {
  const nodeVersion = process.versions.node;
  const headersDir = join(cacheDir, 'headers', `node-v${nodeVersion}`);
  if (existsSync(join(headersDir, 'include', 'node', 'common.gypi')) && existsSync(join(headersDir, 'include', 'node', 'node_api.h'))) return headersDir;
  const packageName = `node-${process.platform}-${process.arch}@${nodeVersion}`;
  log(`fetching Node ${nodeVersion} headers (npm pack ${packageName})...`);
  const work = join(cacheDir, 'headers', `tmp-${randomBytes(4).toString('hex')}`);
  await mkdir(work, { recursive: true });
  try {
    await runLogged('npm', ['pack', packageName, '--silent'], { cwd: work, env, logFile, timeoutMs: 300_000 });
    const tarball = join(work, `node-${process.platform}-${process.arch}-${nodeVersion}.tgz`);
    if (!existsSync(tarball)) throw new Error(`npm pack did not produce ${tarball}`);
    await runLogged('tar', ['xzf', tarball, 'package/include', 'package/package.json'], { cwd: work, env, logFile, timeoutMs: 120_000 });
    if (!existsSync(join(work, 'package', 'include', 'node', 'common.gypi'))) throw new Error(`${packageName} has no include/node/common.gypi`);
    const packaged = JSON.parse(await readFile(join(work, 'package', 'package.json'), 'utf8')) as { version?: string };
    if (packaged.version !== nodeVersion) throw new Error(`${packageName} is version ${packaged.version ?? '?'}`);
    await rm(headersDir, { recursive: true, force: true });
    await rename(join(work, 'package'), headersDir);
    return headersDir;
  } finally {
    await rm(work, { recursive: true, force: true });
  }
}

/**
 * Loads node-rdkafka from the cache, installing it first when needed: fetches this Node's headers,
 * then `npm install node-rdkafka@<version>` with node-gyp pointed at them (a 2-3 minute native
 * build; JOBS is left unset because librdkafka's parallel make races). Never throws: a failure
 * comes back as a reason, so the comparison can skip the client.
 */
export async function ensureNodeRdkafka(options: { cacheDir: string; version: string; env: NodeJS.ProcessEnv; log: (message: string) => void }): Promise<{ ok: true; module: RdkafkaModule; dir: string } | { ok: false; reason: string }> {
  const dir = rdkafkaInstallDir(options.cacheDir, options.version, process.versions.modules);
  const logFile = join(dir, 'install.log');
  try {
    return { ok: true, module: loadNodeRdkafka(dir), dir };
  } catch {
    // Not installed yet (or broken): install below.
  }
  try {
    await rm(dir, { recursive: true, force: true });
    await mkdir(dir, { recursive: true });
    await writeFile(join(dir, 'package.json'), JSON.stringify({ name: 'tributary-node-rdkafka-cache', private: true }) + '\n');
    const env: NodeJS.ProcessEnv = { ...options.env };
    delete env.JOBS;
    delete env.npm_config_jobs;
    const nodedir = await ensureNodeHeaders(options.cacheDir, env, logFile, options.log);
    env.npm_config_nodedir = nodedir;
    options.log(`building node-rdkafka@${options.version} against ${nodedir} (2-3 minutes; log: ${logFile})...`);
    await runLogged('npm', ['install', '--prefix', dir, '--no-audit', '--no-fund', '--no-save', `node-rdkafka@${options.version}`], { cwd: dir, env, logFile, timeoutMs: 1_200_000 });
    return { ok: true, module: loadNodeRdkafka(dir), dir };
  } catch (error) {
    const tail = await tailOf(logFile, 15);
    return { ok: false, reason: `node-rdkafka@${options.version} could not be installed: ${describeError(error)}${tail ? `\n${tail}` : ''}` };
  }
}

// ---------------------------------------------------------------------------------------------
// The runner

export interface ClientCompareOptions extends ProducerSettings {
  brokers: readonly string[];
  clients: readonly ClientName[];
  cells: readonly CellSpec[];
  devices: number;
  partitions: number;
  cellDurationMs: number;
  warmupMs: number;
  rounds: number;
  /** node-rdkafka when it could be loaded, or why not. */
  rdkafka: { ok: true; module: RdkafkaModule } | { ok: false; reason: string };
  log: (message: string) => void;
}

function buildWorkload(devices: number, topic: string): OutgoingRecord[] {
  const now = Date.now();
  return deviceIds(devices).map((deviceId, index) =>
    buildRecord({
      deviceId,
      mqttTopic: `devices/${deviceId}/telemetry`,
      qos: 1,
      retain: false,
      payload: Buffer.from(buildTelemetryPayload(2, index, now, 3)),
      gatewayId: 'bench-clients',
      receivedAtMs: now,
      kafkaTopic: topic,
    }),
  );
}

function createProducer(client: ClientName, options: ClientCompareOptions): KafkaProducerPort {
  const settings = { sendTimeoutMs: options.sendTimeoutMs, lingerMs: options.lingerMs, maxBatchRecords: options.maxBatchRecords, compression: 'none' as const };
  const clientId = `bench-clients-${client}`;
  const logger = silentLogger();
  if (client === 'kafkajs') return createKafkajsProducer({ brokers: options.brokers, clientId, logger, ...settings });
  if (client === 'platformatic') return createPlatformaticProducer({ brokers: options.brokers, clientId, logger, ...settings });
  if (!options.rdkafka.ok) throw new Error(options.rdkafka.reason);
  return createRdkafkaProducer({ rdkafka: options.rdkafka.module, brokers: options.brokers, clientId, logger, ...settings, pollIntervalMs: options.rdkafkaPollIntervalMs });
}

interface LoopOutcome {
  offered: number;
  acknowledged: number;
  failed: number;
  firstError: string | null;
  elapsedMs: number;
}

/** Keeps `concurrency` sends outstanding until `durationMs` passed, then waits for the rest. */
function closedLoop(producer: KafkaProducerPort, records: readonly OutgoingRecord[], concurrency: number, durationMs: number, onAck: (latencyMs: number) => void): Promise<LoopOutcome> {
  return new Promise((resolve) => {
    const startedAt = performance.now();
    const endAt = startedAt + durationMs;
    const outcome: LoopOutcome = { offered: 0, acknowledged: 0, failed: 0, firstError: null, elapsedMs: 0 };
    let outstanding = 0;
    const launch = (): void => {
      if (performance.now() >= endAt) {
        if (outstanding === 0) {
          outcome.elapsedMs = performance.now() - startedAt;
          resolve(outcome);
        }
        return;
      }
      const record = records[outcome.offered % records.length]!;
      outcome.offered += 1;
      outstanding += 1;
      const sentAt = performance.now();
      producer.send(record).then(
        () => {
          outstanding -= 1;
          outcome.acknowledged += 1;
          onAck(performance.now() - sentAt);
          launch();
        },
        (error: unknown) => {
          outstanding -= 1;
          outcome.failed += 1;
          outcome.firstError ??= describeError(error);
          launch();
        },
      );
    };
    for (let index = 0; index < concurrency; index += 1) launch();
  });
}

/** Offers `ratePerSec` for `durationMs`; latency counts from each record's scheduled time. */
async function openLoop(producer: KafkaProducerPort, records: readonly OutgoingRecord[], ratePerSec: number, durationMs: number, onAck: (latencyMs: number) => void): Promise<LoopOutcome> {
  const startedAt = performance.now();
  const schedule = createRateSchedule({ ratePerSec, startMs: startedAt });
  const outcome: LoopOutcome = { offered: 0, acknowledged: 0, failed: 0, firstError: null, elapsedMs: 0 };
  const sends: Array<Promise<void>> = [];
  const total = Math.floor((ratePerSec * durationMs) / 1000);
  while (outcome.offered < total) {
    const due = Math.min(schedule.due(performance.now()), total - outcome.offered);
    for (let index = 0; index < due; index += 1) {
      const scheduledAt = startedAt + (outcome.offered * 1000) / ratePerSec;
      const record = records[outcome.offered % records.length]!;
      outcome.offered += 1;
      sends.push(
        producer.send(record).then(
          () => {
            outcome.acknowledged += 1;
            onAck(performance.now() - scheduledAt);
          },
          (error: unknown) => {
            outcome.failed += 1;
            outcome.firstError ??= describeError(error);
          },
        ),
      );
    }
    // 1 ms ticks: a late tick releases more records, so the offered rate never drifts.
    await new Promise((resolve) => setTimeout(resolve, 1));
  }
  await Promise.all(sends);
  outcome.elapsedMs = Math.max(durationMs, performance.now() - startedAt);
  return outcome;
}

async function runCell(client: ClientName, cell: CellSpec, round: number, options: ClientCompareOptions, admin: { topic: (name: string) => Promise<void>; endOffsets: (topic: string) => Promise<Array<{ offset: string }>> }): Promise<CellResult> {
  const topic = `bench.clients.${client}.${cell.kind === 'throughput' ? `c${cell.concurrency}` : `r${cell.ratePerSec}`}.${Date.now().toString(36)}`;
  await admin.topic(topic);
  const records = buildWorkload(options.devices, topic);
  const producer = createProducer(client, options);
  let acknowledgedTotal = 0;
  try {
    await producer.start();
    const warmup = await closedLoop(producer, records, Math.min(1000, cell.kind === 'throughput' ? cell.concurrency : 1000), options.warmupMs, () => undefined);
    acknowledgedTotal += warmup.acknowledged;
    const histogram = createLatencyHistogram();
    const loopDelay = monitorEventLoopDelay({ resolution: 10 });
    const loadBefore = loadavg()[0] ?? 0;
    const cpuBefore = process.cpuUsage();
    loopDelay.enable();
    const outcome =
      cell.kind === 'throughput'
        ? await closedLoop(producer, records, cell.concurrency, options.cellDurationMs, (ms) => histogram.recordMs(ms))
        : await openLoop(producer, records, cell.ratePerSec, options.cellDurationMs, (ms) => histogram.recordMs(ms));
    loopDelay.disable();
    const cpu = process.cpuUsage(cpuBefore);
    acknowledgedTotal += outcome.acknowledged;
    await producer.stop();
    const check = endOffsetCheck(acknowledgedTotal, await admin.endOffsets(topic));
    return {
      client,
      cell,
      round,
      durationMs: Math.round(outcome.elapsedMs),
      offered: outcome.offered,
      acknowledged: outcome.acknowledged,
      failed: outcome.failed,
      ackedPerSec: (outcome.acknowledged * 1000) / outcome.elapsedMs,
      latency: histogram.summary(),
      cpuPercent: ((cpu.user + cpu.system) / 1000 / outcome.elapsedMs) * 100,
      eventLoopDelayP99Ms: loopDelay.percentile(99) / 1e6,
      loadAverage1m: { before: loadBefore, after: loadavg()[0] ?? 0 },
      topic,
      check,
      firstError: outcome.firstError ?? warmup.firstError,
    };
  } finally {
    await producer.stop().catch(() => undefined);
  }
}

function packageVersion(name: string): string | undefined {
  try {
    return (JSON.parse(readFileSync(new URL(`../node_modules/${name}/package.json`, import.meta.url), 'utf8')) as { version?: string }).version;
  } catch {
    return undefined;
  }
}

/** Runs every cell for every client in turn and returns the results; a client that cannot run is skipped with its reason. */
export async function runClientCompare(options: ClientCompareOptions): Promise<ClientCompareResult> {
  const kafka = new Kafka({ clientId: 'bench-clients-admin', brokers: [...options.brokers], logLevel: logLevel.NOTHING });
  const rawAdmin = kafka.admin();
  const adminPort = createKafkaClientFactory({ brokers: options.brokers, logger: silentLogger() }).admin({ clientId: 'bench-clients-admin' });
  const created: string[] = [];
  const admin = {
    topic: async (name: string) => {
      await adminPort.ensureTopics([{ topic: name, partitions: options.partitions, replicationFactor: 1 }]);
      created.push(name);
    },
    endOffsets: (topic: string) => adminPort.endOffsets(topic),
  };
  const result: ClientCompareResult = {
    startedAt: new Date().toISOString(),
    node: process.version,
    brokers: [...options.brokers],
    settings: {
      sendTimeoutMs: options.sendTimeoutMs,
      lingerMs: options.lingerMs,
      maxBatchRecords: options.maxBatchRecords,
      rdkafkaPollIntervalMs: options.rdkafkaPollIntervalMs,
      devices: options.devices,
      partitions: options.partitions,
      cellDurationMs: options.cellDurationMs,
      warmupMs: options.warmupMs,
      rounds: options.rounds,
      payloadBytes: buildWorkload(1, 't')[0]!.value?.length ?? 0,
    },
    clientVersions: {
      kafkajs: packageVersion('kafkajs'),
      platformatic: packageVersion('@platformatic/kafka'),
      ...(options.rdkafka.ok && { rdkafka: `node-rdkafka (librdkafka ${options.rdkafka.module.librdkafkaVersion})` }),
    },
    cells: [],
    skipped: [],
  };
  try {
    const runnable = options.clients.filter((client) => {
      if (client !== 'rdkafka' || options.rdkafka.ok) return true;
      result.skipped.push({ client, reason: options.rdkafka.reason });
      options.log(`rdkafka: skipped: ${options.rdkafka.reason}`);
      return false;
    });
    for (const { round, cell, client } of runOrder(runnable, options.cells, options.rounds)) {
      options.log(`[round ${round}/${options.rounds}] ${client}: ${cellLabel(cell)} for ${options.cellDurationMs / 1000} s...`);
      try {
        const cellResult = await runCell(client, cell, round, options, admin);
        result.cells.push(cellResult);
        options.log(
          `[round ${round}/${options.rounds}] ${client}: ${cellLabel(cell)}: ${Math.round(cellResult.ackedPerSec)} acked/s, p99 ${fixed(cellResult.latency.p99Ms)} ms, failed ${cellResult.failed}, offsets ${cellResult.check.ok ? 'ok' : 'MISSING RECORDS'}`,
        );
      } catch (error) {
        result.skipped.push({ client, reason: `round ${round}, ${cellLabel(cell)}: ${describeError(error)}` });
        options.log(`${client}: ${cellLabel(cell)} failed: ${describeError(error)}`);
      }
    }
  } finally {
    try {
      await rawAdmin.connect();
      if (created.length > 0) await rawAdmin.deleteTopics({ topics: created });
    } catch (error) {
      options.log(`could not delete the bench topics: ${describeError(error)}`);
    }
    await rawAdmin.disconnect().catch(() => undefined);
    await adminPort.close().catch(() => undefined);
  }
  return result;
}
