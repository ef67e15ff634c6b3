/** The human-readable summaries the bench command prints. Pure. */
import type { FleetStats } from './device-fleet.ts';
import type { E2eResult, HostSpeed, RunData, Warmup } from './e2e-bench.ts';
import type { LatencySummary } from './latency-histogram.ts';
import { harnessProcess, orderProcesses } from './process-roles.ts';
import type { RunNames } from './run-names.ts';
import type { TimelinePoint } from './run-timeline.ts';
import { cpuMicrosPerMessageByRole, type Knee, type SweepPoint } from './sweep-analysis.ts';

const n = (value: number | null | undefined): string => (value === null || value === undefined ? 'n/a' : Math.round(value).toLocaleString('en-US'));
const ms = (value: number): string => (value >= 100 ? value.toFixed(0) : value.toFixed(1));

const loopDelay = (delay: { p99: number; max: number } | undefined): string => (delay === undefined ? 'n/a' : `${ms(delay.p99)} ms (max ${ms(delay.max)})`);

export function formatLatency(summary: LatencySummary): string {
  return summary.count === 0 ? 'no samples' : `p50 ${ms(summary.p50Ms)}  p95 ${ms(summary.p95Ms)}  p99 ${ms(summary.p99Ms)}  max ${ms(summary.maxMs)} ms  (${n(summary.count)} samples)`;
}

export function formatFleetReport(stats: FleetStats, latency: LatencySummary, loadSeconds: number, qos: 0 | 1): string {
  return [
    `devices     ${n(stats.connected)} connected of ${n(stats.devices)} in ${n(stats.connectMs)} ms (${n(stats.connectFailures)} failed, ${n(stats.disconnects)} disconnects)`,
    `messages    offered ${n(stats.offered)}  sent ${n(stats.sent)}  acknowledged ${n(stats.acknowledged)}  failed ${n(stats.failed)}  not sent ${n(stats.notSent)}  still in flight ${n(stats.inFlight)}  resent ${n(stats.resent)}`,
    `rate        ${n(stats.sent / loadSeconds)} sent/s  ${n(stats.acknowledged / loadSeconds)} acknowledged/s  (${n(stats.deferred)} sent late; generator tick late by up to ${n(stats.maxTickLateMs)} ms)`,
    `${qos === 1 ? 'publish→PUBACK ' : 'publish→written'} ${formatLatency(latency)}`,
  ].join('\n');
}

