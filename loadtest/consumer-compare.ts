/**
 * The consumer comparison: the enricher's GroupConsumerPort on each adapter (kafkajs,
 * @platformatic/kafka), so the product's one consumer is chosen by numbers (ADR 0011).
 *
 * A telemetry topic is preloaded once with `records` records of the gateway's shape (~200-byte v2
 * payloads of 3 readings, key = device id, the gateway's headers). Then, alternating the adapters
 * round by round, one member process (consumer-compare-worker.ts) per run reads the whole topic in
 * a fresh group with the enricher's fetch settings, counting and committing each batch and doing
 * nothing else: records/s and CPU µs per record of that process, between its first batch and its
 * last commit. Every offset of every partition must have been counted at least once.
 *
 * The fault runs (a 3-broker stack) read a rate-limited topic so the faults land mid-run: a second
 * member joins at `joinAtShare` of the records (a rebalance), a broker is SIGKILLed at
 * `killAtShare`; the group must still commit every partition to its end, and the members' counts
 * together must cover every offset (nothing skipped; commits only follow counting).
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { loadavg } from 'node:os';
import { fileURLToPath } from 'node:url';
import type { Admin } from 'kafkajs';
import type { OutgoingRecord } from '../core/kafka-port.ts';
import { silentLogger } from '../core/logger.ts';
import { waitFor } from '../core/wait-for.ts';
import { buildRecord } from '../ingest/record-builder.ts';
import { createKafkajsClient } from '../kafka/kafkajs-client.ts';
import { createPlatformaticProducer } from '../kafka/platformatic-producer.ts';
import { deviceIds, median } from './client-compare.ts';
import { buildTelemetryPayload } from './telemetry-generator.ts';

export const consumerAdapterNames = ['kafkajs', 'platformatic'] as const;
export type ConsumerAdapterName = (typeof consumerAdapterNames)[number];

export interface WorkerSpec {
  adapter: ConsumerAdapterName;
  brokers: string[];
  clientId: string;
  groupId: string;
  topic: string;
  /** Per partition (index = partition), the log end offset: the worker counts offsets below it. */
  endOffsets: number[];
  partitionsConcurrently: number;
  fetch: { minBytes: number; maxWaitMs: number };
  /** Records per second at most over the whole member, or null for as fast as it goes. */
  ratePerSec: number | null;
}

export interface WorkerReport {
  adapter: ConsumerAdapterName;
  processed: number;
  duplicates: number;
  crashes: number;
  stopError: string | null;
  /** From the first batch to the last commit. */
  windowMs: number;
  windowRecords: number;
  windowCpuUs: number;
  /** The whole process life up to the report, start-up and stop included. */
  totalCpuUs: number;
  /** Per partition, the counted offsets as [from, to) ranges. */
  ranges: Array<Array<[number, number]>>;
}

export interface ThroughputRun {
  adapter: ConsumerAdapterName;
  round: number;
  records: number;
  recordsPerSec: number;
  cpuUsPerRecord: number;
  totalCpuUsPerRecord: number;
  duplicates: number;
  missing: number;
  crashes: number;
  loadAverage1m: { before: number; after: number };
}

export interface FaultRun {
  adapter: ConsumerAdapterName;
  records: number;
  /** Offsets no member counted: must be 0. */
  missing: number;
  /** Offsets counted more than once (re-delivery after the rebalance or the broker loss). */
  duplicates: number;
  crashes: number;
  /** Whether the group's committed offsets reached every partition's end. */
  committedToEnd: boolean;
  durationMs: number;
  killedNode: number;
  loadAverage1m: { before: number; after: number };
}

// ---------------------------------------------------------------------------------------------
// Pure parts (unit-tested)

/** The offsets with a non-zero count, as [from, to) ranges. */
export function processedRanges(counts: Uint8Array): Array<[number, number]> {
  const ranges: Array<[number, number]> = [];
  let start = -1;
  for (let offset = 0; offset <= counts.length; offset += 1) {
    const counted = offset < counts.length && counts[offset]! > 0;
    if (counted && start < 0) start = offset;
    if (!counted && start >= 0) {
      ranges.push([start, offset]);
      start = -1;
    }
  }
  return ranges;
}

