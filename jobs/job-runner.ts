/**
 * Job runner: one member of the consumer group on `iot.jobs`. The group gives each submission to
 * one runner (competing consumers); the runner commits the submission's offset only once the job
 * reached its end (succeeded, failed, cancelled). A runner that dies mid-job never commits, so the
 * group hands the submission to another runner, which finds the dead runner's last checkpoint in
 * the job store and resumes from it (attempt + 1). Before deciding anything about a job, a runner
 * reads the job-state topic up to its end, so a job that already ended is never run again.
 *
 * While a job runs, the runner writes its state (`run:<id>`) every checkpoint interval, sends a
 * progress event now and then, heartbeats the group, and stops the job when a cancellation
 * appears or the group takes the partition away. A failed job also raises an alert.
 */
import { Counter, Gauge, type Registry } from 'prom-client';
import { describeError } from '../core/errors.ts';
import {
  decodeJobSubmission,
  emptyCounters,
  encodeJobEvent,
  encodeJobFact,
  jobFactKey,
  jobProgress,
  jobWireVersion,
  type JobEvent,
  type JobExecutor,
  type JobKind,
  type JobRequest,
  type JobRunState,
  type JobSubmission,
  type RunFact,
  type RunState,
} from '../core/job.ts';
import type { ConsumedBatch, ConsumedRecord, GroupConsumerPort, KafkaAdminPort, KafkaClientFactory, KafkaProducerPort, OutgoingRecord } from '../core/kafka-port.ts';
import type { Logger } from '../core/logger.ts';
import { retry, sleep } from '../core/retry.ts';
import type { JobStore } from './job-store.ts';

export interface JobTopics {
  jobs: string;
  jobState: string;
  jobEvents: string;
  alerts: string;
}

export interface JobRunner {
  start(): Promise<void>;
  /** Stops taking jobs; a running job writes its checkpoint and is left for the next runner. */
  stop(): Promise<void>;
  /** Null while healthy; why not otherwise (for readiness). */
  problem(): string | null;
}

export interface JobRunnerOptions {
  kafka: Pick<KafkaClientFactory, 'groupConsumer' | 'admin'>;
  clientId: string;
  groupId: string;
  topics: JobTopics;
  store: JobStore;
  producer: KafkaProducerPort;
  executors: { [K in JobKind]: JobExecutor<Extract<JobRequest, { kind: K }>> };
  /** Names this runner in job state (which runner holds which job). */
  runnerId: string;
  /** Jobs run at once (each from its own partition of the jobs topic). */
  concurrency: number;
  checkpointIntervalMs: number;
  progressEventIntervalMs: number;
  metricsRegistry: Registry;
  metricPrefix: string;
  logger: Logger;
  onFatal?: (error: unknown) => void;
  now?: () => number;
}

/** The alert a failed job raises on the alerts topic (key = job id). */
export interface JobFailedAlert {
  kind: 'job_failed';
  jobId: string;
  jobKind: JobKind;
  error: string;
  atMs: number;
}

const writeRetry = { minDelayMs: 200, maxDelayMs: 2000, maxAttempts: 10 };