export function formatE2eReport(result: E2eResult): string {
  const { counts, lost, duplicates, throughput, latency } = result;
  const stage = (name: string, t: { count: number; perSec: number; steadyPerSec: number; completedAfterMs: number | null } | null): string =>
    t === null ? `  ${name.padEnd(13)} n/a` : `  ${name.padEnd(13)} ${n(t.count).padStart(11)}   ${n(t.perSec).padStart(7)}/s overall  ${n(t.steadyPerSec).padStart(7)}/s steady  done after ${t.completedAfterMs === null ? 'never' : `${(t.completedAfterMs / 1000).toFixed(1)} s`}`;
  const lines = [
    `run ${result.runId}: ${n(result.options.devices)} devices, QoS ${result.options.qos}, ${n(result.options.ratePerSec)} msg/s offered for ${result.options.durationMs / 1000} s, ${result.fleet.readingsPerMessage} readings/msg, v2 ${result.options.v2Percent} %${result.options.partitions === undefined ? '' : `, ${result.options.partitions} partitions`}`,
    ...(result.fault
      ? [
          `fault       ${result.fault.kind}: ${result.fault.description}; in effect ${result.fault.injectedAtMs === null ? 'never' : `${(result.fault.injectedAtMs / 1000).toFixed(1)} s`}–${result.fault.healedAtMs === null ? 'never healed' : `${(result.fault.healedAtMs / 1000).toFixed(1)} s`} into the load${result.fault.samplingErrors > 0 ? `; ${result.fault.samplingErrors} stage samples failed meanwhile` : ''}${result.fault.error ? `; ERROR ${result.fault.error}` : ''}`,
        ]
      : []),
    ...(result.warmup ? [formatWarmup(result.warmup, result.options.ratePerSec)] : []),
    `counts      offered ${n(counts.offered)}  sent ${n(counts.sent)}  acknowledged ${n(counts.acknowledged)}  failed ${n(counts.failed)}  not sent ${n(counts.notSent)}${result.fleet.resent > 0 ? `  resent after reconnect ${n(result.fleet.resent)} (${n(result.fleet.disconnects)} disconnects)` : ''}`,
    `            Kafka records ${n(counts.kafkaRecords)}  QuestDB rows ${n(counts.questdbRows)} (expected ${n(counts.expectedRows)}, distinct ${n(counts.questdbDistinctReadings)})  dead-lettered ${n(counts.deadLettered)}`,
    `lost        Kafka ${n(lost.kafka)}  QuestDB ${n(lost.questdb)}  incomplete messages ${n(lost.questdbIncompleteMessages)}${lost.examples.length > 0 ? `  e.g. ${lost.examples.slice(0, 3).map((e) => `${e.deviceId}#${e.seq}`).join(', ')}` : ''}`,
    `duplicates  Kafka ${n(duplicates.kafkaRecords)}  QuestDB ${n(duplicates.questdbRows)}  (unacknowledged but delivered: Kafka ${n(duplicates.kafkaUnexpected)}, QuestDB ${n(duplicates.questdbUnexpected)})  phantoms (never sent): Kafka ${n(result.phantoms.kafka)}, QuestDB ${n(result.phantoms.questdb)}`,
    'throughput (messages)',
    stage('sent', throughput.sent),
    stage('acknowledged', throughput.acknowledged),
    stage('Kafka', throughput.kafka),
    stage('QuestDB', throughput.questdb),
    `latency     ${result.options.qos === 1 ? 'publish→PUBACK   ' : 'publish→written  '}  ${formatLatency(latency.pubackMs)}`,
    `            publish→queryable  ${latency.queryableMs ? formatLatency(latency.queryableMs) : 'n/a'}${latency.queryableProbe ? ` [${latency.queryableProbe.probeDevices} probe devices, poll ${latency.queryableProbe.pollIntervalMs} ms, ${latency.queryableProbe.notSeen} not seen]` : ''}`,
    ...(result.gateway
      ? [`            in gateway (received→PUBACK, bucket bounds) p50 ≤ ${result.gateway.ackWaitP50BoundMs ?? 'n/a'}  p99 ≤ ${result.gateway.ackWaitP99BoundMs ?? 'n/a'} ms  mean ${result.gateway.ackWaitMeanMs ?? 'n/a'} ms; throttle events ${result.gateway.throttleEvents}`,
          `            event-loop delay p99: gateway ${result.gateway.loopLagP99Ms ?? 'n/a'} ms, harness ${loopDelay(latency.harnessLoopDelayMs)} (the devices' sends and PUBACK reads wait in the harness's loop)`,
          `            gateway → Kafka ${n(result.gateway.kafkaRequests)} produce requests, ${result.gateway.meanRecordsPerRequest ?? 'n/a'} records and ${result.gateway.meanRequestMs ?? 'n/a'} ms each on average (one in flight)`]
      : []),
    ...(result.enricher
      ? [`enricher    ${n(result.enricher.questdbWrites)} QuestDB writes, ${result.enricher.meanRowsPerWrite ?? 'n/a'} rows and ${result.enricher.meanWriteMs ?? 'n/a'} ms each on average; ${result.enricher.meanRecordsPerBatch ?? 'n/a'} records per Kafka batch; ${n(result.enricher.questdbWriteFailures)} failed writes retried, ${n(result.enricher.tableResumes)} suspended-table resumes`]
      : []),
    ...formatProcesses(result),
    ...formatTimeline(result.timeline, result.options.timelineIntervalMs),
    formatHost(result.host),
    `drain       ${result.drain.caughtUp ? 'caught up' : 'DID NOT catch up'} ${(result.drain.afterLoadMs / 1000).toFixed(1)} s after the load ended`,
    formatRunData(result.runData, result.names),
    `verdict     ${result.countsAgree ? 'counts agree: nothing acknowledged was lost, no duplicate rows' : 'COUNTS DISAGREE'}`,
    ...result.problems.map((problem) => `problem     ${problem}`),
  ];
  return lines.join('\n');
}

/**
 * The timeline, a line per interval: each stage's rate, the interval's own p99s, and each
 * process's cores and RSS in the processes' usual order. Empty for a run recorded without one.
 */