/** Offsets in [startOffsets[p], endOffsets[p]) that none of the members' ranges covers. */
export function missingOffsets(startOffsets: readonly number[], endOffsets: readonly number[], members: ReadonlyArray<Pick<WorkerReport, 'ranges'>>): number {
  let missing = 0;
  for (const [partition, end] of endOffsets.entries()) {
    const covered = members
      .flatMap((member) => member.ranges[partition] ?? [])
      .map(([from, to]): [number, number] => [Math.max(from, startOffsets[partition] ?? 0), Math.min(to, end)])
      .filter(([from, to]) => to > from)
      .sort((a, b) => a[0] - b[0]);
    let next = startOffsets[partition] ?? 0;
    for (const [from, to] of covered) {
      if (from > next) missing += from - next;
      next = Math.max(next, to);
    }
    if (end > next) missing += end - next;
  }
  return missing;
}

/** Round by round, every adapter once, the order rotated each round (background drift is spread over all). */
export function alternatingOrder<T>(adapters: readonly T[], rounds: number): Array<{ round: number; adapter: T }> {
  const order: Array<{ round: number; adapter: T }> = [];
  for (let round = 1; round <= rounds; round += 1) {
    for (let index = 0; index < adapters.length; index += 1) order.push({ round, adapter: adapters[(index + round - 1) % adapters.length]! });
  }
  return order;
}

export function formatConsumerCompareTable(runs: readonly ThroughputRun[], faults: readonly FaultRun[]): string {
  const lines = ['| adapter | round | records | records/s | CPU µs/record (window) | CPU µs/record (whole process) | missing | load 1m before→after |', '|---|---|---|---|---|---|---|---|'];
  for (const run of runs) {
    lines.push(
      `| ${run.adapter} | ${run.round} | ${run.records} | ${Math.round(run.recordsPerSec)} | ${run.cpuUsPerRecord.toFixed(2)} | ${run.totalCpuUsPerRecord.toFixed(2)} | ${run.missing} | ${run.loadAverage1m.before.toFixed(2)}→${run.loadAverage1m.after.toFixed(2)} |`,
    );
  }
  for (const adapter of new Set(runs.map((run) => run.adapter))) {
    const mine = runs.filter((run) => run.adapter === adapter);
    lines.push(`| ${adapter} | median | | ${Math.round(median(mine.map((run) => run.recordsPerSec)))} | ${median(mine.map((run) => run.cpuUsPerRecord)).toFixed(2)} | ${median(mine.map((run) => run.totalCpuUsPerRecord)).toFixed(2)} | | |`);
  }
  if (faults.length > 0) {
    lines.push('', '| adapter | fault run | records | missing | counted twice | crashes | committed to end | seconds | load 1m before→after |', '|---|---|---|---|---|---|---|---|---|');
    for (const run of faults) {
      lines.push(
        `| ${run.adapter} | member joins, broker ${run.killedNode} killed | ${run.records} | ${run.missing} | ${run.duplicates} | ${run.crashes} | ${run.committedToEnd ? 'yes' : 'NO'} | ${(run.durationMs / 1000).toFixed(1)} | ${run.loadAverage1m.before.toFixed(2)}→${run.loadAverage1m.after.toFixed(2)} |`,
      );
    }
  }
  return lines.join('\n');
}

// ---------------------------------------------------------------------------------------------
// Runs against a real Kafka

const workerEntry = fileURLToPath(new URL('./consumer-compare-worker.ts', import.meta.url));

export interface ConsumerCompareOptions {
  brokers: string[];
  adapters: readonly ConsumerAdapterName[];
  records: number;
  partitions: number;
  rounds: number;
  partitionsConcurrently: number;
  fetch: { minBytes: number; maxWaitMs: number };
  log: (message: string) => void;
}

