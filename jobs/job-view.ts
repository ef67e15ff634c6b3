/**
 * A job as the API shows it: the fold of its facts (core/job.ts). Pure; no I/O.
 *
 * accepted (submitted, no runner yet) → running → succeeded | failed | cancelled;
 * `cancelling` while a cancellation waits for the runner to stop. A job cancelled before any runner
 * took it is `cancelled` at once: the runner that takes it later only records that.
 */
import { emptyCounters, jobProgress, type CancelFact, type JobCounters, type JobKind, type JobRequest, type JobSubmission, type RunFact } from '../core/job.ts';

export const jobStates = ['accepted', 'running', 'cancelling', 'succeeded', 'failed', 'cancelled'] as const;
export type JobState = (typeof jobStates)[number];

export interface JobFacts {
  request?: JobSubmission;
  run?: RunFact;
  cancel?: CancelFact;
}

export interface JobView {
  id: string;
  kind: JobKind;
  state: JobState;
  /** Null when only the runner's fact is known (the submitter stopped before recording its request). */
  request: JobRequest | null;
  submittedAtMs: number | null;
  submittedBy: string | null;
  startedAtMs: number | null;
  /** When it reached its final state. */
  finishedAtMs: number | null;
  attempt: number;
  /** The runner that holds (or last held) the job. */
  runnerId: string | null;
  progress: { done: number; total: number; percent: number; ratePerSec: number; etaSeconds: number | null };
  counters: JobCounters;
  notes: string[];
  error: string | null;
  cancelRequestedAtMs: number | null;
}

export function isFinished(state: JobState): boolean {
  return state === 'succeeded' || state === 'failed' || state === 'cancelled';
}

export function jobView(id: string, facts: JobFacts): JobView | null {
  const { request, run, cancel } = facts;
  const kind = run?.kind ?? request?.request.kind;
  if (kind === undefined) return null;
  let state: JobState;
  if (run === undefined) state = cancel === undefined ? 'accepted' : 'cancelled';
  else if (run.state === 'running') state = cancel === undefined ? 'running' : 'cancelling';
  else state = run.state;
  const { done, total } = run === undefined ? { done: 0, total: 0 } : jobProgress(run.partitions);
  const ratePerSec = state === 'running' || state === 'cancelling' ? (run?.ratePerSec ?? 0) : 0;
  const finished = isFinished(state);
  return {
    id,
    kind,
    state,
    request: request?.request ?? null,
    submittedAtMs: request?.submittedAtMs ?? null,
    submittedBy: request?.submittedBy ?? null,
    startedAtMs: run?.firstStartedAtMs ?? null,
    finishedAtMs: finished ? (run?.updatedAtMs ?? cancel?.requestedAtMs ?? null) : null,
    attempt: run?.attempt ?? 0,
    runnerId: run?.runnerId ?? null,
    progress: {
      done,
      total,
      percent: total === 0 ? (state === 'succeeded' ? 100 : 0) : Math.floor((1000 * done) / total) / 10,
      ratePerSec: Math.round(ratePerSec),
      etaSeconds: !finished && ratePerSec > 0 ? Math.ceil((total - done) / ratePerSec) : null,
    },
    counters: run?.counters ?? emptyCounters(),
    notes: run?.notes ?? [],
    error: run?.error ?? null,
    cancelRequestedAtMs: cancel?.requestedAtMs ?? null,
  };
}