export function formatTimeline(points: readonly TimelinePoint[] | undefined, intervalMs: number | undefined): string[] {
  if (!points || points.length === 0) return [];
  const names = orderProcesses(points.flatMap((p) => Object.keys(p.rssMiB)));
  const p99 = (value: number | null): string => (value === null ? 'n/a' : ms(value));
  return [
    `timeline    every ${intervalMs === undefined ? 'n/a' : intervalMs / 1000} s of the load and the drain; p99s of the interval alone; per process cores / RSS MiB`,
    `      seconds    acked/s    Kafka/s   stored/s  PUBACK p99 ms  queryable p99 ms  ${names.join(' | ')}`,
    ...points.map((p) => {
      const usage = names.map((name) => `${p.cores[name] === undefined ? 'n/a' : p.cores[name].toFixed(2)} / ${p.rssMiB[name] ?? 'n/a'}`).join(' | ');
      return `  ${`${Math.round(p.fromS)}–${Math.round(p.toS)}`.padStart(11)}  ${n(p.acknowledgedPerSec).padStart(9)}  ${n(p.kafkaPerSec).padStart(9)}  ${n(p.storedPerSec).padStart(9)}  ${p99(p.pubackP99Ms).padStart(13)}  ${p99(p.queryableP99Ms).padStart(16)}  ${usage}`;
    }),
  ];
}

/** What became of the run's topics and tables. */
export function formatRunData(runData: RunData, names: RunNames): string {
  if (runData.kept) return `run data    kept: topics ${names.topicPrefix}*, tables ${names.tablePrefix}*`;
  return `run data    removed ${runData.removedTopics} topics and ${runData.removedTables} tables (--keep-data keeps them)`;
}

const maxListedProbes = 12;

/** The host's speed around the measured load in one line: the probes and the steal. */
export function formatHost(host: HostSpeed): string {
  const { before, duringLoad, duringLoadMedian, after } = host.speedProbeMs;
  // A long run probes every 4 s: past a dozen probes, their range says what the list would.
  const probes = duringLoad.length <= maxListedProbes ? duringLoad.join(', ') : `${duringLoad.length} probes, ${Math.min(...duringLoad)}–${Math.max(...duringLoad)}`;
  return `host        speed probe (fixed work, ms of CPU; lower is a faster host) ${before} at rest, ${duringLoadMedian ?? 'n/a'} median during the load (${probes}), ${after} after; steal ${host.stealPercent ?? 'n/a'} %: compare CPU per message between runs of like speed`;
}

/** The warm-up in one line: what it offered, when the pipeline caught up, and that the audits include it. */
export function formatWarmup(warmup: Warmup, ratePerSec: number): string {
  const caughtUp = warmup.caughtUpMs === null ? 'DID NOT catch up' : `caught up ${(warmup.caughtUpMs / 1000).toFixed(1)} s after it`;
  return `warm-up     ${warmup.seconds} s at ${n(ratePerSec)} msg/s before the measured load: offered ${n(warmup.offered)}  acknowledged ${n(warmup.acknowledged)}; ${caughtUp}; not in the figures below but audited (Kafka records, QuestDB rows, lost, duplicates cover it)`;
}

/**
 * Per process: cores and µs/msg under load, µs/msg less the harness's queries, and (when measured)
 * % of a core at rest and added by the harness alone; then the pipeline's totals (harness excluded).
 */
export function formatProcesses(result: Pick<E2eResult, 'processes' | 'attribution'>): string[] {
  const { attribution } = result;
  const percent = (cores: number | undefined): string => (cores === undefined ? 'n/a' : (cores * 100).toFixed(1));
  const micros = (value: number | null): string => (value === null ? 'n/a' : String(value));
  const harness = (name: string): boolean => name === harnessProcess;
  const pipeline = result.processes.filter((p) => !harness(p.name));
  const sum = (values: Array<number | null | undefined>): number | null => (values.some((v) => v === null || v === undefined) ? null : values.reduce<number>((a, v) => a + (v ?? 0), 0));
  const restTotal = attribution ? sum(pipeline.map((p) => attribution.atRestCores[p.name])) : null;
  return [
    'processes   name                     CPU (cores)  CPU µs/msg  less harness  at rest %  harness %  peak RSS MiB',
    ...result.processes.map(
      (p) =>
        `            ${(harness(p.name) ? `${p.name} (harness)` : p.name).padEnd(24)} ${p.cpuCores.toFixed(2).padStart(11)}  ${micros(p.cpuMicrosPerMessage).padStart(10)}  ${micros(harness(p.name) ? null : p.pipelineCpuMicrosPerMessage).padStart(12)}  ${percent(attribution?.atRestCores[p.name]).padStart(9)}  ${percent(attribution?.harnessCores[p.name]).padStart(9)}  ${p.peakRssMiB.toFixed(0).padStart(12)}`,
    ),
    `            pipeline (all but the harness): ${micros(sum(pipeline.map((p) => p.cpuMicrosPerMessage)))} µs/msg under load${attribution ? `, ${micros(sum(pipeline.map((p) => p.pipelineCpuMicrosPerMessage)))} less the harness's queries` : ''}${restTotal === null ? '' : `; ${(restTotal * 100).toFixed(1)} % of a core at rest (from ${((attribution?.settledMs ?? 0) / 1000).toFixed(1)} s after the devices connected)`}`,
    // What the harness's queries cost at rest overstates their cost under load, when the servers' threads are awake anyway.
    ...(attribution ? ["            ('less harness' subtracts what the harness's queries cost each server at rest: a lower bound of the pipeline's own CPU)"] : []),
  ];
}

