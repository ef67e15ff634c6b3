import { describe, expect, it } from 'vitest';
import { emptyCounters, jobWireVersion, type JobSubmission, type RunFact } from '../core/job.ts';
import { jobView } from './job-view.ts';

const request: JobSubmission = {
  v: jobWireVersion,
  jobId: 'j1',
  request: { kind: 'replay', partitions: 'all', from: { kind: 'earliest' }, to: { kind: 'latest' }, maxRatePerSec: 0 },
  submittedAtMs: 1000,
  submittedBy: 'ops',
  requestHash: 'a'.repeat(64),
};

function run(overrides: Partial<RunFact> = {}): RunFact {
  return {
    v: jobWireVersion,
    jobId: 'j1',
    kind: 'replay',
    state: 'running',
    attempt: 1,
    runnerId: 'r1',
    firstStartedAtMs: 2000,
    startedAtMs: 2000,
    updatedAtMs: 3000,
    partitions: [
      { partition: 0, fromOffset: '0', toOffset: '100', nextOffset: '50' },
      { partition: 1, fromOffset: '10', toOffset: '110', nextOffset: '10' },
    ],
    counters: emptyCounters(),
    ratePerSec: 25,
    notes: [],
    ...overrides,
  };
}

const cancel = { v: jobWireVersion, jobId: 'j1', requestedAtMs: 2500, requestedBy: 'ops' } as const;

describe('jobView', () => {
  it('is accepted with only its request, and unknown with no facts', () => {
    expect(jobView('j1', { request })).toMatchObject({ state: 'accepted', kind: 'replay', attempt: 0, submittedBy: 'ops', progress: { done: 0, total: 0, percent: 0, etaSeconds: null } });
    expect(jobView('j1', {})).toBeNull();
  });

  it('shows progress, rate and ETA while running', () => {
    expect(jobView('j1', { request, run: run() })).toMatchObject({ state: 'running', startedAtMs: 2000, finishedAtMs: null, progress: { done: 50, total: 200, percent: 25, ratePerSec: 25, etaSeconds: 6 } });
  });

  it('is cancelling while the runner has not stopped, cancelled at once if no runner took it', () => {
    expect(jobView('j1', { request, run: run(), cancel })?.state).toBe('cancelling');
    expect(jobView('j1', { request, cancel })).toMatchObject({ state: 'cancelled', finishedAtMs: 2500 });
  });

  it("takes the runner's final state, with no rate or ETA", () => {
    const view = jobView('j1', { request, run: run({ state: 'failed', error: 'boom', updatedAtMs: 9000 }), cancel });
    expect(view).toMatchObject({ state: 'failed', error: 'boom', finishedAtMs: 9000, progress: { ratePerSec: 0, etaSeconds: null } });
  });

  it('is 100 % when a plan with nothing to do succeeded', () => {
    expect(jobView('j1', { request, run: run({ state: 'succeeded', partitions: [] }) })?.progress.percent).toBe(100);
  });

  it('still shows a job whose request fact is missing, from its run', () => {
    expect(jobView('j1', { run: run() })).toMatchObject({ state: 'running', request: null, submittedAtMs: null });
  });
});
