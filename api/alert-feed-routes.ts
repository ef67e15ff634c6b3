/**
 * GET /v1/feeds/alerts: the alerts topic as an HTTP feed for consumers outside the Kafka network.
 * Pages come in feed order; a full page after a cursor never changes, so it is cacheable for a year;
 * the last, partial page (and the first page, which moves as retention deletes old alerts) only
 * briefly. Follow `next` to resume: no alert is skipped or repeated (docs/adr/0016-alerts-feed.md).
 */
import type { FastifyInstance } from 'fastify';
import type { RouteModule } from './api-routes.ts';
import type { AlertFeed } from './alert-feed.ts';
import { decodeFeedCursor, encodeFeedCursor, type FeedRecord } from './feed-page.ts';
import { conditionalGet } from './http-cache.ts';
import { problem } from './problem.ts';

export interface AlertFeedRouteDeps {
  feed: AlertFeed;
  /** The largest `limit` a client may ask for. */
  maxPageSize: number;
}

const defaultPageSize = 100;
/** A partial page grows as alerts pass the watermark: clients and caches come back soon. */
const partialPageMaxAgeSeconds = 5;

const utf8 = new TextDecoder('utf-8', { fatal: true });

/** The alert as the enricher wrote it (JSON, enrich/alert-rules.ts AlertEvent), or null when it is not JSON. */
function alertOf(value: Buffer | null): unknown {
  if (value === null) return null;
  try {
    const parsed: unknown = JSON.parse(utf8.decode(value));
    return typeof parsed === 'object' && parsed !== null && !Array.isArray(parsed) ? parsed : null;
  } catch {
    return null;
  }
}

function item(record: FeedRecord): Record<string, unknown> {
  return {
    id: encodeFeedCursor(record),
    time: new Date(record.timestampMs).toISOString(),
    partition: record.partition,
    offset: record.offset.toString(),
    deviceId: record.key === null ? null : record.key.toString('utf8'),
    alert: alertOf(record.value),
  };
}

export function alertFeedRoutes(deps: AlertFeedRouteDeps): RouteModule {
  return (app: FastifyInstance) => {
    app.get(
      '/feeds/alerts',
      {
        config: { scope: 'read' },
        onSend: conditionalGet,
        schema: {
          summary: 'The alerts, in order, a page at a time',
          description:
            'Alerts ordered by broker time, partition and offset, only those older than a few seconds. Start without `after`, then follow `next`. ' +
            'A full page after a cursor never changes (Cache-Control: immutable); the last page is partial and changes as alerts arrive.',
          tags: ['feeds'],
          querystring: {
            type: 'object',
            additionalProperties: false,
            properties: {
              after: { type: 'string', maxLength: 128, description: 'a cursor: `next` of the previous page, or an item id' },
              limit: { type: 'integer', minimum: 1, maximum: deps.maxPageSize, default: Math.min(defaultPageSize, deps.maxPageSize) },
            },
          },
          response: {
            200: {
              type: 'object',
              required: ['items', 'next', 'nextUrl', 'full'],
              properties: {
                items: {
                  type: 'array',
                  items: {
                    type: 'object',
                    required: ['id', 'time', 'partition', 'offset', 'deviceId', 'alert'],
                    properties: {
                      id: { type: 'string', description: "this alert's cursor: the feed resumes after it" },
                      time: { type: 'string', description: 'when the broker appended it, RFC 3339' },
                      partition: { type: 'integer' },
                      offset: { type: 'string' },
                      deviceId: { type: ['string', 'null'] },
                      alert: { type: ['object', 'null'], additionalProperties: true, description: 'the alert event as the enricher published it' },
                    },
                  },
                },
                next: { type: ['string', 'null'], description: 'the cursor to ask for the following page with; null while the feed is empty' },
                nextUrl: { type: 'string' },
                full: { type: 'boolean', description: 'true when the page holds `limit` alerts: it will never change' },
              },
            },
          },
        },
      },
      async (request, reply) => {
        const query = request.query as { after?: string; limit: number };
        let after = null;
        if (query.after !== undefined) {
          const decoded = decodeFeedCursor(query.after);
          if (!decoded.ok) {
            throw problem({ status: 400, kind: 'invalid_request', title: 'The request is not valid', detail: 'after: not a cursor of this feed', problems: [{ pointer: '/query/after', detail: decoded.detail ?? decoded.reason }] });
          }
          after = decoded.value;
        }
        const page = await deps.feed.page(after, query.limit);
        const next = page.records.length > 0 ? encodeFeedCursor(page.records.at(-1)!) : (query.after ?? null);
        const nextUrl = `${request.url.split('?')[0] ?? ''}?${new URLSearchParams({ ...(next !== null && { after: next }), limit: String(query.limit) }).toString()}`;
        const final = page.full && after !== null;
        void reply.header('cache-control', final ? 'public, max-age=31536000, immutable' : `public, max-age=${partialPageMaxAgeSeconds}`);
        void reply.header('link', `<${nextUrl}>; rel="next"`);
        return { items: page.records.map(item), next, nextUrl, full: page.full };
      },
    );
  };
}