export function formatSweepReport(points: readonly SweepPoint[], knee: Knee): string {
  const header = '  offered/s   achieved/s   acked/s   lost   p99 PUBACK ms   p99 queryable ms   host probe ms';
  const rows = [...points]
    .sort((a, b) => a.offeredPerSec - b.offeredPerSec)
    .map((p) => `  ${n(p.offeredPerSec).padStart(9)}   ${n(p.achievedPerSec).padStart(10)}   ${n(p.ackedPerSec).padStart(7)}   ${n(p.lost).padStart(4)}   ${ms(p.p99PubackMs).padStart(13)}   ${p.p99QueryableMs === null ? 'n/a'.padStart(16) : ms(p.p99QueryableMs).padStart(16)}   ${(p.hostProbeMs === null ? 'n/a' : p.hostProbeMs.toFixed(1)).padStart(13)}`);
  return [header, ...rows, `knee: sustained ${n(knee.sustainedPerSec)} msg/s; ${knee.reason}`, ...formatSweepCpu(points)].join('\n');
}

/** Per offered rate, each process's CPU µs per message, the pipeline's total and the harness (its own CPU and its queries'). */
function formatSweepCpu(points: readonly SweepPoint[]): string[] {
  const sorted = [...points].sort((a, b) => a.offeredPerSec - b.offeredPerSec);
  const roles = orderProcesses(sorted.flatMap((p) => Object.keys(p.cpuMicrosPerMessage)));
  if (roles.length === 0) return [];
  const pipelineRoles = roles.filter((role) => role !== harnessProcess);
  const columns = [...pipelineRoles, 'pipeline', ...(roles.includes(harnessProcess) ? ['harness'] : [])];
  const cell = (column: string, value: number | undefined): string => (value === undefined ? 'n/a' : n(value)).padStart(Math.max(column.length, 6));
  const rows = sorted.map((p) => {
    const pipeline = pipelineRoles.reduce((sum, role) => sum + (p.cpuMicrosPerMessage[role] ?? 0), 0);
    const value = (column: string): number | undefined => (column === 'pipeline' ? pipeline : p.cpuMicrosPerMessage[column === 'harness' ? harnessProcess : column]);
    return `  ${n(p.offeredPerSec).padStart(9)}   ${columns.map((column) => cell(column, value(column))).join('   ')}`;
  });
  return [
    `CPU µs per message, less what the harness's queries cost each process; harness: the ${harnessProcess} and those queries`,
    `  offered/s   ${columns.map((column) => column.padStart(6)).join('   ')}`,
    ...rows,
  ];
}

/** One sweep point from an e2e result: end to end is the QuestDB stage, or Kafka without the enricher. */
export function sweepPointOf(result: E2eResult): SweepPoint {
  const endToEnd = result.throughput.questdb ?? result.throughput.kafka;
  return {
    offeredPerSec: result.options.ratePerSec,
    // Steady rates (load window from 20 % on): independent of how long the run was, unlike `overall`.
    achievedPerSec: endToEnd.steadyPerSec,
    ackedPerSec: result.throughput.acknowledged.steadyPerSec,
    lost: (result.lost.questdb ?? 0) + (result.lost.kafka ?? 0),
    p99PubackMs: result.latency.pubackMs.p99Ms,
    p99QueryableMs: result.latency.queryableMs?.p99Ms ?? null,
    hostProbeMs: result.host.speedProbeMs.duringLoadMedian,
    cpuMicrosPerMessage: cpuMicrosPerMessageByRole(result.processes),
  };
}
