/**
 * Jobs: long operator work (a replay, a dead-letter re-drive) asked for once and run by whichever
 * job runner owns its partition of `iot.jobs`. Three kinds of record, all JSON:
 *
 * - the submission, on `iot.jobs` (key = job id): what to do, who asked, when;
 * - facts on the compacted `iot.jobs.state`, each under its own key so that no writer overwrites
 *   another's: `request:<id>` (the submitter), `run:<id>` (the runner's latest state: plan,
 *   checkpoint, counters, outcome), `cancel:<id>` (a cancellation). A job is the fold of its facts
 *   (jobs/job-view.ts), so any replica that follows the topic can answer for any job;
 * - lifecycle events on `iot.jobs.events` (key = job id): accepted, started, progress, succeeded,
 *   failed, cancelled — for whatever reacts to a job finishing.
 *
 * Pure: no I/O.
 */
import { z } from 'zod';

import { isValidDeviceId } from './device-record.ts';
import { describeIssues, parseJsonRecord } from './json-record.ts';
import type { Result } from './result.ts';

/** The wire version written in `v`; a reader refuses versions it does not know. */
export const jobWireVersion = 1;

export const jobKinds = ['replay', 'redrive'] as const;
export type JobKind = (typeof jobKinds)[number];

const jobIdPattern = /^[A-Za-z0-9_-]{1,64}$/;
const jobId = z.string().regex(jobIdPattern, 'must be 1..64 characters of [A-Za-z0-9_-]');
const epochMs = z.int().nonnegative();
const offset = z.string().regex(/^\d{1,19}$/, 'must be a decimal offset');
/** At most this many records a second; 0 = no cap. */
const maxRatePerSec = z.int().min(0).max(10_000_000);

const boundSchema = z.discriminatedUnion('kind', [
  z.strictObject({ kind: z.literal('earliest') }),
  z.strictObject({ kind: z.literal('latest') }),
  z.strictObject({ kind: z.literal('offset'), offset }),
  z.strictObject({ kind: z.literal('time'), timestampMs: epochMs }),
]);
/** A replay bound as stored: like core/offset-bound.ts's, with the offset as a decimal string and relative times already resolved. */
export type StoredBound = z.infer<typeof boundSchema>;

const replayRequestSchema = z.strictObject({
  kind: z.literal('replay'),
  partitions: z.union([z.literal('all'), z.array(z.int().min(0).max(100_000)).min(1).max(10_000)]),
  from: boundSchema,
  to: boundSchema,
  maxRatePerSec,
});

const redriveRequestSchema = z.strictObject({
  kind: z.literal('redrive'),
  /** Which dead letters to send back; every given condition must hold. */
  filter: z.strictObject({
    reason: z.string().min(1).max(128).optional(),
    deviceId: z.string().refine(isValidDeviceId, 'must be a valid device id').optional(),
    /** Dead-lettered at or after (epoch ms, the `dlq.failed_at_ms` header). */
    fromMs: epochMs.optional(),
    /** Dead-lettered before. */
    toMs: epochMs.optional(),
  }),
  maxRatePerSec,
});

const jobRequestSchema = z.discriminatedUnion('kind', [replayRequestSchema, redriveRequestSchema]);
export type JobRequest = z.infer<typeof jobRequestSchema>;
export type ReplayJobRequest = z.infer<typeof replayRequestSchema>;
export type RedriveJobRequest = z.infer<typeof redriveRequestSchema>;

const submissionSchema = z.strictObject({
  v: z.literal(jobWireVersion),
  jobId,
  request: jobRequestSchema,
  submittedAtMs: epochMs,
  /** The name of the token (or CLI user) that asked. */
  submittedBy: z.string().min(1).max(128),
  idempotencyKey: z.string().min(1).max(256).optional(),
  /** sha256 of the canonical request: a retried submission with the same key must carry the same request. */
  requestHash: z.string().regex(/^[0-9a-f]{64}$/),
});
/** The value of an `iot.jobs` record and of the `request:<id>` fact. */
export type JobSubmission = z.infer<typeof submissionSchema>;

