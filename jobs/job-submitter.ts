/**
 * Submits and cancels jobs. A submission is answered only once Kafka holds it (acks=all): the
 * submission on the jobs topic, its `request:` fact and its `accepted` event.
 *
 * Idempotency: with a key, the job id is derived from (namespace, key), so a retried submission —
 * to this replica or another — names the same job. The same request again returns that job; another
 * request under the same key is a conflict. A retry that finds the job still waiting for a runner
 * sends the submission again, in case the first attempt failed halfway; runners skip a job that
 * already started or ended, so that costs nothing.
 */
import { createHash, randomUUID } from 'node:crypto';
import { encodeJobEvent, encodeJobFact, encodeJobSubmission, jobFactKey, jobWireVersion, type CancelFact, type JobRequest, type JobSubmission } from '../core/job.ts';
import type { KafkaProducerPort, OutgoingRecord } from '../core/kafka-port.ts';
import type { JobStore } from './job-store.ts';
import { isFinished, type JobView } from './job-view.ts';

export type SubmitOutcome = { outcome: 'created' | 'existing'; job: JobView } | { outcome: 'conflict'; job: JobView };
export type CancelOutcome = { outcome: 'requested'; job: JobView } | { outcome: 'finished'; job: JobView } | { outcome: 'unknown' };

export interface JobSubmitter {
  submit(input: { request: JobRequest; submittedBy: string; idempotency?: { namespace: string; key: string } }): Promise<SubmitOutcome>;
  cancel(jobId: string, requestedBy: string): Promise<CancelOutcome>;
}

/** JSON with object keys sorted, so equal requests hash equally whatever order their fields came in. */
function canonicalJson(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(canonicalJson).join(',')}]`;
  if (value !== null && typeof value === 'object') {
    const entries = Object.entries(value as Record<string, unknown>).filter(([, item]) => item !== undefined);
    return `{${entries
      .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
      .map(([key, item]) => `${JSON.stringify(key)}:${canonicalJson(item)}`)
      .join(',')}}`;
  }
  return JSON.stringify(value);
}

export function requestHash(request: JobRequest): string {
  return createHash('sha256').update(canonicalJson(request)).digest('hex');
}

/** A job id: derived from the idempotency key when there is one, random otherwise. */
export function jobIdFor(idempotency?: { namespace: string; key: string }): string {
  if (idempotency === undefined) return `j${randomUUID().replaceAll('-', '')}`;
  return `j${createHash('sha256').update(`${idempotency.namespace}\0${idempotency.key}`).digest('hex').slice(0, 32)}`;
}

export function createJobSubmitter(options: { producer: KafkaProducerPort; store: JobStore; topics: { jobs: string; jobState: string; jobEvents: string }; now?: () => number }): JobSubmitter {
  const { producer, store, topics } = options;
  const now = options.now ?? Date.now;

  const submissionRecord = (submission: JobSubmission): OutgoingRecord => ({ topic: topics.jobs, key: submission.jobId, value: encodeJobSubmission(submission), headers: {} });

  return {
    async submit({ request, submittedBy, idempotency }) {
      const jobId = jobIdFor(idempotency);
      const hash = requestHash(request);
      const known = store.facts(jobId)?.request;
      if (known !== undefined) {
        const job = store.get(jobId)!;
        if (known.requestHash !== hash) return { outcome: 'conflict', job };
        if (job.state === 'accepted') await producer.send(submissionRecord(known));
        return { outcome: 'existing', job };
      }
      const submission: JobSubmission = {
        v: jobWireVersion,
        jobId,
        request,
        submittedAtMs: now(),
        submittedBy,
        ...(idempotency !== undefined && { idempotencyKey: idempotency.key }),
        requestHash: hash,
      };
      await producer.sendMany([
        submissionRecord(submission),
        { topic: topics.jobState, key: jobFactKey('request', jobId), value: encodeJobFact({ type: 'request', value: submission }), headers: {} },
        { topic: topics.jobEvents, key: jobId, value: encodeJobEvent({ v: jobWireVersion, type: 'accepted', jobId, kind: request.kind, atMs: submission.submittedAtMs }), headers: {} },
      ]);
      store.apply({ type: 'request', value: submission });
      return { outcome: 'created', job: store.get(jobId)! };
    },
    async cancel(jobId, requestedBy) {
      const job = store.get(jobId);
      if (job === null) return { outcome: 'unknown' };
      if (isFinished(job.state)) return { outcome: 'finished', job };
      if (job.cancelRequestedAtMs === null) {
        const fact: CancelFact = { v: jobWireVersion, jobId, requestedAtMs: now(), requestedBy };
        await producer.send({ topic: topics.jobState, key: jobFactKey('cancel', jobId), value: encodeJobFact({ type: 'cancel', value: fact }), headers: {} });
        store.apply({ type: 'cancel', value: fact });
      }
      return { outcome: 'requested', job: store.get(jobId)! };
    },
  };
}
