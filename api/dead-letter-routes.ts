/**
 * Dead letters for operators: GET /v1/dead-letters lists them with their headers (filter by
 * reason, device, failure time; paged; each request examines a bounded number of records and
 * returns a cursor to go on), GET /v1/dead-letters/summary counts them by reason and device.
 * Scope `read`. Answers are not cached: the topic grows and re-drives change what matters.
 */
import type { FastifyInstance } from 'fastify';
import type { ProblemItem } from './problem.ts';
import { problem } from './problem.ts';
import type { RouteModule } from './api-routes.ts';
import { deadLetterView, decodeDeadLetterCursor, encodeDeadLetterCursor, type DeadLetterCursor, type DeadLetterFilter } from './dead-letter-page.ts';
import type { DeadLetterReader } from './dead-letter-reader.ts';
import { parseTimeParam, timeParamFormat } from './time-param.ts';

export interface DeadLetterRouteDeps {
  reader: DeadLetterReader;
  now?: () => number;
}

const maxLimit = 500;
const nullableString = { type: ['string', 'null'] } as const;
const deadLetterSchema = {
  type: 'object',
  required: ['partition', 'offset', 'time', 'deviceId', 'reason', 'error', 'failedAt', 'source', 'headers', 'value'],
  properties: {
    partition: { type: 'integer' },
    offset: { type: 'string' },
    time: { type: 'string', description: 'when the enricher published the dead letter, RFC 3339' },
    deviceId: nullableString,
    reason: nullableString,
    error: nullableString,
    failedAt: nullableString,
    source: {
      type: 'object',
      required: ['topic', 'partition', 'offset', 'consumerGroup'],
      properties: { topic: nullableString, partition: { type: ['integer', 'null'] }, offset: nullableString, consumerGroup: nullableString },
    },
    headers: { type: 'object', additionalProperties: { type: 'string' } },
    value: {
      type: ['object', 'null'],
      required: ['encoding', 'data'],
      properties: { encoding: { type: 'string', enum: ['utf8', 'base64'] }, data: { type: 'string' } },
    },
  },
} as const;

const noStore = 'private, no-store';

export function deadLetterRoutes(deps: DeadLetterRouteDeps): RouteModule {
  const now = deps.now ?? Date.now;
  const timeOf = (name: 'from' | 'to', text: string | undefined, nowMs: number, problems: ProblemItem[]): number | undefined => {
    if (text === undefined) return undefined;
    const parsed = parseTimeParam(text, nowMs);
    if (parsed.ok) return parsed.value;
    problems.push({ pointer: `/query/${name}`, detail: parsed.detail ?? parsed.reason });
    return undefined;
  };
  const refuse = (problems: ProblemItem[]): never => {
    throw problem({ status: 400, kind: 'invalid_request', title: 'The request is not valid', detail: problems.map((item) => item.detail).join('; '), problems });
  };

  return (app: FastifyInstance) => {
    app.get(
      '/dead-letters',
      {
        config: { scope: 'read' },
        schema: {
          summary: 'Dead letters with their headers, oldest first, filtered and paged',
          description:
            `device is the record key; from and to bound the failure time (dlq.failed_at_ms): ${timeParamFormat}. ` +
            'Each request examines a bounded number of records: a page may hold fewer than `limit` even when more match further on. Follow `next` until `complete` is true.',
          tags: ['dead letters'],
          querystring: {
            type: 'object',
            additionalProperties: false,
            properties: {
              reason: { type: 'string', minLength: 1, maxLength: 128 },
              device: { type: 'string', pattern: '^[A-Za-z0-9_.-]{1,64}$' },
              from: { type: 'string', maxLength: 64 },
              to: { type: 'string', maxLength: 64 },
              after: { type: 'string', maxLength: 8192, description: '`next` of the previous page' },
              limit: { type: 'integer', minimum: 1, maximum: maxLimit, default: 50 },
            },
          },
          response: {
            200: {
              type: 'object',
              required: ['items', 'next', 'nextUrl', 'complete', 'scanned'],
              properties: {
                items: { type: 'array', items: deadLetterSchema },
                next: { type: 'string', description: 'the cursor to go on from (also once complete: new dead letters appear after it)' },
                nextUrl: { type: 'string' },
                complete: { type: 'boolean', description: 'every dead letter there was when the request began has been examined' },
                scanned: { type: 'integer', description: 'records this request examined' },
              },
            },
          },
        },
      },
      async (request, reply) => {
        const query = request.query as { reason?: string; device?: string; from?: string; to?: string; after?: string; limit: number };
        const nowMs = now();
        const problems: ProblemItem[] = [];
        const fromMs = timeOf('from', query.from, nowMs, problems);
        const toMs = timeOf('to', query.to, nowMs, problems);
        if (fromMs !== undefined && toMs !== undefined && fromMs >= toMs) problems.push({ pointer: '/query/to', detail: 'must be later than from' });
        let after: DeadLetterCursor | null = null;
        if (query.after !== undefined) {
          const decoded = decodeDeadLetterCursor(query.after);
          if (decoded.ok) after = decoded.value;
          else problems.push({ pointer: '/query/after', detail: decoded.detail ?? decoded.reason });
        }
        if (problems.length > 0) refuse(problems);
        const filter: DeadLetterFilter = { reason: query.reason, deviceId: query.device, fromMs, toMs };
        const listing = await deps.reader.list(filter, after, query.limit);
        const next = encodeDeadLetterCursor(listing.cursor);
        const params = new URLSearchParams(Object.entries({ reason: query.reason, device: query.device, from: query.from, to: query.to }).filter((entry): entry is [string, string] => entry[1] !== undefined));
        params.set('after', next);
        params.set('limit', String(query.limit));
        const nextUrl = `${request.url.split('?')[0] ?? ''}?${params.toString()}`;
        void reply.header('cache-control', noStore);
        return { items: listing.records.map(deadLetterView), next, nextUrl, complete: listing.complete, scanned: listing.scanned };
      },
    );

    app.get(
      '/dead-letters/summary',
      {
        config: { scope: 'read' },
        schema: {
          summary: 'Dead letters counted by reason, and the devices with the most',
          description: `Counts the newest dead letters (a bounded number; complete says whether that was all of them), failed since from when given: ${timeParamFormat}.`,
          tags: ['dead letters'],
          querystring: { type: 'object', additionalProperties: false, properties: { from: { type: 'string', maxLength: 64 } } },
          response: {
            200: {
              type: 'object',
              required: ['scanned', 'total', 'complete', 'reasons', 'topDevices', 'oldest', 'newest'],
              properties: {
                scanned: { type: 'integer', description: 'dead letters counted' },
                total: { type: 'integer', description: 'dead letters the topic holds (since from)' },
                complete: { type: 'boolean' },
                reasons: { type: 'array', items: { type: 'object', required: ['reason', 'count'], properties: { reason: { type: 'string' }, count: { type: 'integer' } } } },
                topDevices: { type: 'array', items: { type: 'object', required: ['deviceId', 'count'], properties: { deviceId: { type: 'string' }, count: { type: 'integer' } } } },
                oldest: nullableString,
                newest: nullableString,
              },
            },
          },
        },
      },
      async (request, reply) => {
        const query = request.query as { from?: string };
        const problems: ProblemItem[] = [];
        const fromMs = timeOf('from', query.from, now(), problems);
        if (problems.length > 0) refuse(problems);
        void reply.header('cache-control', noStore);
        return deps.reader.summary(fromMs);
      },
    );
  };
}
