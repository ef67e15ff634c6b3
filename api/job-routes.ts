/**
 * Jobs over HTTP: replays and dead-letter re-drives are answered 202 Accepted with
 * `Location: /v1/jobs/{id}` once Kafka holds the submission; the job is then followed with GET
 * (state, progress, rate, ETA, counters), listed, streamed as server-sent events, and cancelled
 * with DELETE. An `Idempotency-Key` header makes a retried POST return the same job (409 when the
 * key comes back with another request).
 */
import type { FastifyReply, FastifyRequest } from 'fastify';
// Route schemas carry OpenAPI's summary and tags (@fastify/swagger's additions to FastifySchema).
import type {} from '@fastify/swagger';
import { validateJobRequest, type JobRequest, type StoredBound } from '../core/job.ts';
import { parseOffsetBound } from '../core/offset-bound.ts';
import type { JobStore } from '../jobs/job-store.ts';
import type { JobSubmitter } from '../jobs/job-submitter.ts';
import { jobStates, type JobState, type JobView } from '../jobs/job-view.ts';
import type { RouteModule } from './api-routes.ts';
import { problem, type ProblemItem } from './problem.ts';

export interface JobRouteDeps {
  store: JobStore;
  submitter: JobSubmitter;
  /** The telemetry topic's partition count now (a replay of a partition that does not exist is refused). */
  telemetryPartitions: () => Promise<number>;
  now?: () => number;
}

const counters = {
  type: 'object',
  properties: {
    records: { type: 'integer' },
    rows: { type: 'integer' },
    refused: { type: 'object', additionalProperties: { type: 'integer' } },
    skipped: { type: 'integer' },
    missing: { type: 'integer' },
  },
} as const;

/** The job as every job route answers it. */
export const jobSchema = {
  $id: 'Job',
  type: 'object',
  properties: {
    id: { type: 'string' },
    kind: { type: 'string', enum: ['replay', 'redrive'] },
    state: { type: 'string', enum: [...jobStates] },
    request: { type: ['object', 'null'], additionalProperties: true },
    submittedAt: { type: ['string', 'null'], format: 'date-time' },
    submittedBy: { type: ['string', 'null'] },
    startedAt: { type: ['string', 'null'], format: 'date-time' },
    finishedAt: { type: ['string', 'null'], format: 'date-time' },
    attempt: { type: 'integer', description: 'runners that started it: > 1 when it was resumed from a checkpoint' },
    runner: { type: ['string', 'null'], description: 'the runner that holds (or last held) the job' },
    progress: {
      type: 'object',
      properties: {
        done: { type: 'integer', description: 'offsets of the plan done' },
        total: { type: 'integer' },
        percent: { type: 'number' },
        ratePerSec: { type: 'integer', description: 'records a second in the current attempt' },
        etaSeconds: { type: ['integer', 'null'] },
      },
    },
    counters,
    notes: { type: 'array', items: { type: 'string' } },
    error: { type: ['string', 'null'] },
    cancelRequestedAt: { type: ['string', 'null'], format: 'date-time' },
    links: { type: 'object', properties: { self: { type: 'string' } } },
  },
} as const;

function iso(ms: number | null): string | null {
  return ms === null ? null : new Date(ms).toISOString();
}

export function jobBody(view: JobView): Record<string, unknown> {
  return {
    id: view.id,
    kind: view.kind,
    state: view.state,
    request: view.request,
    submittedAt: iso(view.submittedAtMs),
    submittedBy: view.submittedBy,
    startedAt: iso(view.startedAtMs),
    finishedAt: iso(view.finishedAtMs),
    attempt: view.attempt,
    runner: view.runnerId,
    progress: view.progress,
    counters: view.counters,
    notes: view.notes,
    error: view.error,
    cancelRequestedAt: iso(view.cancelRequestedAtMs),
    links: { self: `/v1/jobs/${view.id}` },
  };
}

const idempotencyHeader = {
  type: 'object',
  properties: { 'idempotency-key': { type: 'string', minLength: 1, maxLength: 256, description: 'a retried POST with the same key returns the same job' } },
} as const;

const accepted = { 202: { $ref: 'Job#' } } as const;

const boundText = { type: 'string', minLength: 1, maxLength: 64, description: 'earliest | latest | an offset | an RFC 3339 time with zone | now-15m, now-2h, now-1d' } as const;
const maxRate = { type: 'integer', minimum: 0, maximum: 10_000_000, default: 0, description: 'records a second at most; 0 = no cap' } as const;

interface ReplayBody {
  partitions: 'all' | number[];
  from?: string;
  to?: string;
  maxRatePerSec?: number;
}

interface RedriveBody {
  reason?: string;
  deviceId?: string;
  from?: string;
  to?: string;
  maxRatePerSec?: number;
}