/** Creates `topic` and fills it with `records` gateway-shaped records from 1,000 devices; returns each partition's end offset. */
export async function preloadTopic(options: { brokers: string[]; admin: Admin; topic: string; partitions: number; replicationFactor: number; records: number }): Promise<number[]> {
  await options.admin.createTopics({ topics: [{ topic: options.topic, numPartitions: options.partitions, replicationFactor: options.replicationFactor }], waitForLeaders: true });
  const producer = createPlatformaticProducer({ brokers: options.brokers, logger: silentLogger(), clientId: 'bench-consumers', sendTimeoutMs: 30_000, lingerMs: 5, maxBatchRecords: 5000, compression: 'none' });
  await producer.start();
  try {
    for (let start = 0; start < options.records; start += 20_000) await producer.sendMany(gatewayRecords(options.topic, start, Math.min(options.records, start + 20_000)));
  } finally {
    await producer.stop();
  }
  return endOffsetsOf(options.admin, options.topic, options.partitions);
}

const devices = deviceIds(1000);

/** Records [from, to) of the workload, as the gateway builds them. */
function gatewayRecords(topic: string, from: number, to: number): OutgoingRecord[] {
  const now = Date.now();
  const records: OutgoingRecord[] = [];
  for (let index = from; index < to; index += 1) {
    const deviceId = devices[index % devices.length]!;
    records.push(
      buildRecord({
        deviceId,
        mqttTopic: `devices/${deviceId}/telemetry`,
        qos: 1,
        retain: false,
        payload: Buffer.from(buildTelemetryPayload(2, Math.floor(index / devices.length), now, 3)),
        gatewayId: 'bench-consumers',
        receivedAtMs: now,
        kafkaTopic: topic,
      }),
    );
  }
  return records;
}

async function endOffsetsOf(admin: Admin, topic: string, partitions: number): Promise<number[]> {
  const ends = await admin.fetchTopicOffsets(topic);
  return Array.from({ length: partitions }, (_, partition) => Number(ends.find((end) => end.partition === partition)?.high ?? 0));
}

interface Member {
  child: ChildProcess;
  report: Promise<WorkerReport>;
}

function startMember(spec: WorkerSpec): Member {
  const child = spawn(process.execPath, [workerEntry, JSON.stringify(spec)], { stdio: ['ignore', 'pipe', 'inherit'] });
  let output = '';
  child.stdout.on('data', (chunk: Buffer) => (output += chunk.toString()));
  const report = new Promise<WorkerReport>((resolve, reject) => {
    child.once('exit', (code) => {
      const line = output.split('\n').find((candidate) => candidate.startsWith('{'));
      if (line === undefined) reject(new Error(`consumer worker (${spec.adapter}) exited with ${code} without a report`));
      else resolve(JSON.parse(line) as WorkerReport);
    });
  });
  return { child, report };
}

async function committedTotal(admin: Admin, groupId: string, topic: string): Promise<number> {
  const [committed] = await admin.fetchOffsets({ groupId, topics: [topic] });
  return (committed?.partitions ?? []).reduce((sum, partition) => sum + Math.max(0, Number(partition.offset)), 0);
}

const sum = (values: readonly number[]): number => values.reduce((total, value) => total + value, 0);

/** Waits until the member committed every record, stops it and turns its report into the run's figures. */
async function finishRun(run: {
  admin: Admin;
  member: Member;
  adapter: ConsumerAdapterName;
  round: number;
  groupId: string;
  topic: string;
  endOffsets: number[];
  /** The 1-minute load average when the run started. */
  before: number;
  timeoutMs: number;
}): Promise<ThroughputRun> {
  const { admin, member, adapter, groupId, topic, endOffsets } = run;
  await waitFor(async () => (await committedTotal(admin, groupId, topic)) >= sum(endOffsets), {
    description: `${adapter} to commit every record`,
    timeoutMs: run.timeoutMs,
    intervalMs: 250,
    hopeless: () => (member.child.exitCode === null ? null : `the worker exited with ${member.child.exitCode}`),
  });
  member.child.kill('SIGTERM');
  const report = await member.report;
  return {
    adapter,
    round: run.round,
    records: report.processed,
    recordsPerSec: report.windowRecords / (report.windowMs / 1000),
    cpuUsPerRecord: report.windowCpuUs / report.windowRecords,
    totalCpuUsPerRecord: report.totalCpuUs / report.processed,
    duplicates: report.duplicates,
    missing: missingOffsets([], endOffsets, [report]),
    crashes: report.crashes,
    loadAverage1m: { before: run.before, after: loadavg()[0]! },
  };
}

