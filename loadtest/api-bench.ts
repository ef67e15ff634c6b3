/**
 * The API benchmark (`tributary bench api`): the end-to-end bench's pipeline (e2e-bench.ts: stack,
 * gateway and enricher children, a device fleet at a fixed rate, every message counted) with
 * `tributary api` started beside it as a child process, then
 *
 * 1. reads under load: for the whole load, `clients` dashboard clients (dashboard-clients.ts, in a
 *    worker thread) loop over GET latest and GET series with a read token; per route p50/p90/p99/max
 *    and requests/s, errors by status, the CPU of the API, QuestDB and the harness per request over
 *    the clients' window, and the pipeline's own figures over the same load (delivered msg/s, PUBACK
 *    latency), which a run with --clients 0 gives without the reads;
 * 2. replay throughput on the idle pipeline, once it caught up: every partition of the run's
 *    telemetry topic replayed (no rate cap) by the CLI (`tributary replay --partition all --json`)
 *    and as a job (POST /v1/replays, polled until succeeded), alternating, `replayRounds` times each.
 *    Replayed rows land on the rows already there (DEDUP keys), so the e2e audit still holds.
 */
import { cpus, loadavg, totalmem } from 'node:os';
import { Worker } from 'node:worker_threads';
import { setTimeout as delay } from 'node:timers/promises';
import { createKafkaAuditor } from './kafka-audit.ts';
import type { DashboardClientsOptions, DashboardClientsReport } from './dashboard-clients.ts';
import { runE2eBench, type E2eCompanion, type E2eOptions, type E2eResult } from './e2e-bench.ts';
import type { LatencySummary } from './latency-histogram.ts';
import { freePort, runTributary, startPipelineProcess, type PipelineProcess } from './pipeline-process.ts';
import { median } from './median.ts';
import { harnessProcess } from './process-roles.ts';
import { createProcessSampler, type ProcessUsageReport } from './process-usage.ts';
import { simulatedMetrics } from './telemetry-generator.ts';

export interface ApiBenchOptions {
  /** The pipeline's run; the API bench adds its companion. */
  e2e: Omit<E2eOptions, 'companion'>;
  /** QuestDB's PostgreSQL wire endpoint, for the API's reads. */
  questdbPgUrl: string;
  /** Concurrent dashboard clients during the load; 0: the pipeline alone, for comparison. */
  clients: number;
  /** Replays by the CLI and as a job, each this many times, alternating; 0 skips the comparison. */
  replayRounds: number;
  /** One replay may take this long. */
  replayTimeoutMs: number;
  commandLine?: string;
  commit?: string;
}

export interface ReplayRun {
  via: 'cli' | 'job';
  records: number;
  /** From starting the CLI (a new Node process) or POSTing the job until it reported its end. */
  wallMs: number;
  wallRecordsPerSec: number;
  /** The replay's own rate: the CLI's report, or the job's records over startedAt..finishedAt. */
  reportedRecordsPerSec: number;
}

export interface ApiBenchResult {
  runId: string;
  startedAt: string;
  commit: string | null;
  commandLine: string | null;
  machine: { cpus: number; cpuModel: string; memoryGiB: number; node: string };
  /** 1, 5 and 15 minute load averages when the run began and ended (the machine is shared). */
  loadAverage: { before: number[]; after: number[] };
  options: { devices: number; ratePerSec: number; durationMs: number; clients: number; replayRounds: number };
  /** The dashboard clients' report, and CPU per process over their window (µs per request); null without clients. */
  reads: (DashboardClientsReport & { processes: Array<ProcessUsageReport & { cpuMicrosPerRequest: number | null }> }) | null;
  /** The pipeline over the same load: what the reads cost it. */
  pipeline: { offeredPerSec: number; deliveredPerSec: number; steadyDeliveredPerSec: number; pubackMs: LatencySummary; countsAgree: boolean };
  replay: { topicRecords: number; runs: ReplayRun[]; medianRecordsPerSec: { cli: number | null; job: number | null } } | null;
  e2e: E2eResult;
  problems: string[];
}

const round = (value: number, digits = 0): number => Math.round(value * 10 ** digits) / 10 ** digits;

/** The median of whole numbers, whole again; null for none. */
function roundedMedian(values: readonly number[]): number | null {
  const middle = median(values);
  return middle === null ? null : round(middle);
}

/** The API's read and job settings, for a bench the rate limit high enough never to answer 429. */
const apiRateLimit = 1_000_000;

interface Job {
  state: string;
  startedAt: string | null;
  finishedAt: string | null;
  counters: { records: number };
  error: string | null;
}

