/**
 * Every job this process knows of, folded from the compacted job-state topic that it follows from
 * the beginning (like the device registry). Any API replica answers for any job; a runner asks the
 * store to catch up with the topic's end before it decides whether a job still needs running.
 *
 * Facts this process writes are applied at once (`apply`), so a GET right after a POST answers
 * on the same replica without waiting for the topic to come round.
 */
import { decodeJobFact, type JobFact } from '../core/job.ts';
import type { ConsumedRecord, TopicFollowerPort } from '../core/kafka-port.ts';
import type { Logger } from '../core/logger.ts';
import { sleep } from '../core/retry.ts';
import { jobView, type JobFacts, type JobState, type JobView } from './job-view.ts';

export interface JobStore {
  start(): Promise<void>;
  stop(): Promise<void>;
  get(id: string): JobView | null;
  facts(id: string): JobFacts | null;
  /** Newest submission first. */
  list(filter?: { state?: JobState }): JobView[];
  apply(fact: JobFact): void;
  /** Waits until every record below `endOffset` of the state topic was read (or the signal ends the wait). */
  readUpTo(endOffset: bigint, signal: AbortSignal): Promise<void>;
  /** Called with the job's id whenever one of its facts changes; returns an unsubscribe. */
  onChange(listener: (id: string) => void): () => void;
}

export function createJobStore(options: { follower: TopicFollowerPort; logger: Logger }): JobStore {
  const logger = options.logger.child({ component: 'job-store' });
  const jobs = new Map<string, JobFacts>();
  const listeners = new Set<(id: string) => void>();
  let position = 0n;
  let undecodable = 0;

  const apply = (fact: JobFact): void => {
    const id = fact.value.jobId;
    const facts = jobs.get(id) ?? {};
    if (fact.type === 'run') {
      // A write from a runner that lost the job (a zombie) must not undo a later attempt's state.
      const known = facts.run;
      if (known !== undefined && (known.attempt > fact.value.attempt || (known.attempt === fact.value.attempt && known.updatedAtMs > fact.value.updatedAtMs))) return;
    }
    jobs.set(id, { ...facts, [fact.type]: fact.value });
    for (const listener of listeners) listener(id);
  };

  const onRecord = (record: ConsumedRecord): void => {
    position = BigInt(record.offset) + 1n;
    const key = record.key?.toString('utf8') ?? '';
    const decoded = decodeJobFact(key, record.value);
    if (!decoded.ok) {
      undecodable += 1;
      if (undecodable <= 10) logger.warn({ key, offset: record.offset, reason: decoded.reason, detail: decoded.detail }, 'skipping a record of the job-state topic that is not a job fact');
      return;
    }
    if (decoded.value.type === 'tombstone') {
      const [type, id] = [key.slice(0, key.indexOf(':')), key.slice(key.indexOf(':') + 1)];
      const facts = jobs.get(id);
      if (facts && (type === 'request' || type === 'run' || type === 'cancel')) {
        delete facts[type];
        if (Object.keys(facts).length === 0) jobs.delete(id);
      }
      return;
    }
    apply(decoded.value);
  };

  return {
    async start() {
      await options.follower.start(onRecord);
      await options.follower.caughtUp();
    },
    stop: () => options.follower.stop(),
    get: (id) => {
      const facts = jobs.get(id);
      return facts === undefined ? null : jobView(id, facts);
    },
    facts: (id) => jobs.get(id) ?? null,
    list(filter = {}) {
      const views: JobView[] = [];
      for (const [id, facts] of jobs) {
        const view = jobView(id, facts);
        if (view !== null && (filter.state === undefined || view.state === filter.state)) views.push(view);
      }
      return views.sort((a, b) => (b.submittedAtMs ?? b.startedAtMs ?? 0) - (a.submittedAtMs ?? a.startedAtMs ?? 0));
    },
    apply,
    async readUpTo(endOffset, signal) {
      while (position < endOffset && !signal.aborted) await sleep(20, signal).catch(() => undefined);
    },
    onChange(listener) {
      listeners.add(listener);
      return () => listeners.delete(listener);
    },
  };
}