const partitionSchema = z.strictObject({ partition: z.int().min(0), fromOffset: offset, toOffset: offset, nextOffset: offset });
/** One partition of a job's fixed plan, with how far it got: [fromOffset, toOffset), done below nextOffset. */
export type JobPartition = z.infer<typeof partitionSchema>;

const countersSchema = z.strictObject({
  /** Records read (in the job's ranges, matching its filter or not). */
  records: z.int().nonnegative(),
  /** Rows written to QuestDB. */
  rows: z.int().nonnegative(),
  /** Records refused by decode or enrichment, by reason. */
  refused: z.record(z.string(), z.int().nonnegative()),
  /** Records read but not selected (a re-drive's filter). */
  skipped: z.int().nonnegative(),
  /** Offsets in the ranges that held no record (deleted by retention meanwhile). */
  missing: z.int().nonnegative(),
});
export type JobCounters = z.infer<typeof countersSchema>;

export const runStates = ['running', 'succeeded', 'failed', 'cancelled'] as const;
export type RunState = (typeof runStates)[number];

const runFactSchema = z.strictObject({
  v: z.literal(jobWireVersion),
  jobId,
  kind: z.enum(jobKinds),
  state: z.enum(runStates),
  /** 1 for the first runner to start the job, +1 for each runner that resumed it. */
  attempt: z.int().min(1),
  runnerId: z.string().min(1).max(256),
  firstStartedAtMs: epochMs,
  startedAtMs: epochMs,
  updatedAtMs: epochMs,
  partitions: z.array(partitionSchema),
  counters: countersSchema,
  /** Records a second over the current attempt so far. */
  ratePerSec: z.number().nonnegative(),
  /** What the operator should know about the plan (clamped bounds, empty ranges). */
  notes: z.array(z.string().max(1024)).max(10_000),
  error: z.string().max(4096).optional(),
});
/** The `run:<id>` fact: the runner's latest state of a job, written at start, every checkpoint and at the end. */
export type RunFact = z.infer<typeof runFactSchema>;

const cancelFactSchema = z.strictObject({ v: z.literal(jobWireVersion), jobId, requestedAtMs: epochMs, requestedBy: z.string().min(1).max(128) });
export type CancelFact = z.infer<typeof cancelFactSchema>;

export type JobFact = { type: 'request'; value: JobSubmission } | { type: 'run'; value: RunFact } | { type: 'cancel'; value: CancelFact };

export const jobEventTypes = ['accepted', 'started', 'progress', 'succeeded', 'failed', 'cancelled'] as const;

const eventSchema = z.strictObject({
  v: z.literal(jobWireVersion),
  type: z.enum(jobEventTypes),
  jobId,
  kind: z.enum(jobKinds),
  atMs: epochMs,
  attempt: z.int().min(1).optional(),
  done: z.int().nonnegative().optional(),
  total: z.int().nonnegative().optional(),
  counters: countersSchema.optional(),
  error: z.string().max(4096).optional(),
});
/** The value of an `iot.jobs.events` record. */
export type JobEvent = z.infer<typeof eventSchema>;

/** The compacted-topic key of a fact. */
export function jobFactKey(type: JobFact['type'], id: string): string {
  return `${type}:${id}`;
}

function decodeJson<T>(bytes: Buffer | null, schema: z.ZodType<T>, what: string): Result<T> {
  return bytes === null ? { ok: false, reason: 'empty', detail: `${what} has no value` } : parseJsonRecord(bytes, schema, what);
}

/** Checks a job request (the API and the CLI build them); every problem in `detail`. */
export function validateJobRequest(value: unknown): Result<JobRequest> {
  const checked = jobRequestSchema.safeParse(value);
  return checked.success ? { ok: true, value: checked.data } : { ok: false, reason: 'invalid', detail: describeIssues(checked.error, 'request') };
}