export async function runApiBench(options: ApiBenchOptions): Promise<ApiBenchResult> {
  const loadBefore = loadavg().map((value) => round(value, 2));
  const startedAt = new Date().toISOString();
  const problems: string[] = [];
  const deviceIds = (options.e2e.credentials ?? []).slice(0, options.e2e.devices).map((credential) => credential.deviceId);
  const metrics = simulatedMetrics.slice(0, options.e2e.readings).map((metric) => metric.name);
  let api: PipelineProcess | null = null;
  let apiBase = '';
  let tokens = { read: '', operate: '' };
  let env: Record<string, string> = {};
  let enrichEnv: Record<string, string> = {};
  let telemetryTopic = '';
  let reads: ApiBenchResult['reads'] = null;
  let replay: ApiBenchResult['replay'] = null;

  const call = async (path: string, token: string, init: { method?: string; body?: unknown } = {}): Promise<Response> =>
    fetch(`${apiBase}${path}`, {
      method: init.method ?? 'GET',
      headers: { authorization: `Bearer ${token}`, ...(init.body !== undefined && { 'content-type': 'application/json' }) },
      ...(init.body !== undefined && { body: JSON.stringify(init.body) }),
      signal: AbortSignal.timeout(30_000),
    });

  const replayByCli = async (): Promise<ReplayRun> => {
    const started = performance.now();
    const { stdout } = await runTributary(['replay', '--partition', 'all', '--json'], replayEnv(enrichEnv), options.replayTimeoutMs);
    const wallMs = performance.now() - started;
    const report = JSON.parse(stdout) as { records: number; recordsPerSec: number; complete: boolean; error: string | null };
    if (!report.complete) throw new Error(`the CLI replay did not complete: ${report.error ?? 'unknown'}`);
    return { via: 'cli', records: report.records, wallMs: round(wallMs), wallRecordsPerSec: round((report.records * 1000) / wallMs), reportedRecordsPerSec: report.recordsPerSec };
  };

  const replayByJob = async (signal?: AbortSignal): Promise<ReplayRun> => {
    const started = performance.now();
    const posted = await call('/v1/replays', tokens.operate, { method: 'POST', body: { partitions: 'all' } });
    if (posted.status !== 202) throw new Error(`POST /v1/replays answered ${posted.status}: ${await posted.text()}`);
    const location = posted.headers.get('location');
    if (location === null) throw new Error('POST /v1/replays answered 202 without a Location');
    for (;;) {
      if (performance.now() - started > options.replayTimeoutMs) throw new Error(`the replay job ${location} did not finish within ${options.replayTimeoutMs} ms`);
      signal?.throwIfAborted();
      const job = (await (await call(location, tokens.read)).json()) as Job;
      if (job.state === 'succeeded') {
        const wallMs = performance.now() - started;
        const runMs = Date.parse(job.finishedAt ?? '') - Date.parse(job.startedAt ?? '');
        const records = job.counters.records;
        return { via: 'job', records, wallMs: round(wallMs), wallRecordsPerSec: round((records * 1000) / wallMs), reportedRecordsPerSec: runMs > 0 ? round((records * 1000) / runMs) : 0 };
      }
      if (job.state === 'failed' || job.state === 'cancelled') throw new Error(`the replay job ${location} ended ${job.state}: ${job.error ?? ''}`);
      // Polling costs the API a request; 100 ms is well under a second-long replay's resolution.
      await delay(100);
    }
  };

  const companion: E2eCompanion = {
    async start(run) {
      telemetryTopic = run.names.telemetryTopic;
      enrichEnv = run.env.enrich;
      const apiPort = await freePort();
      const ownTopics = Object.fromEntries(
        (['JOBS', 'JOB_STATE', 'JOB_EVENTS', 'API_TOKENS', 'COMMANDS', 'COMMAND_EVENTS'] as const).map((name) => [`TRIBUTARY_TOPIC_${name}`, `${run.names.topicPrefix}${name.toLowerCase().replace(/_/g, '-')}`]),
      );
      env = {
        ...replayEnv(run.env.enrich),
        ...ownTopics,
        TRIBUTARY_API_JOBS_GROUP: `bench-${run.names.runId}-jobs`,
        TRIBUTARY_API_PORT: String(apiPort),
        TRIBUTARY_API_QUESTDB_PG_URL: options.questdbPgUrl,
        TRIBUTARY_API_RATE_LIMIT: String(apiRateLimit),
      };
      const create = async (scopes: string): Promise<string> =>
        (JSON.parse((await runTributary(['tokens', 'create', '--name', `bench-${scopes}`, '--scopes', scopes, '--json'], env, 120_000)).stdout) as { token: string }).token;
      tokens = { read: await create('read'), operate: await create('operate') };
      api = await startPipelineProcess({ name: 'api', command: 'api', env, readyUrl: `http://127.0.0.1:${apiPort}/readyz`, logDir: run.logDir, readyTimeoutMs: 180_000 });
      apiBase = `http://127.0.0.1:${apiPort}`;
    },
    async duringLoad() {
      if (options.clients === 0 || api === null) return;
      const sampler = createProcessSampler(1000);
      sampler.watch('api', api.pid);
      if (options.e2e.serverPids?.questdb !== undefined) sampler.watch('questdb', options.e2e.serverPids.questdb);
      sampler.watch(harnessProcess, process.pid);
      await sampler.markStart();
      try {
        const clients: DashboardClientsOptions = { baseUrl: apiBase, token: tokens.read, deviceIds, metrics, clients: options.clients, durationMs: options.e2e.durationMs };
        const report = await runWorker(clients);
        const requests = report.routes.latest.requests + report.routes.series.requests;
        const processes = (await sampler.markEnd()).map((usage) => ({ ...usage, cpuMicrosPerRequest: requests > 0 ? round((usage.cpuSeconds * 1e6) / requests) : null }));
        reads = { ...report, processes };
        if (Object.keys(report.errors).length > 0) problems.push(`dashboard requests failed: ${JSON.stringify(report.errors)}`);
      } finally {
        sampler.stop();
      }
    },
    async afterDrain(signal) {
      if (options.replayRounds === 0 || api === null) return;
      const kafka = createKafkaAuditor(options.e2e.kafkaBrokers);
      let topicRecords: number;
      try {
        topicRecords = await kafka.recordCount(telemetryTopic);
      } finally {
        await kafka.close();
      }
      const runs: ReplayRun[] = [];
      // A/B alternating, the order swapped each round, so a drift of the machine's load hits both alike.
      for (let roundIndex = 0; roundIndex < options.replayRounds; roundIndex += 1) {
        const order = roundIndex % 2 === 0 ? (['cli', 'job'] as const) : (['job', 'cli'] as const);
        for (const via of order) {
          signal?.throwIfAborted();
          const result = via === 'cli' ? await replayByCli() : await replayByJob(signal);
          if (result.records !== topicRecords) problems.push(`the ${via} replay read ${result.records} records; the topic holds ${topicRecords}`);
          runs.push(result);
          options.e2e.onProgress?.(`replay by ${via}: ${result.records} records, ${result.wallRecordsPerSec} records/s (wall), ${result.reportedRecordsPerSec} records/s (its own)`);
        }
      }
      const rates = (via: 'cli' | 'job'): number | null => roundedMedian(runs.filter((run) => run.via === via).map((run) => run.wallRecordsPerSec));
      replay = { topicRecords, runs, medianRecordsPerSec: { cli: rates('cli'), job: rates('job') } };
    },
    async stop() {
      await api?.stop();
    },
  };

  const e2e = await runE2eBench({ ...options.e2e, companion });
  const acknowledged = e2e.throughput.acknowledged;
  return {
    runId: e2e.runId,
    startedAt,
    commit: options.commit ?? null,
    commandLine: options.commandLine ?? null,
    machine: { cpus: cpus().length, cpuModel: cpus()[0]?.model ?? 'unknown', memoryGiB: Math.round(totalmem() / 2 ** 30), node: process.version },
    loadAverage: { before: loadBefore, after: loadavg().map((value) => round(value, 2)) },
    options: { devices: options.e2e.devices, ratePerSec: options.e2e.ratePerSec, durationMs: options.e2e.durationMs, clients: options.clients, replayRounds: options.replayRounds },
    reads,
    pipeline: { offeredPerSec: options.e2e.ratePerSec, deliveredPerSec: acknowledged.perSec, steadyDeliveredPerSec: acknowledged.steadyPerSec, pubackMs: e2e.latency.pubackMs, countsAgree: e2e.countsAgree },
    replay,
    e2e,
    problems: [...problems, ...e2e.problems],
  };
}

/** The enricher's environment less what only the enricher process takes (its port, its group). */
function replayEnv(enrich: Record<string, string>): Record<string, string> {
  const { TRIBUTARY_ENRICH_HTTP_PORT: _port, TRIBUTARY_ENRICH_GROUP: _group, ...rest } = enrich;
  return rest;
}

function runWorker(options: DashboardClientsOptions): Promise<DashboardClientsReport> {
  return new Promise((resolve, reject) => {
    const worker = new Worker(new URL('./dashboard-clients-worker.ts', import.meta.url), { workerData: options });
    worker.once('message', (report: DashboardClientsReport) => resolve(report));
    worker.once('error', reject);
    worker.once('exit', (code) => reject(new Error(`the dashboard clients' worker exited with ${code} before reporting`)));
  });
}
