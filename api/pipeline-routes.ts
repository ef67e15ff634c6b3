/** GET /v1/pipeline/status: readiness and rates of the watched gateways and enrichers, and the enricher group's lag (api/pipeline-status.ts). */
// Route schemas carry OpenAPI's summary and tags (@fastify/swagger's additions to FastifySchema).
import type {} from '@fastify/swagger';
import type { RouteModule } from './api-routes.ts';
import type { PipelineStatusSnapshot } from './pipeline-status.ts';

const nullableString = { type: ['string', 'null'] } as const;

const service = {
  type: 'object',
  required: ['kind', 'url', 'reachable', 'ready', 'checks', 'error', 'rates', 'scrapedAt'],
  properties: {
    kind: { type: 'string', enum: ['gateway', 'enricher'] },
    url: { type: 'string', description: 'its health server' },
    reachable: { type: 'boolean', description: 'whether its last scrape answered' },
    ready: { type: ['boolean', 'null'], description: 'its /readyz verdict; null when unreachable' },
    checks: { type: ['object', 'null'], additionalProperties: { type: 'string' }, description: "its readiness checks: 'ok' or why not" },
    error: { ...nullableString, description: 'why it is unreachable' },
    rates: {
      type: ['object', 'null'],
      additionalProperties: { type: ['number', 'null'] },
      description: 'per second over the last scrape interval: gateway acceptedPerSec (publishes Kafka took); enricher recordsPerSec, rowsPerSec, deadLettersPerSec. Null until two scrapes answered',
    },
    scrapedAt: { ...nullableString, format: 'date-time' },
  },
} as const;

export function pipelineRoutes(deps: { snapshot: () => PipelineStatusSnapshot }): RouteModule {
  return (app) => {
    app.get(
      '/pipeline/status',
      {
        config: { scope: 'read' },
        schema: {
          summary: 'Readiness and rates of the gateways and enrichers, and the enricher group lag per partition',
          description: 'Answered from the last scrape (every TRIBUTARY_API_PIPELINE_SCRAPE_INTERVAL_MS); a service that does not answer is shown unreachable.',
          tags: ['pipeline'],
          response: {
            200: {
              type: 'object',
              required: ['scrapeIntervalMs', 'gateways', 'enrichers', 'lag'],
              properties: {
                scrapeIntervalMs: { type: 'integer' },
                gateways: { type: 'array', items: service },
                enrichers: { type: 'array', items: service },
                lag: {
                  type: ['object', 'null'],
                  required: ['groupId', 'topic', 'partitions', 'total', 'error', 'readAt'],
                  properties: {
                    groupId: { type: 'string' },
                    topic: { type: 'string' },
                    partitions: {
                      type: ['array', 'null'],
                      items: {
                        type: 'object',
                        required: ['partition', 'committed', 'end', 'lag'],
                        properties: { partition: { type: 'integer' }, committed: { ...nullableString, description: 'null: the group committed none' }, end: { type: 'string' }, lag: { type: 'integer' } },
                      },
                    },
                    total: { type: ['integer', 'null'] },
                    error: nullableString,
                    readAt: { ...nullableString, format: 'date-time' },
                  },
                },
              },
            },
          },
        },
      },
      (_request, reply) => {
        void reply.header('cache-control', 'no-store');
        return Promise.resolve(deps.snapshot());
      },
    );
  };
}
