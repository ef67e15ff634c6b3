/** Settings of the job runner an API process runs (bin/job-service.ts composes it). */
import { boolSetting, intSetting, stringSetting } from '../core/settings.ts';

export const jobSettings = {
  jobRunner: boolSetting({ name: 'TRIBUTARY_API_JOB_RUNNER', default: true, help: 'run a job runner in this API process (false: this replica only accepts and answers for jobs)' }),
  jobsGroup: stringSetting({ name: 'TRIBUTARY_API_JOBS_GROUP', default: 'tributary-jobs', help: "the job runners' consumer group: runners in one group share the jobs, each job runs once" }),
  jobConcurrency: intSetting({ name: 'TRIBUTARY_API_JOB_CONCURRENCY', default: 2, min: 1, max: 64, help: 'jobs one runner runs at once (each from its own partition of the jobs topic)' }),
  jobCheckpointMs: intSetting({ name: 'TRIBUTARY_API_JOB_CHECKPOINT_MS', default: 1000, min: 100, max: 60_000, help: "how often a running job's state (its checkpoint) is written: a job resumed by another runner redoes at most this much" }),
  jobProgressEventMs: intSetting({ name: 'TRIBUTARY_API_JOB_PROGRESS_EVENT_MS', default: 5000, min: 100, max: 600_000, help: 'how often a running job emits a progress event on the job-events topic' }),
} as const;