/** The throughput runs on a preloaded topic. */
export async function runConsumerThroughput(options: ConsumerCompareOptions): Promise<ThroughputRun[]> {
  const kafka = createKafkajsClient({ brokers: options.brokers, clientId: 'bench-consumers', logger: silentLogger() });
  const admin = kafka.admin();
  await admin.connect();
  const runId = Date.now().toString(36);
  const topic = `iot.telemetry.consumers_${runId}`;
  try {
    options.log(`preloading ${options.records} records into ${topic} (${options.partitions} partitions)...`);
    const endOffsets = await preloadTopic({ brokers: options.brokers, admin, topic, partitions: options.partitions, replicationFactor: 1, records: options.records });
    const runs: ThroughputRun[] = [];
    for (const [index, { round, adapter }] of alternatingOrder(options.adapters, options.rounds).entries()) {
      const groupId = `bench-consumers-${runId}-${index}`;
      const before = loadavg()[0]!;
      const member = startMember({ adapter, brokers: options.brokers, clientId: groupId, groupId, topic, endOffsets, partitionsConcurrently: options.partitionsConcurrently, fetch: options.fetch, ratePerSec: null });
      const run = await finishRun({ admin, member, adapter, round, groupId, topic, endOffsets, before, timeoutMs: 300_000 });
      options.log(`${adapter} round ${round}: ${Math.round(run.recordsPerSec)} records/s, ${run.cpuUsPerRecord.toFixed(2)} µs/record, ${run.missing} missing`);
      runs.push(run);
    }
    return runs;
  } finally {
    await admin.deleteTopics({ topics: [topic] }).catch(() => undefined);
    await admin.disconnect();
  }
}

/**
 * The live runs: the member joins an empty topic first, then the records arrive at `ratePerSec`
 * for `durationS` seconds (produced by this process), as the enricher sees them at that rate:
 * fetches end on the enricher's min bytes / max wait, so batches are small and commits frequent.
 */
export async function runConsumerLive(options: ConsumerCompareOptions & { ratePerSec: number; durationS: number }): Promise<ThroughputRun[]> {
  const kafka = createKafkajsClient({ brokers: options.brokers, clientId: 'bench-consumers-live', logger: silentLogger() });
  const admin = kafka.admin();
  await admin.connect();
  const producer = createPlatformaticProducer({ brokers: options.brokers, logger: silentLogger(), clientId: 'bench-consumers-live', sendTimeoutMs: 30_000, lingerMs: 0, maxBatchRecords: 2000, compression: 'none' });
  await producer.start();
  const runId = Date.now().toString(36);
  const topics: string[] = [];
  try {
    const runs: ThroughputRun[] = [];
    const records = options.ratePerSec * options.durationS;
    for (const [index, { round, adapter }] of alternatingOrder(options.adapters, options.rounds).entries()) {
      const topic = `iot.telemetry.consumers_live_${runId}_${index}`;
      topics.push(topic);
      await admin.createTopics({ topics: [{ topic, numPartitions: options.partitions, replicationFactor: 1 }], waitForLeaders: true });
      const groupId = `bench-consumers-live-${runId}-${index}`;
      const before = loadavg()[0]!;
      // Room for every record in any partition: the keys' spread over partitions is not known up front.
      const capacity = Array.from({ length: options.partitions }, () => records);
      const member = startMember({ adapter, brokers: options.brokers, clientId: groupId, groupId, topic, endOffsets: capacity, partitionsConcurrently: options.partitionsConcurrently, fetch: options.fetch, ratePerSec: null });
      // Joined once the group has a member with partitions.
      await waitFor(async () => ((await admin.describeGroups([groupId])).groups[0]?.state ?? '') === 'Stable', { description: `${adapter} to join`, timeoutMs: 60_000, intervalMs: 100 });
      const started = Date.now();
      const sends: Array<Promise<void>> = [];
      for (let sent = 0; sent < records; ) {
        const due = Math.min(records, Math.floor(((Date.now() - started) / 1000) * options.ratePerSec));
        if (due > sent) {
          sends.push(producer.sendMany(gatewayRecords(topic, sent, due)));
          sent = due;
        }
        await new Promise((resolve) => setTimeout(resolve, 10));
      }
      await Promise.all(sends);
      const endOffsets = await endOffsetsOf(admin, topic, options.partitions);
      const run = await finishRun({ admin, member, adapter, round, groupId, topic, endOffsets, before, timeoutMs: 120_000 });
      options.log(`${adapter} live round ${round}: ${Math.round(run.recordsPerSec)} records/s, ${run.cpuUsPerRecord.toFixed(2)} µs/record, ${run.missing} missing`);
      runs.push(run);
    }
    return runs;
  } finally {
    await producer.stop();
    if (topics.length > 0) await admin.deleteTopics({ topics }).catch(() => undefined);
    await admin.disconnect();
  }
}