/** A bound as the job stores it; relative times are fixed now, so a retry means the same range. */
function storedBound(text: string, nowMs: number, pointer: string, problems: ProblemItem[]): StoredBound {
  const parsed = parseOffsetBound(text, nowMs);
  if (!parsed.ok) {
    problems.push({ pointer, detail: parsed.detail ?? parsed.reason });
    return { kind: 'earliest' };
  }
  const bound = parsed.value;
  return bound.kind === 'offset' ? { kind: 'offset', offset: bound.offset.toString() } : bound;
}

function timeOf(text: string | undefined, nowMs: number, pointer: string, problems: ProblemItem[]): number | undefined {
  if (text === undefined) return undefined;
  const bound = storedBound(text, nowMs, pointer, problems);
  if (bound.kind === 'time') return bound.timestampMs;
  if (problems.every((item) => item.pointer !== pointer)) problems.push({ pointer, detail: 'expected a time: RFC 3339 with zone, or now-15m, now-2h, now-1d' });
  return undefined;
}

function invalid(problems: readonly ProblemItem[]): never {
  throw problem({ status: 400, kind: 'invalid_request', title: 'the request is invalid', detail: problems.map((item) => `${item.pointer}: ${item.detail}`).join('; '), problems });
}

export function jobRoutes(deps: JobRouteDeps): RouteModule {
  const now = deps.now ?? Date.now;

  const submit = async (request: FastifyRequest, reply: FastifyReply, jobRequest: JobRequest): Promise<Record<string, unknown>> => {
    const checked = validateJobRequest(jobRequest);
    if (!checked.ok) invalid([{ pointer: '/body', detail: checked.detail ?? checked.reason }]);
    const principal = request.principal;
    const key = request.headers['idempotency-key'];
    const submitted = await deps.submitter.submit({
      request: checked.value,
      submittedBy: principal?.name ?? 'unknown',
      ...(typeof key === 'string' && { idempotency: { namespace: principal?.tokenId ?? '', key } }),
    });
    if (submitted.outcome === 'conflict') {
      throw problem({
        status: 409,
        kind: 'idempotency_conflict',
        title: 'the idempotency key was used for another request',
        detail: `Idempotency-Key ${JSON.stringify(key)} already named job ${submitted.job.id} with a different request`,
        extensions: { job: `/v1/jobs/${submitted.job.id}` },
      });
    }
    void reply.code(202).header('location', `/v1/jobs/${submitted.job.id}`);
    return jobBody(submitted.job);
  };

  return (app) => {
    app.addSchema(jobSchema);

    app.post<{ Body: ReplayBody }>(
      '/replays',
      {
        config: { scope: 'operate' },
        schema: {
          summary: 'Replay partition ranges of the telemetry topic into QuestDB (a job)',
          tags: ['jobs'],
          headers: idempotencyHeader,
          body: {
            type: 'object',
            additionalProperties: false,
            required: ['partitions'],
            properties: {
              partitions: { anyOf: [{ type: 'string', const: 'all' }, { type: 'array', minItems: 1, maxItems: 10_000, uniqueItems: true, items: { type: 'integer', minimum: 0 } }] },
              from: { ...boundText, default: 'earliest' },
              to: { ...boundText, default: 'latest' },
              maxRatePerSec: maxRate,
            },
          },
          response: accepted,
        },
      },
      async (request, reply) => {
        const body = request.body;
        const nowMs = now();
        const problems: ProblemItem[] = [];
        const from = storedBound(body.from ?? 'earliest', nowMs, '/body/from', problems);
        const to = storedBound(body.to ?? 'latest', nowMs, '/body/to', problems);
        if (from.kind === 'latest') problems.push({ pointer: '/body/from', detail: 'from latest would replay nothing' });
        if (to.kind === 'earliest') problems.push({ pointer: '/body/to', detail: 'to earliest would replay nothing' });
        if (body.partitions !== 'all') {
          const count = await deps.telemetryPartitions();
          const unknown = body.partitions.filter((partition) => partition >= count);
          if (unknown.length > 0) problems.push({ pointer: '/body/partitions', detail: `the telemetry topic has partitions 0-${count - 1}; no partition ${unknown.join(', ')}` });
        }
        if (problems.length > 0) invalid(problems);
        return submit(request, reply, { kind: 'replay', partitions: body.partitions === 'all' ? 'all' : [...body.partitions].sort((a, b) => a - b), from, to, maxRatePerSec: body.maxRatePerSec ?? 0 });
      },
    );

    app.post<{ Body: RedriveBody }>(
      '/dead-letters/redrive',
      {
        config: { scope: 'operate' },
        schema: {
          summary: 'Send matching dead letters back through decode and enrichment into QuestDB (a job)',
          tags: ['jobs', 'dead letters'],
          headers: idempotencyHeader,
          body: {
            type: 'object',
            additionalProperties: false,
            properties: {
              reason: { type: 'string', minLength: 1, maxLength: 128, description: 'the dlq.reason of the dead letters to send back' },
              deviceId: { type: 'string', pattern: '^[A-Za-z0-9_.-]{1,64}$' },
              from: { ...boundText, description: 'dead-lettered at or after: RFC 3339 with zone, or now-2h' },
              to: { ...boundText, description: 'dead-lettered before' },
              maxRatePerSec: maxRate,
            },
          },
          response: accepted,
        },
      },
      async (request, reply) => {
        const body = request.body;
        const nowMs = now();
        const problems: ProblemItem[] = [];
        const fromMs = timeOf(body.from, nowMs, '/body/from', problems);
        const toMs = timeOf(body.to, nowMs, '/body/to', problems);
        if (fromMs !== undefined && toMs !== undefined && fromMs >= toMs) problems.push({ pointer: '/body/to', detail: 'must be after from' });
        if (problems.length > 0) invalid(problems);
        const filter = {
          ...(body.reason !== undefined && { reason: body.reason }),
          ...(body.deviceId !== undefined && { deviceId: body.deviceId }),
          ...(fromMs !== undefined && { fromMs }),
          ...(toMs !== undefined && { toMs }),
        };
        return submit(request, reply, { kind: 'redrive', filter, maxRatePerSec: body.maxRatePerSec ?? 0 });
      },
    );

    app.get<{ Params: { id: string } }>(
      '/jobs/:id',
      {
        config: { scope: 'read' },
        schema: { summary: 'A job: state, progress, rate, ETA and counters', tags: ['jobs'], params: { type: 'object', properties: { id: { type: 'string', maxLength: 64 } }, required: ['id'] }, response: { 200: { $ref: 'Job#' } } },
      },
      (request) => {
        const job = deps.store.get(request.params.id);
        if (job === null) return Promise.reject(problem({ status: 404, kind: 'unknown_job', title: 'no such job', detail: `no job ${JSON.stringify(request.params.id)}` }));
        return Promise.resolve(jobBody(job));
      },
    );

    app.get<{ Querystring: { state?: JobState; limit: number } }>(
      '/jobs',
      {
        config: { scope: 'read' },
        schema: {
          summary: 'Jobs, newest first',
          tags: ['jobs'],
          querystring: { type: 'object', additionalProperties: false, properties: { state: { type: 'string', enum: [...jobStates] }, limit: { type: 'integer', minimum: 1, maximum: 1000, default: 100 } } },
          response: { 200: { type: 'object', properties: { items: { type: 'array', items: { $ref: 'Job#' } } } } },
        },
      },
      (request) => Promise.resolve({ items: deps.store.list(request.query.state === undefined ? {} : { state: request.query.state }).slice(0, request.query.limit).map(jobBody) }),
    );

    app.delete<{ Params: { id: string } }>(
      '/jobs/:id',
      {
        config: { scope: 'operate' },
        schema: { summary: 'Cancel a job: it stops after the write in progress', tags: ['jobs'], params: { type: 'object', properties: { id: { type: 'string', maxLength: 64 } }, required: ['id'] }, response: accepted },
      },
      async (request, reply) => {
        const cancelled = await deps.submitter.cancel(request.params.id, request.principal?.name ?? 'unknown');
        if (cancelled.outcome === 'unknown') throw problem({ status: 404, kind: 'unknown_job', title: 'no such job', detail: `no job ${JSON.stringify(request.params.id)}` });
        if (cancelled.outcome === 'finished') throw problem({ status: 409, kind: 'job_finished', title: 'the job has already ended', detail: `job ${cancelled.job.id} is ${cancelled.job.state}` });
        void reply.code(202).header('location', `/v1/jobs/${cancelled.job.id}`);
        return jobBody(cancelled.job);
      },
    );

    app.get(
      '/jobs/stream',
      {
        config: { scope: 'read' },
        schema: { summary: 'Server-sent events: every job as it changes (event `job`), at most every 250 ms per job', tags: ['jobs'], produces: ['text/event-stream'] },
      },
      (request, reply) => {
        reply.hijack();
        const raw = reply.raw;
        raw.writeHead(200, { 'content-type': 'text/event-stream', 'cache-control': 'no-store', connection: 'keep-alive' });
        const pending = new Set<string>();
        const flush = (): void => {
          for (const id of pending) {
            const job = deps.store.get(id);
            if (job !== null) raw.write(`event: job\ndata: ${JSON.stringify(jobBody(job))}\n\n`);
          }
          pending.clear();
        };
        for (const job of deps.store.list().slice(0, 100)) raw.write(`event: job\ndata: ${JSON.stringify(jobBody(job))}\n\n`);
        const timer = setInterval(() => pending.size > 0 && flush(), 250);
        // A comment line now and then keeps proxies from closing an idle stream.
        const keepAlive = setInterval(() => raw.write(': keep-alive\n\n'), 15_000);
        const unsubscribe = deps.store.onChange((id) => pending.add(id));
        request.raw.on('close', () => {
          clearInterval(timer);
          clearInterval(keepAlive);
          unsubscribe();
        });
      },
    );
  };
}
