/**
 * The end-to-end benchmark: simulated devices → gateway (child process) → Kafka → enricher (child
 * process) → QuestDB, at a fixed offered rate, with every message counted at every stage.
 *
 * One run uses its own topics, devices, consumer group and table prefix, so runs (and a test run
 * next to a benchmark) never see each other's data. Sequence: create the devices topic and register
 * the devices → start the gateway, then the enricher → connect the fleet → optionally warm up (the
 * same load, unmeasured, until the pipeline caught up) → offer load for the duration → wait for outstanding PUBACKs → wait until Kafka and QuestDB hold everything that was
 * acknowledged (or a drain timeout) → audit: read the telemetry topic back and list QuestDB's stored
 * messages, both as (device, seq) ledgers compared with the acknowledged one → stop everything.
 */
import { monitorEventLoopDelay } from 'node:perf_hooks';
import { mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import { randomBytes } from 'node:crypto';
import { cpus, totalmem } from 'node:os';
import { eventLoopLatenessMs } from '../core/process-metrics.ts';
import { falseOnTimeout, waitFor } from '../core/wait-for.ts';
import { createBenchCredentials, registerBenchDevices } from './bench-devices.ts';
import { createDeviceFleet, defaultTickMs, type DeviceCredential, type FleetClient, type FleetStats } from './device-fleet.ts';
import type { FaultNetwork } from '../infra/fault-network.ts';
import { createDelayRelay, type DelayRelay } from './faults/delay-relay.ts';
import type { FaultEnvironment, FaultTimeline, ScheduledFault } from './faults/fault.ts';
import { createKafkaAuditor } from './kafka-audit.ts';
import type { LatencySummary } from './latency-histogram.ts';
import { compareLedgers, type LedgerComparison } from './message-ledger.ts';
import { freePort, startPipelineProcess, type PipelineProcess } from './pipeline-process.ts';
import { harnessProcess, restartedName } from './process-roles.ts';
import { createProcessSampler, measureCores, waitUntilQuiet, type ProcessUsageReport } from './process-usage.ts';
import { auditQuestdb, dropQuestdbTables, questdbRowCount, questdbWalApplied } from './questdb-audit.ts';
import { createQueryableProbe, type QueryableProbeStats } from './queryable-probe.ts';
import { readEnricherView, readGatewayView, readMetricsText, type EnricherView, type GatewayView } from './service-views.ts';
import { chooseProbeDevices } from './rate-schedule.ts';
import { benchPartitions, pipelineEnv, runNames, type RunNames } from './run-names.ts';
import { createRunTimeline, defaultTimelineIntervalMs, type TimelinePoint, type TimelineReading } from './run-timeline.ts';
import { createStageSampler, type StageSample } from './stage-sampler.ts';
import { medianProbeMs, probeHostSpeed, readCpuTimes, sampleHostSpeed, stealShare } from './host-speed.ts';
import { stageThroughput, type CountSample, type StageThroughput } from './stage-throughput.ts';
import { probeMetric } from './telemetry-generator.ts';

export interface E2eOptions {
  kafkaBrokers: readonly string[];
  /** QuestDB HTTP URL; needed when `enrich` is on. */
  questdbHttpUrl: string;
  devices: number;
  ratePerSec: number;
  durationMs: number;
  qos: 0 | 1;
  v2Percent: number;
  readings: number;
  maxInflightPerDevice: number;
  connectConcurrency: number;
  /** The fleet's schedule tick, ms (device-fleet.ts; default {@link defaultTickMs}). */
  tickMs?: number;
  /** The load generator's MQTT client (device-fleet.ts; default raw). */
  client?: FleetClient;
  /** Run the enricher and audit QuestDB; off measures gateway + Kafka only. */
  enrich: boolean;
  /** Read the whole telemetry topic back to count duplicates (costly at millions of records). */
  auditKafka: boolean;
  /** How long to wait after the load for acks, Kafka and QuestDB to catch up. */
  drainTimeoutMs: number;
  /** Partitions of the run's data topics (telemetry, dead letters, events, alerts); default {@link benchPartitions}. */
  partitions?: number;
  /** Keep the run's topics and tables after it; by default they are removed once audited. */
  keepData?: boolean;
  /** Queryable-latency probe: poll interval and the most probe messages per second. */
  probePollMs: number;
  maxProbeRatePerSec: number;
  /** Where the child processes' logs go, in a folder per run. */
  logDir: string;
  /** Extra environment for the gateway and enricher children. */
  gatewayEnv?: Record<string, string>;
  enrichEnv?: Record<string, string>;
  /**
   * Fault: stop the gateway this long after the load started and start a new one on the same ports
   * (SIGKILL = crash, SIGTERM = graceful). Devices reconnect and resend what was not acknowledged.
   */
  restartGateway?: ProcessRestart;
  /**
   * Fault: stop the enricher this long after the load started and start a new one in the same
   * group. Its uncommitted batches are read again by the new one; DEDUP keeps the rows single.
   */
  restartEnricher?: ProcessRestart;
  /** Fault: injected `atMs` into the load, healed `forMs` later (loadtest/faults/). */
  fault?: ScheduledFault;
  /** The local stack's directory, for faults that restart its servers. */
  stackDir?: string;
  /** Run the gateway or the enricher in the fault network's namespace (the stack listens on its root side). */
  isolated?: {
    process: 'gateway' | 'enricher';
    network: FaultNetwork;
    /** Kafka or QuestDB through a delay relay listening at `listen` (port 0: any), forwarding to `target`. */
    relay?: { server: 'kafka' | 'questdb'; listen: { host: string; port: number }; target: { host: string; port: number } };
  };
  /** Pids of the servers to measure too, e.g. { kafka: 123, questdb: 456 }. */
  serverPids?: Record<string, number>;
  /**
   * Before the load, with the devices connected: measure each process's CPU for this long at rest,
   * then as long again while only the harness queries (the queryable probe and stage sampler). 0 skips it.
   */
  restWindowMs?: number;
  /**
   * After the rest window: offer the run's rate for this long, wait until the pipeline caught up,
   * then measure from zero, so the JVMs and V8 have compiled their hot paths. The warm-up's
   * messages are audited with the measured ones. 0 skips it.
   */
  warmupMs?: number;
  /** The timeline's interval (E2eResult.timeline); default {@link defaultTimelineIntervalMs}. */
  timelineIntervalMs?: number;
  /** Reuse credentials (a sweep registers them in each run's own topic). */
  credentials?: readonly DeviceCredential[];
  /** Work another benchmark runs beside the pipeline (the API bench's dashboard clients and replays). */
  companion?: E2eCompanion;
  /** Called about once a second with a one-line status. */
  onProgress?: (line: string) => void;
  signal?: AbortSignal;
}

/**
 * Work run beside the pipeline by another benchmark: `start` once the devices are connected (with
 * the run's names and its children's environment), `duringLoad` from the load's first moment
 * (awaited after the load), `afterDrain` once the pipeline caught up and was measured, so it runs
 * on an idle pipeline before the audits; `stop` before the enricher and the gateway stop.
 */
export interface E2eCompanion {
  start(run: { names: RunNames; env: { gateway: Record<string, string>; enrich: Record<string, string> }; logDir: string; replicationFactor: number }): Promise<void>;
  duringLoad(signal?: AbortSignal): Promise<void>;
  afterDrain(signal?: AbortSignal): Promise<void>;
  stop(): Promise<void>;
}

export interface E2eResult {
  runId: string;
  startedAt: string;
  options: Omit<E2eOptions, 'onProgress' | 'signal' | 'credentials' | 'gatewayEnv' | 'enrichEnv' | 'fault' | 'isolated' | 'companion'> & {
    gatewayEnv: Record<string, string>;
    enrichEnv: Record<string, string>;
    fault?: { kind: string; atMs: number; forMs: number };
    isolated?: { process: 'gateway' | 'enricher'; namespace: string };
  };
  machine: { cpus: number; cpuModel: string; memoryGiB: number; node: string; platform: string };
  names: RunNames;
  /** The measured load's (a warm-up's messages are in `warmup`). */
  fleet: FleetStats;
  /**
   * offered … notSent: the measured load's. kafkaRecords … expectedRows: everything stored, the
   * warm-up's messages included, since the audits compare them with ledgers that hold both.
   */
  counts: {
    offered: number;
    sent: number;
    acknowledged: number;
    failed: number;
    notSent: number;
    kafkaRecords: number;
    deadLettered: number;
    questdbRows: number | null;
    questdbDistinctReadings: number | null;
    /** acknowledged messages (sent, for QoS 0) of the warm-up and the measured load × readings per message. */
    expectedRows: number;
  };
  /** The unmeasured load before the measured one, or null without a warm-up. */
  warmup: Warmup | null;
  /** Acknowledged (QoS 1) or sent (QoS 0) messages absent from the stage. */
  lost: { kafka: number | null; questdb: number | null; questdbIncompleteMessages: number | null; examples: Array<{ deviceId: string; seq: number }> };
  duplicates: { kafkaRecords: number | null; questdbRows: number | null; kafkaUnexpected: number | null; questdbUnexpected: number | null };
  /** Messages (device, seq) in the stage that no device ever sent: must be 0. */
  phantoms: { kafka: number | null; questdb: number | null };
  /** Messages per second at each stage (QuestDB: rows / readings per message), of the measured load only. */
  throughput: { offeredPerSec: number; sent: StageThroughput; acknowledged: StageThroughput; kafka: StageThroughput; questdb: StageThroughput | null };
  latency: {
    pubackMs: LatencySummary;
    queryableMs: LatencySummary | null;
    queryableProbe: QueryableProbeStats | null;
    queryableMethod: string;
    /**
     * How late the harness's own event loop ran its timers during the measured load (ms): the devices
     * and their PUBACKs share that one loop, so its delays are inside the PUBACK figures.
     */
    harnessLoopDelayMs: { p50: number; p99: number; max: number };
  };
  /** The gateway's own view from its /metrics: PUBLISH received → PUBACK released (bucket bounds); after a warm-up, since its end. */
  gateway: GatewayView | null;
  /** The enricher's own view from its /metrics: how it batched its QuestDB writes; after a warm-up, since its end. */
  enricher: EnricherView | null;
  /**
   * Per process; `cpuMicrosPerMessage` = its CPU time ÷ messages acknowledged (sent for QoS 0);
   * `pipelineCpuMicrosPerMessage` the same less what the harness's queries cost it (attribution).
   */
  processes: Array<ProcessUsageReport & { cpuMicrosPerMessage: number | null; pipelineCpuMicrosPerMessage: number | null }>;
  /** Cores per process with no traffic, and what the harness's own queries added to that; null when not measured. */
  attribution: Attribution | null;
  /** How fast the machine ran around the measured load: compare per-message CPU only between runs of like speed. */
  host: HostSpeed;
  drain: { caughtUp: boolean; afterLoadMs: number };
  /** The run interval by interval, from the load's start through the drain (loadtest/run-timeline.ts). */
  timeline: TimelinePoint[];
  /** The injected fault as it happened, or null without one. */
  fault: FaultTimeline | null;
  /** True when nothing acknowledged was lost and every count agrees. */
  countsAgree: boolean;
  problems: string[];
  /** What became of the run's topics and tables once it was audited (filled in as the run stops). */
  runData: RunData;
}

export interface RunData {
  /** Left on the stack (`keepData`); otherwise removed, the counts say how many. */
  kept: boolean;
  removedTopics: number;
  removedTables: number;
}

export interface Warmup {
  seconds: number;
  offered: number;
  sent: number;
  acknowledged: number;
  failed: number;
  notSent: number;
  /** From the warm-up load's end until the pipeline caught up; null: not within the drain timeout. */
  caughtUpMs: number | null;
  /** What Kafka and QuestDB held then: the measured stages count from there. */
  kafkaRecords: number;
  questdbRows: number | null;
}

export interface HostSpeed {
  /**
   * CPU ms of a fixed piece of work (loadtest/host-speed.ts) in the harness: at rest just before the
   * measured load and after its drain, and every few seconds during the load and drain in a worker thread
   * (its CPU, ~0.5 % of a core, counts in the load generator's); lower is faster.
   */
  speedProbeMs: { before: number; duringLoad: number[]; duringLoadMedian: number | null; after: number };
  /** Share of the machine's CPU time stolen by the hypervisor during the measured load and drain, %; null where /proc/stat is unreadable. */
  stealPercent: number | null;
}

export interface Attribution {
  windowMs: number;
  /** How long after the devices connected the gateway and enricher went quiet and the at-rest window began. */
  settledMs: number;
  /** Devices connected and idle, nothing querying. */
  atRestCores: Record<string, number>;
  /** Extra cores while only the harness ran (probe queries, stage sampling), over at rest; ≥ 0. */
  harnessCores: Record<string, number>;
}

const queryableMethod =
  'sampled: every message of the probe devices is tracked; a poller queries QuestDB every probePollMs for their rows ' +
  '(ts >= oldest outstanding send time) and records answer-arrival time minus send time (upper bound, + <= one poll interval + query time)';

function describeFleet(stats: FleetStats): string {
  return `sent ${stats.sent} acked ${stats.acknowledged}${stats.failed ? ` failed ${stats.failed}` : ''}${stats.backlog ? ` backlog ${stats.backlog}` : ''}`;
}

export interface ProcessRestart {
  afterMs: number;
  /** SIGKILL = a crash, SIGTERM = a graceful stop. */
  signal: 'SIGKILL' | 'SIGTERM';
}

/**
 * Before the at-rest window: wait until the gateway and enricher together spend under 3 % of a core
 * for a second (idle they spend ~1 %), at most 10 s. For a second or two after the last CONNACK the
 * gateway still spent up to ~100 ms a second on the connect storm's tail (docs/benchmarks/idle.md).
 */
const restSettling = { quietCores: 0.03, stepMs: 1000, maxMs: 10_000 };
/** How often the host's speed is probed during the load: ~25 ms of CPU every 4 s, in the load generator's figure. */
const hostSpeedIntervalMs = 4000;

/** How long a gateway or enricher child may take to be ready: minutes on a machine shared by several stacks (load average 40–60 seen). */
const pipelineReadyTimeoutMs = 180_000;

/** Runs one end-to-end benchmark; throws only on set-up failures (counting problems are in the result). */
export async function runE2eBench(options: E2eOptions): Promise<E2eResult> {
  const names = runNames(`${Date.now().toString(36)}${randomBytes(2).toString('hex')}`);
  const runId = names.runId;
  const startedAt = new Date().toISOString();
  const progress = options.onProgress ?? (() => undefined);
  // The fleet's defaults, resolved once: the fleet runs with them and the result records them.
  const { client = 'raw', tickMs = defaultTickMs } = options;
  const problems: string[] = [];
  const stops: Array<() => Promise<unknown>> = [];
  const kafka = createKafkaAuditor(options.kafkaBrokers);
  const runData: RunData = { kept: options.keepData ?? false, removedTopics: 0, removedTables: 0 };
  const sampler = createProcessSampler(1000);
  stops.push(() => Promise.resolve(sampler.stop()));
  // One folder per run: a sweep's gateway and enricher logs stay apart.
  const logDir = join(options.logDir, runId);
  await mkdir(logDir, { recursive: true });

  try {
    // 1. devices, in this run's own registry topic
    const credentials = options.credentials?.slice(0, options.devices) ?? createBenchCredentials(`bench-${runId}`, options.devices);
    if (credentials.length < options.devices) throw new Error(`only ${credentials.length} credentials for ${options.devices} devices`);
    // On a cluster every topic of the run has 3 replicas (min.insync.replicas 2 is the stack's broker default), so a broker fault keeps the data.
    const replicationFactor = Math.min(3, options.kafkaBrokers.length);
    await kafka.ensureTopic(names.devicesTopic, 1, { 'cleanup.policy': 'compact' }, replicationFactor);
    await registerBenchDevices({ brokers: options.kafkaBrokers, devicesTopic: names.devicesTopic, credentials });

    // 2. pipeline processes
    const [mqttPort, gatewayHttpPort, enrichHttpPort] = await Promise.all([freePort(), freePort(), freePort()]);
    // An isolated process listens on its namespace's address, where the load generator reaches it.
    const { isolated } = options;
    const hostOf = (role: 'gateway' | 'enricher'): string => (isolated?.process === role ? isolated.network.namespaceAddress : '127.0.0.1');
    const namespaceOf = (role: 'gateway' | 'enricher'): { namespace?: string } => (isolated?.process === role ? { namespace: isolated.network.namespace } : {});
    let relay: DelayRelay | null = null;
    const relayed: { gateway?: Record<string, string>; enrich?: Record<string, string> } = {};
    if (isolated?.relay) {
      const { server, listen, target } = isolated.relay;
      const started = createDelayRelay({ listen, target });
      stops.push(() => started.stop());
      const address = `${listen.host}:${await started.start()}`;
      relay = started;
      if (server === 'kafka') relayed.gateway = { TRIBUTARY_KAFKA_BROKERS: address };
      else relayed.enrich = { TRIBUTARY_QUESTDB_URL: `http://${address}` };
    }
    const env = pipelineEnv(
      names,
      { kafkaBrokers: options.kafkaBrokers, replicationFactor, partitions: options.partitions ?? benchPartitions, questdbHttpUrl: options.questdbHttpUrl, mqttPort, gatewayHttpPort, enrichHttpPort },
      {
        gateway: { TRIBUTARY_MQTT_HOST: hostOf('gateway'), TRIBUTARY_HTTP_HOST: hostOf('gateway'), ...relayed.gateway, ...options.gatewayEnv },
        enrich: { TRIBUTARY_HTTP_HOST: hostOf('enricher'), ...relayed.enrich, ...options.enrichEnv },
      },
    );
    const gatewayEnv = env.gateway;
    const enrichEnv = env.enrich;
    const startGateway = (name: string): Promise<PipelineProcess> =>
      startPipelineProcess({ name, command: 'gateway', env: gatewayEnv, readyUrl: `http://${hostOf('gateway')}:${gatewayHttpPort}/readyz`, logDir, readyTimeoutMs: pipelineReadyTimeoutMs, ...namespaceOf('gateway') });
    let gateway = await startGateway('gateway');
    stops.push(() => gateway.stop());
    const startEnricher = (name: string): Promise<PipelineProcess> =>
      startPipelineProcess({ name, command: 'enrich', env: enrichEnv, readyUrl: `http://${hostOf('enricher')}:${enrichHttpPort}/readyz`, logDir, readyTimeoutMs: pipelineReadyTimeoutMs, ...namespaceOf('enricher') });
    let enricher: PipelineProcess | null = null;
    if (options.enrich) {
      enricher = await startEnricher('enricher');
      stops.push(() => enricher!.stop());
    }

    // 3. devices connect
    const probeIndexes = options.enrich ? chooseProbeDevices(options.devices, options.ratePerSec, options.maxProbeRatePerSec).slice(0, 200) : [];
    const probe = options.enrich
      ? createQueryableProbe({ httpUrl: options.questdbHttpUrl, table: names.table, probeMetric, probeIndexes, deviceIdOf: (i) => credentials[i]!.deviceId, pollIntervalMs: options.probePollMs })
      : null;
    if (probe) stops.push(() => probe.stop());
    const fleet = createDeviceFleet({
      url: `mqtt://${hostOf('gateway')}:${mqttPort}`,
      devices: credentials,
      topicPrefix: 'devices',
      qos: options.qos,
      v2Percent: options.v2Percent,
      readings: options.readings,
      maxInflightPerDevice: options.maxInflightPerDevice,
      connectConcurrency: options.connectConcurrency,
      tickMs,
      client,
      keepaliveS: 120,
      reconnect: true,
      ...(probe && { observer: probe.observer }),
    });
    stops.push(() => fleet.close());
    progress(`run ${runId}: connecting ${options.devices} devices`);
    await fleet.connect(options.signal);
    const connected = fleet.stats();
    if (connected.connected < options.devices) problems.push(`${options.devices - connected.connected} of ${options.devices} devices could not connect`);
    progress(`run ${runId}: ${connected.connected} connected in ${connected.connectMs} ms; offering ${options.ratePerSec} msg/s for ${options.durationMs / 1000} s`);

    const { companion } = options;
    if (companion) {
      stops.push(() => companion.stop());
      await companion.start({ names, env, logDir, replicationFactor });
    }

    const measured: Record<string, number> = { gateway: gateway.pid, ...(enricher && { enricher: enricher.pid }), [harnessProcess]: process.pid, ...options.serverPids };
    let attribution: Attribution | null = null;
    if ((options.restWindowMs ?? 0) > 0) {
      const windowMs = options.restWindowMs ?? 0;
      const ours = { gateway: gateway.pid, ...(enricher && { enricher: enricher.pid }) };
      const settledMs = await waitUntilQuiet(async (stepMs) => Object.values(await measureCores(ours, stepMs)).reduce((total, cores) => total + cores, 0), restSettling);
      const settled = settledMs < restSettling.maxMs ? `settled ${(settledMs / 1000).toFixed(1)} s after connecting` : `gateway and enricher still busy ${(settledMs / 1000).toFixed(1)} s after connecting`;
      progress(`run ${runId}: ${settled}; measuring CPU at rest, then with the harness querying (${windowMs / 1000} s each)`);
      const atRestCores = await measureCores(measured, windowMs);
      const rehearsal = createStageSampler({ startedAt: performance.now(), fleetCounts: () => fleet.stats(), kafkaRecords: () => kafka.recordCount(names.telemetryTopic), questdbRows: options.enrich ? () => questdbRowCount(options.questdbHttpUrl, names.table) : null, onError: () => undefined });
      const withHarness = await measureCores(measured, windowMs, async () => {
        rehearsal.start();
        await probe?.rehearse(windowMs);
      });
      await rehearsal.stop();
      const harnessCores = Object.fromEntries(Object.entries(withHarness).map(([name, cores]) => [name, Math.max(0, Math.round((cores - (atRestCores[name] ?? 0)) * 1000) / 1000)]));
      attribution = { windowMs, settledMs, atRestCores, harnessCores };
    }

    const samplingErrors = new Map<string, number>();
    const countSamplingError = (error: unknown): void => void samplingErrors.set(String(error), (samplingErrors.get(String(error)) ?? 0) + 1);
    const { readingsPerMessage } = fleet.stats();
    // Counts alone are not enough: rows of unacknowledged messages that were delivered anyway can
    // reach the expected count while acknowledged ones are still on their way. Caught up means
    // the enricher committed everything in Kafka and QuestDB applied everything it was sent.
    const waitUntilCaughtUp = (expectedMessages: number, latest: () => StageSample | null): Promise<boolean> => {
      const caughtUp = async (): Promise<boolean> => {
        const sample = latest();
        if (sample === null || sample.kafka < expectedMessages) return false;
        if (!options.enrich) return true;
        if (sample.rows < expectedMessages * readingsPerMessage) return false;
        return (await kafka.groupLag(names.consumerGroup, names.telemetryTopic)) === 0 && (await questdbWalApplied(options.questdbHttpUrl, names.table));
      };
      return waitFor(caughtUp, { description: 'the pipeline to catch up', timeoutMs: options.drainTimeoutMs, intervalMs: 250, signal: options.signal }).then(
        () => true,
        (error: unknown) => (options.signal?.aborted === true ? false : falseOnTimeout(error)),
      );
    };

    // 3b. warm-up: Kafka's and QuestDB's JVMs and our V8s compile their hot paths under this run's
    // own load, unmeasured; the measured stages then count from what the stores held.
    const baseline = { kafka: 0, rows: 0 };
    const metricsUrl = { gateway: `http://${hostOf('gateway')}:${gatewayHttpPort}/metrics`, enricher: `http://${hostOf('enricher')}:${enrichHttpPort}/metrics` };
    // The gateway's and enricher's own views count from the warm-up's end too, unless the process was replaced since.
    let warmedMetrics: { gateway: PipelineProcess; gatewayText: string | null; enricher: PipelineProcess | null; enricherText: string | null } | null = null;
    let warmup: Warmup | null = null;
    const warmupMs = options.warmupMs ?? 0;
    if (warmupMs > 0) {
      progress(`run ${runId}: warming up at ${options.ratePerSec} msg/s for ${warmupMs / 1000} s`);
      probe?.start();
      const warmupStarted = performance.now();
      const warmupStages = createStageSampler({
        startedAt: warmupStarted,
        fleetCounts: () => fleet.stats(),
        kafkaRecords: () => kafka.recordCount(names.telemetryTopic),
        questdbRows: options.enrich ? () => questdbRowCount(options.questdbHttpUrl, names.table) : null,
        onError: countSamplingError,
        onSample: (sample) => progress(`[warm-up ${(sample.atMs / 1000).toFixed(0).padStart(3)}s] ${describeFleet(fleet.stats())} kafka ${sample.kafka}`),
      });
      warmupStages.start();
      await fleet.run({ ratePerSec: options.ratePerSec, durationMs: warmupMs, drainTimeoutMs: options.drainTimeoutMs, signal: options.signal });
      warmupStages.fast();
      const settled = fleet.stats();
      const caughtUp = await waitUntilCaughtUp(options.qos === 1 ? settled.acknowledged : settled.sent, () => warmupStages.latest());
      const caughtUpMs = Math.round(performance.now() - warmupStarted - warmupMs);
      await warmupStages.stop();
      await probe?.settle(caughtUp ? 5000 : 0);
      baseline.kafka = warmupStages.latest()?.kafka ?? 0;
      baseline.rows = warmupStages.latest()?.rows ?? 0;
      const warmed = fleet.stats();
      if (!caughtUp) problems.push(`the warm-up did not catch up within the drain timeout (${options.drainTimeoutMs} ms): the measured stages include some of it`);
      if (warmed.inFlight > 0) problems.push(`${warmed.inFlight} warm-up messages were still unacknowledged when the measured load began`);
      warmup = { seconds: warmupMs / 1000, offered: warmed.offered, sent: warmed.sent, acknowledged: warmed.acknowledged, failed: warmed.failed, notSent: warmed.notSent, caughtUpMs: caughtUp ? caughtUpMs : null, kafkaRecords: baseline.kafka, questdbRows: options.enrich ? baseline.rows : null };
      warmedMetrics = { gateway, gatewayText: await readMetricsText(metricsUrl.gateway), enricher, enricherText: enricher ? await readMetricsText(metricsUrl.enricher) : null };
      fleet.resetCounters();
      probe?.reset();
    }

    // 4. load, with the stages sampled once a second
    const speedProbeBeforeMs = probeHostSpeed();
    for (const [name, pid] of Object.entries(measured)) sampler.watch(name, pid);
    const cpuTimesAtStart = await readCpuTimes();
    await sampler.markStart();
    const speedDuringLoad = sampleHostSpeed(hostSpeedIntervalMs);
    // Also when the run fails before its end: the probe's worker and timer must not outlive it.
    stops.push(async () => void (await speedDuringLoad.stop()));
    probe?.start();
    const loadStarted = performance.now();
    let lastProgress: StageSample | null = null;
    const fault = options.fault ? scheduleFault(options.fault, loadStarted, {
      kafkaBrokers: options.kafkaBrokers,
      telemetryTopic: names.telemetryTopic,
      questdbHttpUrl: options.questdbHttpUrl,
      serverPids: options.serverPids ?? {},
      stackDir: options.stackDir ?? null,
      network: isolated?.network ?? null,
      relay,
      gateway: () => gateway,
      enricher: () => enricher,
      progress: (line) => progress(`run ${runId}: ${line}`),
    }) : null;
    if (fault) stops.push(() => fault.healNow());
    const timeline = createRunTimeline({ intervalMs: options.timelineIntervalMs ?? defaultTimelineIntervalMs, readingsPerMessage });
    // Read when a sample is delivered, which is when its Kafka and QuestDB counts were answered: a
    // paused broker delays that answer, and the fleet's counts, histograms and CPU must be of the same moment.
    const sinceLoadStartMs = (): number => performance.now() - loadStarted;
    const readTimeline = (sample: StageSample): TimelineReading => {
      const now = fleet.stats();
      return {
        acknowledged: options.qos === 1 ? now.acknowledged : now.sent,
        kafkaRecords: sample.kafka,
        rows: options.enrich ? sample.rows : null,
        pubackBuckets: fleet.pubackLatency.buckets(),
        queryableBuckets: probe ? probe.latency.buckets() : null,
        usage: sampler.latest(),
      };
    };
    const stages = createStageSampler({
      startedAt: loadStarted,
      fleetCounts: () => fleet.stats(),
      kafkaRecords: async () => (await kafka.recordCount(names.telemetryTopic)) - baseline.kafka,
      questdbRows: options.enrich ? async () => (await questdbRowCount(options.questdbHttpUrl, names.table)) - baseline.rows : null,
      // A broker fault fails many samples alike: each distinct error is reported once, with a count.
      // Sampling a server the fault has taken away fails by design: counted with the fault, not a problem.
      onError: (error) => {
        if (fault?.inEffect() === true) fault.timeline.samplingErrors += 1;
        else countSamplingError(error);
      },
      onSample: (sample) => {
        timeline.observe(sinceLoadStartMs(), () => readTimeline(sample));
        if (lastProgress && sample.atMs - lastProgress.atMs < 1000) return;
        const kafkaRate = lastProgress ? Math.round(((sample.kafka - lastProgress.kafka) * 1000) / Math.max(1, sample.atMs - lastProgress.atMs)) : 0;
        lastProgress = sample;
        const stats = fleet.stats();
        progress(
          `[${(sample.atMs / 1000).toFixed(0).padStart(3)}s] offered ${stats.offered} ${describeFleet(stats)} kafka ${sample.kafka} (${kafkaRate}/s)` +
            `${options.enrich ? ` rows ${sample.rows}` : ''} p99 puback ${fleet.pubackLatency.percentileMs(0.99).toFixed(1)} ms gw ${sampler.latest().gateway?.rssMiB ?? 0} MiB`,
        );
      },
    });
    stages.start();
    const drainSampling = setTimeout(() => stages.fast(), options.durationMs);
    /** Stops a pipeline process `afterMs` into the load and starts its replacement. */
    const restarts: Array<{ timer: NodeJS.Timeout; done: () => Promise<void> }> = [];
    const scheduleRestart = (role: 'gateway' | 'enricher', plan: ProcessRestart, current: () => PipelineProcess, start: (name: string) => Promise<PipelineProcess>, replace: (next: PipelineProcess) => void): void => {
      let done: Promise<void> = Promise.resolve();
      const timer = setTimeout(() => {
        done = (async () => {
          progress(`run ${runId}: ${plan.signal === 'SIGKILL' ? 'killing' : 'stopping'} the ${role}`);
          await (plan.signal === 'SIGKILL' ? current().kill() : current().stop());
          const next = await start(`${role}-restarted`);
          replace(next);
          sampler.watch(restartedName(role), next.pid, { sinceStart: true });
          progress(`run ${runId}: ${role} restarted`);
        })().catch((error: unknown) => void problems.push(`${role} restart failed: ${String(error)}`));
      }, plan.afterMs);
      restarts.push({ timer, done: () => done });
    };
    if (options.restartGateway) scheduleRestart('gateway', options.restartGateway, () => gateway, startGateway, (next) => (gateway = next));
    if (options.restartEnricher && enricher) scheduleRestart('enricher', options.restartEnricher, () => enricher!, startEnricher, (next) => (enricher = next));
    const companionLoad = companion?.duringLoad(options.signal).catch((error: unknown) => void problems.push(`beside the load: ${String(error)}`));
    const loopResolutionMs = 5;
    const loopDelay = monitorEventLoopDelay({ resolution: loopResolutionMs });
    loopDelay.enable();
    await fleet.run({ ratePerSec: options.ratePerSec, durationMs: options.durationMs, drainTimeoutMs: options.drainTimeoutMs, signal: options.signal });
    loopDelay.disable();
    const lateMs = (intervalNs: number): number => eventLoopLatenessMs(intervalNs, loopResolutionMs);
    const harnessLoopDelayMs = { p50: lateMs(loopDelay.percentile(50)), p99: lateMs(loopDelay.percentile(99)), max: lateMs(loopDelay.max) };
    clearTimeout(drainSampling);
    await companionLoad;
    for (const { timer } of restarts) clearTimeout(timer);
    for (const { done } of restarts) await done();
    // A fault still in effect when the load ends is healed now: the drain measures recovery.
    await fault?.healNow();
    if (fault?.timeline.error) problems.push(`fault ${fault.timeline.kind}: ${fault.timeline.error}`);
    else if (fault && fault.timeline.injectedAtMs === null) problems.push(`fault ${fault.timeline.kind} was never injected: the load ended first`);
    stages.fast();
    const loadMs = options.durationMs;

    // 5. drain: until Kafka and QuestDB hold everything acknowledged
    const afterAcks = fleet.stats();
    const expectedMessages = options.qos === 1 ? afterAcks.acknowledged : afterAcks.sent;
    const caughtUp = await waitUntilCaughtUp(expectedMessages, () => stages.latest());
    await probe?.settle(caughtUp ? 5000 : 0);
    const afterLoadMs = Math.round(performance.now() - loadStarted - loadMs);
    await stages.stop();
    const lastSample = stages.latest();
    if (lastSample) timeline.observe(sinceLoadStartMs(), () => readTimeline(lastSample), { final: true });
    for (const [error, times] of samplingErrors) problems.push(`sampling: ${error}${times > 1 ? ` (${times} times)` : ''}`);
    const processes = await sampler.markEnd();
    const duringLoadMs = await speedDuringLoad.stop();
    const host: HostSpeed = {
      speedProbeMs: { before: speedProbeBeforeMs, duringLoad: duringLoadMs, duringLoadMedian: medianProbeMs(duringLoadMs), after: probeHostSpeed() },
      stealPercent: stealShare(cpuTimesAtStart, await readCpuTimes()),
    };
    const gatewayView = await readGatewayView(metricsUrl.gateway, warmedMetrics?.gateway === gateway ? warmedMetrics.gatewayText : null);
    const enricherView = enricher ? await readEnricherView(metricsUrl.enricher, warmedMetrics?.enricher === enricher ? warmedMetrics.enricherText : null) : null;
    await probe?.stop();
    await companion?.afterDrain(options.signal).catch((error: unknown) => void problems.push(`after the drain: ${String(error)}`));
    if (!caughtUp) problems.push(`the pipeline did not catch up within the drain timeout (${options.drainTimeoutMs} ms)`);

    // 6. audits, of the warm-up's messages and the measured ones alike (the ledgers hold both)
    const fleetStats = fleet.stats();
    const auditedMessages = expectedMessages + (warmup === null ? 0 : options.qos === 1 ? warmup.acknowledged : warmup.sent);
    const expectedRows = auditedMessages * readingsPerMessage;
    if (fleetStats.connected < connected.connected) problems.push(`${connected.connected - fleetStats.connected} devices dropped and had not reconnected by the end of the drain`);
    const expectedLedger = options.qos === 1 ? fleet.ackedLedger : fleet.sentLedger;
    const indexOf = (deviceId: string): number | undefined => fleet.deviceIndexOf(deviceId);
    const kafkaRecords = await kafka.recordCount(names.telemetryTopic);
    const deadLettered = await kafka.recordCount(names.deadLetterTopic);
    if (deadLettered > 0) problems.push(`${deadLettered} records were dead-lettered (see ${enricher?.logFile ?? 'the enricher log'})`);
    let kafkaComparison: LedgerComparison | null = null;
    let kafkaPhantoms: number | null = null;
    if (options.auditKafka) {
      const audit = await kafka.readLedger({ topic: names.telemetryTopic, deviceCount: options.devices, deviceIndexOf: indexOf, timeoutMs: 300_000 });
      kafkaComparison = compareLedgers(expectedLedger, audit.messages);
      kafkaPhantoms = compareLedgers(fleet.sentLedger, audit.messages).unexpected;
      if (audit.foreignRecords > 0) problems.push(`${audit.foreignRecords} Kafka records were not from this run's devices`);
    }
    const questdb = options.enrich
      ? await auditQuestdb({ httpUrl: options.questdbHttpUrl, table: names.table, deviceCount: options.devices, deviceIndexOf: indexOf, readingsPerMessage })
      : null;
    const questdbComparison = questdb ? compareLedgers(expectedLedger, questdb.messages) : null;
    const lostKafka = kafkaComparison?.missing ?? (kafkaRecords >= auditedMessages ? 0 : null);
    const examples = (questdbComparison?.missingExamples ?? kafkaComparison?.missingExamples ?? []).map(({ deviceIndex, seq }) => ({ deviceId: credentials[deviceIndex]!.deviceId, seq }));

    const counts: E2eResult['counts'] = {
      offered: fleetStats.offered,
      sent: fleetStats.sent,
      acknowledged: fleetStats.acknowledged,
      failed: fleetStats.failed,
      notSent: fleetStats.notSent,
      kafkaRecords,
      deadLettered,
      questdbRows: questdb?.rows ?? null,
      questdbDistinctReadings: questdb?.distinctReadings ?? null,
      expectedRows,
    };
    const lost: E2eResult['lost'] = { kafka: lostKafka, questdb: questdbComparison?.missing ?? null, questdbIncompleteMessages: questdb?.incompleteMessages ?? null, examples };
    const phantoms: E2eResult['phantoms'] = { kafka: kafkaPhantoms, questdb: questdb ? compareLedgers(fleet.sentLedger, questdb.messages).unexpected : null };
    if ((phantoms.kafka ?? 0) > 0 || (phantoms.questdb ?? 0) > 0) problems.push(`phantom messages, never sent: Kafka ${phantoms.kafka}, QuestDB ${phantoms.questdb}`);
    const duplicates: E2eResult['duplicates'] = {
      kafkaRecords: kafkaComparison?.duplicates ?? null,
      questdbRows: questdb?.duplicateRows ?? null,
      kafkaUnexpected: kafkaComparison?.unexpected ?? null,
      questdbUnexpected: questdbComparison?.unexpected ?? null,
    };
    const countsAgree =
      lost.kafka === 0 &&
      // A warm-up message acknowledged only after the reset counts in the measured load: compare the sums.
      (options.qos === 0 || fleetStats.acknowledged + (warmup?.acknowledged ?? 0) === fleetStats.sent + (warmup?.sent ?? 0)) &&
      deadLettered === 0 &&
      (questdb === null || (lost.questdb === 0 && questdb.incompleteMessages === 0 && questdb.duplicateRows === 0 && questdb.rows === expectedRows));
    const { series } = stages;
    const perMessage = (samples: CountSample[]): CountSample[] => samples.map(({ atMs, count }) => ({ atMs, count: count / readingsPerMessage }));

    return {
      runId,
      startedAt,
      options: {
        kafkaBrokers: options.kafkaBrokers,
        questdbHttpUrl: options.questdbHttpUrl,
        devices: options.devices,
        ratePerSec: options.ratePerSec,
        durationMs: options.durationMs,
        qos: options.qos,
        v2Percent: options.v2Percent,
        readings: options.readings,
        maxInflightPerDevice: options.maxInflightPerDevice,
        connectConcurrency: options.connectConcurrency,
        tickMs,
        client,
        enrich: options.enrich,
        auditKafka: options.auditKafka,
        drainTimeoutMs: options.drainTimeoutMs,
        partitions: options.partitions ?? benchPartitions,
        probePollMs: options.probePollMs,
        maxProbeRatePerSec: options.maxProbeRatePerSec,
        logDir,
        serverPids: options.serverPids ?? {},
        restWindowMs: options.restWindowMs ?? 0,
        timelineIntervalMs: options.timelineIntervalMs ?? defaultTimelineIntervalMs,
        warmupMs,
        ...(options.restartGateway && { restartGateway: options.restartGateway }),
        ...(options.restartEnricher && { restartEnricher: options.restartEnricher }),
        ...(options.fault && { fault: { kind: options.fault.fault.kind, atMs: options.fault.atMs, forMs: options.fault.forMs } }),
        ...(isolated && { isolated: { process: isolated.process, namespace: isolated.network.namespace } }),
        gatewayEnv,
        enrichEnv: options.enrich ? enrichEnv : {},
      },
      machine: { cpus: cpus().length, cpuModel: cpus()[0]?.model ?? 'unknown', memoryGiB: Math.round(totalmem() / 2 ** 30), node: process.version, platform: `${process.platform} ${process.arch}` },
      names,
      fleet: fleetStats,
      counts,
      warmup,
      lost,
      duplicates,
      phantoms,
      throughput: {
        offeredPerSec: options.ratePerSec,
        sent: stageThroughput(series.sent, fleetStats.sent, loadMs),
        acknowledged: stageThroughput(series.acknowledged, fleetStats.acknowledged, loadMs),
        kafka: stageThroughput(series.kafka, kafkaRecords - baseline.kafka, loadMs),
        questdb: questdb ? stageThroughput(perMessage(series.questdb), (questdb.rows - baseline.rows) / readingsPerMessage, loadMs) : null,
      },
      latency: { pubackMs: fleet.pubackLatency.summary(), queryableMs: probe ? probe.latency.summary() : null, queryableProbe: probe?.stats() ?? null, queryableMethod, harnessLoopDelayMs },
      gateway: gatewayView,
      enricher: enricherView,
      processes: processes.map((usage) => {
        const perMessage = (cpuSeconds: number): number | null => (expectedMessages > 0 ? Math.round((cpuSeconds * 1e6) / expectedMessages) : null);
        const harnessSeconds = usage.name === harnessProcess ? usage.cpuSeconds : (attribution?.harnessCores[usage.name] ?? 0) * usage.windowSeconds;
        return { ...usage, cpuMicrosPerMessage: perMessage(usage.cpuSeconds), pipelineCpuMicrosPerMessage: perMessage(Math.max(0, usage.cpuSeconds - harnessSeconds)) };
      }),
      attribution,
      host,
      drain: { caughtUp, afterLoadMs },
      timeline: [...timeline.points],
      fault: fault?.timeline ?? null,
      countsAgree,
      problems,
      runData,
    };
  } finally {
    // Reverse order: devices, probe, enricher, gateway, sampler.
    for (const stop of stops.reverse()) {
      try {
        await stop();
      } catch (error) {
        problems.push(`stopping: ${String(error)}`);
      }
    }
    // Once nothing reads or writes them: a stack that runs benchmark after benchmark would otherwise keep every run's topics and tables.
    if (!runData.kept) {
      try {
        runData.removedTopics = (await kafka.deleteTopicsByPrefix(names.topicPrefix)).length;
        if (options.enrich) runData.removedTables = (await dropQuestdbTables(options.questdbHttpUrl, names.tablePrefix)).length;
      } catch (error) {
        problems.push(`removing the run's topics and tables: ${String(error)}`);
      }
    }
    await kafka.close().catch((error: unknown) => void problems.push(`closing the Kafka client: ${String(error)}`));
  }
}

/**
 * Injects a fault `atMs` into the load and heals it `forMs` later. `healNow` heals at once (load
 * over, or the run failing) and waits for an injection under way; it is safe to call twice.
 */
export function scheduleFault(plan: ScheduledFault, loadStarted: number, environment: FaultEnvironment): { timeline: FaultTimeline; inEffect: () => boolean; healNow: () => Promise<void> } {
  const { fault } = plan;
  const timeline: FaultTimeline = { kind: fault.kind, description: fault.describe(), injectedAtMs: null, healedAtMs: null, error: null, samplingErrors: 0 };
  const since = (): number => Math.round(performance.now() - loadStarted);
  const fail = (error: unknown): void => void (timeline.error ??= error instanceof Error ? error.message : String(error));
  let healTimer: NodeJS.Timeout | undefined;
  let healing: Promise<void> | null = null;
  const heal = (): Promise<void> =>
    (healing ??= (async () => {
      clearTimeout(healTimer);
      await injecting;
      // A failed injection may have done part of its work (a broker paused, then a wait timed out):
      // heal undoes whatever was done, or a paused broker would outlive the run.
      if (!started) return;
      await fault.heal(environment).then(() => void (timeline.healedAtMs = since()), fail);
    })());
  let injecting: Promise<void> = Promise.resolve();
  let started = false;
  const injectTimer = setTimeout(() => {
    started = true;
    injecting = fault.inject(environment).then(() => {
      timeline.injectedAtMs = since();
      healTimer = setTimeout(() => void heal(), plan.forMs);
    }, fail);
  }, plan.atMs);
  return {
    timeline,
    // From the moment injection begins until the heal has finished (a failed heal: for good).
    inEffect: () => started && timeline.healedAtMs === null,
    healNow: () => {
      clearTimeout(injectTimer);
      return heal();
    },
  };
}
