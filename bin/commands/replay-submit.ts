/**
 * `tributary replay --submit`: the replay handed to the API's job runners as a job instead of run
 * here; with `--wait`, followed to its end through the job-state topic.
 */
import type { JobRequest, StoredBound } from '../../core/job.ts';
import type { KafkaClientFactory } from '../../core/kafka-port.ts';
import type { Logger } from '../../core/logger.ts';
import type { OffsetBound } from '../../core/offset-bound.ts';
import { topicSpecs } from '../../core/topic-specs.ts';
import { createJobStore } from '../../jobs/job-store.ts';
import { createJobSubmitter } from '../../jobs/job-submitter.ts';
import { isFinished, type JobView } from '../../jobs/job-view.ts';

export interface SubmitReplayOptions {
  kafka: KafkaClientFactory;
  clientId: string;
  topics: { jobs: string; jobState: string; jobEvents: string };
  layout: { partitions: number; replicationFactor: number };
  partitions: 'all' | number[];
  from: OffsetBound;
  to: OffsetBound;
  maxRatePerSec: number;
  idempotencyKey?: string;
  wait: boolean;
  json: boolean;
  signal: AbortSignal;
  logger: Logger;
}

function stored(bound: OffsetBound): StoredBound {
  return bound.kind === 'offset' ? { kind: 'offset', offset: bound.offset.toString() } : bound;
}

function describeJob(job: JobView): string {
  const { done, total, percent, ratePerSec, etaSeconds } = job.progress;
  const eta = etaSeconds === null ? '' : `, ETA ${etaSeconds} s`;
  return `job ${job.id}: ${job.state}, ${done} of ${total} records (${percent} %), ${ratePerSec} records/s${eta}${job.error === null ? '' : `: ${job.error}`}\n`;
}

/** Submits the replay job; returns the exit status (with --wait: 0 only when it succeeded). */
export async function submitReplay(options: SubmitReplayOptions): Promise<number> {
  const { kafka, clientId, topics } = options;
  const admin = kafka.admin({ clientId });
  try {
    await admin.ensureTopics(topicSpecs(topics, options.layout));
  } finally {
    await admin.close();
  }
  const producer = kafka.producer({ clientId, sendTimeoutMs: 10_000, lingerMs: 0, maxBatchRecords: 10, compression: 'none' });
  const store = createJobStore({ follower: kafka.follower({ clientId, topic: topics.jobState }), logger: options.logger });
  try {
    await producer.start();
    await store.start();
    const request: JobRequest = { kind: 'replay', partitions: options.partitions, from: stored(options.from), to: stored(options.to), maxRatePerSec: options.maxRatePerSec };
    const submitted = await createJobSubmitter({ producer, store, topics }).submit({
      request,
      submittedBy: `cli:${process.env.USER ?? 'unknown'}`,
      ...(options.idempotencyKey !== undefined && { idempotency: { namespace: 'cli', key: options.idempotencyKey } }),
    });
    if (submitted.outcome === 'conflict') {
      process.stderr.write(`replay: --idempotency-key ${options.idempotencyKey} already named job ${submitted.job.id} with another request\n`);
      return 1;
    }
    process.stderr.write(`replay: ${submitted.outcome === 'created' ? 'submitted' : 'already submitted as'} job ${submitted.job.id} (GET /v1/jobs/${submitted.job.id} on the API)\n`);
    let job = submitted.job;
    if (options.wait) {
      job = await new Promise<JobView>((resolve) => {
        let last = '';
        const check = (): void => {
          const now = store.get(job.id) ?? job;
          const line = describeJob(now);
          if (line !== last) process.stderr.write(line);
          last = line;
          if (isFinished(now.state) || options.signal.aborted) {
            unsubscribe();
            clearInterval(timer);
            resolve(now);
          }
        };
        const unsubscribe = store.onChange((id) => id === job.id && check());
        // Also on a timer: the abort of the signal ends the wait.
        const timer = setInterval(check, 1000);
      });
    }
    if (options.json) process.stdout.write(`${JSON.stringify(job, null, 2)}\n`);
    else process.stdout.write(`${job.id}\n`);
    return options.wait && job.state !== 'succeeded' ? 1 : 0;
  } finally {
    await store.stop();
    await producer.stop();
  }
}