export function createJobRunner(options: JobRunnerOptions): JobRunner {
  const { store, producer, topics } = options;
  const now = options.now ?? Date.now;
  const logger = options.logger.child({ component: 'job-runner' });
  const stopping = new AbortController();
  const finished = new Counter({ name: `${options.metricPrefix}jobs_finished_total`, help: 'jobs this runner brought to an end, by kind and final state', labelNames: ['kind', 'state'], registers: [options.metricsRegistry] });
  const running = new Gauge({ name: `${options.metricPrefix}jobs_running`, help: 'jobs this runner is running now', registers: [options.metricsRegistry] });
  let crashed: string | null = null;
  let admin: KafkaAdminPort | null = null;

  const send = (records: OutgoingRecord[]): Promise<void> => retry(() => producer.sendMany(records), { ...writeRetry, signal: stopping.signal, shouldRetry: () => true });

  const event = (fact: RunFact, type: JobEvent['type']): OutgoingRecord => {
    const { done, total } = jobProgress(fact.partitions);
    const value: JobEvent = { v: jobWireVersion, type, jobId: fact.jobId, kind: fact.kind, atMs: fact.updatedAtMs, attempt: fact.attempt, done, total, counters: fact.counters, ...(fact.error !== undefined && { error: fact.error }) };
    return { topic: topics.jobEvents, key: fact.jobId, value: encodeJobEvent(value), headers: {} };
  };

  /** Writes the runner's state of a job (and applies it here at once), with the events it means. */
  const record = async (fact: RunFact, events: JobEvent['type'][]): Promise<void> => {
    const records: OutgoingRecord[] = [{ topic: topics.jobState, key: jobFactKey('run', fact.jobId), value: encodeJobFact({ type: 'run', value: fact }), headers: {} }];
    for (const type of events) records.push(event(fact, type));
    if (fact.state === 'failed') {
      const alert: JobFailedAlert = { kind: 'job_failed', jobId: fact.jobId, jobKind: fact.kind, error: fact.error ?? 'unknown', atMs: fact.updatedAtMs };
      records.push({ topic: topics.alerts, key: fact.jobId, value: Buffer.from(JSON.stringify(alert)), headers: {} });
    }
    await send(records);
    store.apply({ type: 'run', value: fact });
  };

  /** Reads the job-state topic to its end, so the store knows every fact written before now. */
  const catchUp = async (): Promise<void> => {
    admin ??= options.kafka.admin({ clientId: options.clientId });
    const ends = await admin.endOffsets(topics.jobState);
    const end = ends.find((entry) => entry.partition === 0)?.offset ?? '0';
    const wait = AbortSignal.any([stopping.signal, AbortSignal.timeout(30_000)]);
    await store.readUpTo(BigInt(end), wait);
    if (!stopping.signal.aborted && wait.aborted) throw new Error(`the job store did not reach offset ${end} of ${topics.jobState} within 30 s`);
  };

  const finish = async (base: Omit<RunFact, 'state' | 'updatedAtMs'>, state: RunState, error?: string): Promise<void> => {
    const fact: RunFact = { ...base, state, updatedAtMs: now(), ...(error !== undefined && { error }) };
    await record(fact, [state === 'running' ? 'progress' : state]);
    finished.inc({ kind: fact.kind, state });
    logger.info({ jobId: fact.jobId, kind: fact.kind, state, attempt: fact.attempt, counters: fact.counters, error }, 'job ended');
  };

  /**
   * Runs one job to its end; returns whether it ended (so its submission may be committed) or was
   * left for another runner (this runner stopping, or its partition taken away).
   */
  const runJob = async (submission: JobSubmission, control: { isRunning: () => boolean; heartbeat: () => Promise<void> }): Promise<boolean> => {
    const { jobId, request } = submission;
    await catchUp();
    if (stopping.signal.aborted) return false;
    const facts = store.facts(jobId) ?? {};
    const previous = facts.run;
    if (previous !== undefined && previous.state !== 'running') return true;
    if (facts.request !== undefined && facts.request.requestHash !== submission.requestHash) {
      // Two submissions raced for one idempotency key with different requests: the recorded one wins.
      logger.warn({ jobId }, 'a second submission of this job with another request is ignored');
      return true;
    }
    const executor = options.executors[request.kind] as JobExecutor;
    const startedAtMs = now();
    let base: Omit<RunFact, 'state' | 'updatedAtMs'>;
    if (previous === undefined) {
      base = { v: jobWireVersion, jobId, kind: request.kind, attempt: 1, runnerId: options.runnerId, firstStartedAtMs: startedAtMs, startedAtMs, partitions: [], counters: emptyCounters(), ratePerSec: 0, notes: [] };
      if (facts.cancel !== undefined) {
        await finish(base, 'cancelled');
        return true;
      }
      try {
        const plan = await executor.plan(request);
        base = { ...base, partitions: plan.partitions, notes: plan.notes };
      } catch (error) {
        if (stopping.signal.aborted) return false;
        await finish(base, 'failed', `planning failed: ${describeError(error)}`);
        return true;
      }
    } else {
      base = { ...previous, attempt: previous.attempt + 1, runnerId: options.runnerId, startedAtMs, ratePerSec: 0 };
      if (facts.cancel !== undefined) {
        await finish(base, 'cancelled');
        return true;
      }
    }
    await record({ ...base, state: 'running', updatedAtMs: now() }, ['started']);
    logger.info({ jobId, kind: request.kind, attempt: base.attempt, progress: jobProgress(base.partitions) }, previous === undefined ? 'job started' : 'job resumed from its checkpoint');

    const doneAtStart = jobProgress(base.partitions).done;
    const from: JobRunState = { partitions: base.partitions, counters: base.counters };
    const execution = executor.start(request, from);
    const snapshot = (): Omit<RunFact, 'state' | 'updatedAtMs'> => {
      const state = execution.state();
      const elapsedSec = (now() - startedAtMs) / 1000;
      const ratePerSec = elapsedSec > 0 ? Math.max(0, jobProgress(state.partitions).done - doneAtStart) / elapsedSec : 0;
      return { ...base, partitions: state.partitions, counters: state.counters, ratePerSec };
    };
    let outcome: { complete: boolean; error: string | null } | null = null;
    const ran = execution.run().then(
      (result) => (outcome = result),
      (error: unknown) => (outcome = { complete: false, error: describeError(error) }),
    );
    let stoppedBy: 'cancel' | 'lost' | 'stopping' | null = null;
    let lastEventMs = now();
    running.inc();
    try {
      while (outcome === null) {
        await Promise.race([ran, sleep(options.checkpointIntervalMs).catch(() => undefined)]);
        if (outcome !== null) break;
        if (stoppedBy === null) {
          if (stopping.signal.aborted) stoppedBy = 'stopping';
          else if (!control.isRunning()) stoppedBy = 'lost';
          else if (store.facts(jobId)?.cancel !== undefined) stoppedBy = 'cancel';
          if (stoppedBy !== null) {
            await execution.stop();
            continue;
          }
        }
        const progressEvent = now() - lastEventMs >= options.progressEventIntervalMs;
        if (progressEvent) lastEventMs = now();
        await record({ ...snapshot(), state: 'running', updatedAtMs: now() }, progressEvent ? ['progress'] : []);
        await control.heartbeat();
      }
    } catch (error) {
      // A heartbeat refused by a rebalance, a state write that kept failing: this attempt ends here
      // and the job resumes from its last checkpoint with whichever runner gets the partition.
      await execution.stop();
      await ran;
      throw error;
    } finally {
      running.dec();
    }
    const result = outcome as { complete: boolean; error: string | null };
    const last = snapshot();
    if (stoppedBy === 'lost') {
      // Another runner may own the job now: writing its state here could undo theirs.
      logger.warn({ jobId }, 'the group took this job away; leaving it to its new runner');
      return false;
    }
    if (stoppedBy === 'stopping') {
      await record({ ...last, state: 'running', updatedAtMs: now() }, []);
      logger.info({ jobId, progress: jobProgress(last.partitions) }, 'stopping: job left at its checkpoint for the next runner');
      return false;
    }
    if (stoppedBy === 'cancel') await finish(last, 'cancelled');
    else if (result.complete) await finish(last, 'succeeded');
    else await finish(last, 'failed', result.error ?? 'the job ended before its plan was done');
    return true;
  };

  const onBatch = async (batch: ConsumedBatch, control: { isRunning: () => boolean; heartbeat: () => Promise<void> }): Promise<void> => {
    for (const item of batch.records) {
      if (!control.isRunning() || stopping.signal.aborted) return;
      const submission = decodeJobSubmission(item.value);
      if (!submission.ok) logger.warn({ partition: item.partition, offset: item.offset, reason: submission.reason, detail: submission.detail }, 'skipping a record of the jobs topic that is not a job submission');
      else if (!(await runJob(submission.value, control))) return;
      await consumer.commit([{ topic: item.topic, partition: item.partition, offset: nextOffset(item) }]);
    }
  };

  const consumer: GroupConsumerPort = options.kafka.groupConsumer({
    clientId: options.clientId,
    groupId: options.groupId,
    topics: [topics.jobs],
    fromBeginning: true,
    partitionsConcurrently: options.concurrency,
    onBatch,
    onCrash: (error) => {
      crashed = describeError(error);
      options.onFatal?.(error);
    },
  });

  let stopped: Promise<void> | null = null;
  return {
    start: () => consumer.start(),
    stop() {
      stopped ??= (async () => {
        stopping.abort(new Error('job runner stopping'));
        try {
          await consumer.stop();
        } finally {
          await admin?.close();
        }
      })();
      return stopped;
    },
    problem: () => (crashed === null ? null : `job runner crashed: ${crashed}`),
  };
}

function nextOffset(record: ConsumedRecord): string {
  return (BigInt(record.offset) + 1n).toString();
}