/**
 * The fault runs on a 3-broker stack: per adapter, a rate-limited member, a second member joining,
 * a broker killed (and started again by `restartBroker` before the next run).
 */
export async function runConsumerFaults(
  options: ConsumerCompareOptions & { ratePerSec: number; joinAtShare: number; killAtShare: number; killBroker: () => Promise<number>; restartBroker: () => Promise<void> },
): Promise<FaultRun[]> {
  const kafka = createKafkajsClient({ brokers: options.brokers, clientId: 'bench-consumers-faults', logger: silentLogger() });
  const admin = kafka.admin();
  await admin.connect();
  const runId = Date.now().toString(36);
  const topic = `iot.telemetry.consumer_faults_${runId}`;
  try {
    options.log(`preloading ${options.records} records into ${topic} (${options.partitions} partitions, 3 replicas)...`);
    const endOffsets = await preloadTopic({ brokers: options.brokers, admin, topic, partitions: options.partitions, replicationFactor: 3, records: options.records });
    const total = sum(endOffsets);
    const runs: FaultRun[] = [];
    for (const [index, adapter] of options.adapters.entries()) {
      if (index > 0) await options.restartBroker();
      const groupId = `bench-consumer-faults-${runId}-${index}`;
      const before = loadavg()[0]!;
      const started = Date.now();
      const spec = (member: string): WorkerSpec => ({
        adapter,
        brokers: options.brokers,
        clientId: `${groupId}-${member}`,
        groupId,
        topic,
        endOffsets,
        partitionsConcurrently: options.partitionsConcurrently,
        fetch: options.fetch,
        ratePerSec: options.ratePerSec,
      });
      const members = [startMember(spec('a'))];
      let killedNode = -1;
      let committedToEnd = false;
      try {
        await waitFor(async () => (await committedTotal(admin, groupId, topic)) >= total * options.joinAtShare, { description: 'the first member to get going', timeoutMs: 120_000, intervalMs: 250 });
        options.log(`${adapter}: a second member joins`);
        members.push(startMember(spec('b')));
        await waitFor(async () => (await committedTotal(admin, groupId, topic)) >= total * options.killAtShare, { description: 'the group to get past the kill point', timeoutMs: 120_000, intervalMs: 250 });
        killedNode = await options.killBroker();
        options.log(`${adapter}: broker ${killedNode} killed`);
        await waitFor(async () => (await committedTotal(admin, groupId, topic).catch(() => 0)) >= total, { description: 'the group to commit every record', timeoutMs: 180_000, intervalMs: 500 });
        committedToEnd = true;
      } catch (error) {
        options.log(`${adapter}: ${error instanceof Error ? error.message : String(error)}`);
      }
      const durationMs = Date.now() - started;
      for (const member of members) member.child.kill('SIGTERM');
      const reports = await Promise.all(members.map((member) => member.report));
      const counted = sum(reports.map((report) => report.processed));
      const missing = missingOffsets([], endOffsets, reports);
      runs.push({
        adapter,
        records: total,
        missing,
        // Every offset counted at least once: the rest of the counts are re-deliveries.
        duplicates: counted - (total - missing),
        crashes: sum(reports.map((report) => report.crashes)),
        committedToEnd,
        durationMs,
        killedNode,
        loadAverage1m: { before, after: loadavg()[0]! },
      });
      options.log(`${adapter} faults: ${missing} missing, ${counted - (total - missing)} counted twice, committed to end: ${committedToEnd}`);
    }
    return runs;
  } finally {
    await admin.deleteTopics({ topics: [topic] }).catch(() => undefined);
    await admin.disconnect();
  }
}