export function encodeJobSubmission(submission: JobSubmission): Buffer {
  return Buffer.from(JSON.stringify(submissionSchema.parse(submission)));
}

export function decodeJobSubmission(bytes: Buffer | null): Result<JobSubmission> {
  return decodeJson(bytes, submissionSchema, 'job submission');
}

export function encodeJobFact(fact: JobFact): Buffer {
  switch (fact.type) {
    case 'request':
      return Buffer.from(JSON.stringify(submissionSchema.parse(fact.value)));
    case 'run':
      return Buffer.from(JSON.stringify(runFactSchema.parse(fact.value)));
    case 'cancel':
      return Buffer.from(JSON.stringify(cancelFactSchema.parse(fact.value)));
  }
}

/** A fact from its key and value; null value = a tombstone (the fact was deleted). */
export function decodeJobFact(key: string, value: Buffer | null): Result<JobFact | { type: 'tombstone'; key: string }> {
  if (value === null) return { ok: true, value: { type: 'tombstone', key } };
  const [type] = key.split(':', 1);
  switch (type) {
    case 'request': {
      const decoded = decodeJson(value, submissionSchema, key);
      return decoded.ok ? { ok: true, value: { type, value: decoded.value } } : decoded;
    }
    case 'run': {
      const decoded = decodeJson(value, runFactSchema, key);
      return decoded.ok ? { ok: true, value: { type, value: decoded.value } } : decoded;
    }
    case 'cancel': {
      const decoded = decodeJson(value, cancelFactSchema, key);
      return decoded.ok ? { ok: true, value: { type, value: decoded.value } } : decoded;
    }
    default:
      return { ok: false, reason: 'unknown_fact', detail: `${JSON.stringify(key)} is not a job fact key (request:, run:, cancel:)` };
  }
}

export function encodeJobEvent(event: JobEvent): Buffer {
  return Buffer.from(JSON.stringify(eventSchema.parse(event)));
}

export function decodeJobEvent(bytes: Buffer | null): Result<JobEvent> {
  return decodeJson(bytes, eventSchema, 'job event');
}

/** Offsets a plan covers, and how many of them are done. */
export function jobProgress(partitions: readonly JobPartition[]): { done: number; total: number } {
  let done = 0n;
  let total = 0n;
  for (const { fromOffset, toOffset, nextOffset } of partitions) {
    total += BigInt(toOffset) - BigInt(fromOffset);
    done += BigInt(nextOffset) - BigInt(fromOffset);
  }
  return { done: Number(done), total: Number(total) };
}

export function emptyCounters(): JobCounters {
  return { records: 0, rows: 0, refused: {}, skipped: 0, missing: 0 };
}

/** Where a job run stands: its fixed plan with how far each partition got, and what it counted. */
export interface JobRunState {
  partitions: JobPartition[];
  counters: JobCounters;
}

/** One attempt at a job, started or resumed by a runner. */
export interface JobExecution {
  /** Runs to the end of the plan or until stopped; `error` says why it ended early, if it failed. */
  run(): Promise<{ complete: boolean; error: string | null }>;
  /** The checkpoint now, counters of earlier attempts included. */
  state(): JobRunState;
  /** Ends the attempt after the write in progress; `run` then resolves with complete = false. */
  stop(): Promise<void>;
}

/** What runs one kind of job; built in bin/ from the rooms that do the work. */
export interface JobExecutor<R extends JobRequest = JobRequest> {
  /** Fixes what the job covers on its first start (e.g. `latest` becomes the log end now). */
  plan(request: R): Promise<{ partitions: JobPartition[]; notes: string[] }>;
  /** Starts, or resumes from `from` (its partitions' nextOffset and its counters so far). */
  start(request: R, from: JobRunState): JobExecution;
}
