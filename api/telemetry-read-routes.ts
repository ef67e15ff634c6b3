/**
 * Reads for dashboards, answered from QuestDB: a device's latest value per metric, a downsampled
 * series, its completeness, and a site's latest values. Scope `read`. Every answer carries an ETag
 * (304 when the client has it) and a Cache-Control: a few seconds for what changes with each new
 * reading, longer for a series whose range lies wholly and absolutely in the past.
 */
import type { FastifyInstance } from 'fastify';
import { InfraError } from '../core/errors.ts';
import type { RouteModule } from './api-routes.ts';
import { conditionalGet } from './http-cache.ts';
import { problem } from './problem.ts';
import type { ReadStore } from './questdb-read-store.ts';
import { fillModes, fillSeries } from './series-fill.ts';
import {
  completenessQuery,
  deviceLatestQuery,
  parseSeriesRequest,
  seriesAggregates,
  seriesQuery,
  siteLatestQuery,
  type SeriesParams,
  type SqlQuery,
  type TelemetryTables,
} from './telemetry-queries.ts';
import { timeParamFormat } from './time-param.ts';

export interface TelemetryReadDeps {
  store: ReadStore;
  tables: TelemetryTables;
  /** Whether the registry knows the device; an unknown one is a 404. */
  deviceExists: (deviceId: string) => boolean;
  /** How far back the latest-value reads look. */
  latestLookbackMs: number;
  series: { maxPoints: number; maxRangeMs: number };
  now?: () => number;
}

/** Latest values change with every reading: a dashboard polling them may reuse an answer this long. */
const latestMaxAgeSeconds = 5;
/** A past range still changes while late readings arrive (device buffers, replays) for a while. */
const settledAfterMs = 10 * 60_000;
const settledMaxAgeSeconds = 300;

const idPattern = '^[A-Za-z0-9_.-]{1,64}$';
const deviceParams = { type: 'object', required: ['id'], properties: { id: { type: 'string', pattern: idPattern, description: 'device id' } } } as const;
const timestamp = { type: 'string', description: 'RFC 3339, UTC, microseconds' } as const;
const nullableNumber = { type: ['number', 'null'] } as const;

const completenessAbout =
  'Counted from each message\'s sequence number by the enricher that owns the device\'s partition, since it was assigned that partition: ' +
  'received = distinct messages, duplicates = messages seen twice, gaps = sequence numbers still missing (falls when a late one arrives), ' +
  'resets = device counter restarts. ratio = received / (received + gaps). ts is when the enricher took the snapshot.';

/** The enricher stores '' for a reading without a unit; the API says null. */
const unitOf = (unit: string | null): string | null => (unit === '' ? null : unit);

function unavailable(error: unknown): never {
  if (error instanceof InfraError) {
    throw problem({ status: 503, kind: 'read_store_unavailable', title: 'The telemetry store is not answering', detail: 'QuestDB did not answer; try again shortly', headers: { 'retry-after': '5' } });
  }
  throw error;
}

export function telemetryReadRoutes(deps: TelemetryReadDeps): RouteModule {
  const now = deps.now ?? Date.now;
  const run = <Row>(query: SqlQuery): Promise<Row[]> => deps.store.query<Row>(query).catch(unavailable);
  const knownDevice = (deviceId: string): void => {
    if (!deps.deviceExists(deviceId)) throw problem({ status: 404, kind: 'unknown_device', title: 'Unknown device', detail: `no device ${deviceId} in the registry` });
  };

  return (app: FastifyInstance) => {
    app.get(
      '/devices/:id/latest',
      {
        config: { scope: 'read' },
        onSend: conditionalGet,
        schema: {
          summary: "A device's latest reading of each metric",
          tags: ['telemetry'],
          params: deviceParams,
          response: {
            200: {
              type: 'object',
              required: ['deviceId', 'readings'],
              properties: {
                deviceId: { type: 'string' },
                readings: {
                  type: 'array',
                  items: {
                    type: 'object',
                    required: ['metric', 'value', 'unit', 'ts', 'site'],
                    properties: { metric: { type: 'string' }, value: nullableNumber, unit: { type: ['string', 'null'] }, ts: timestamp, site: { type: ['string', 'null'] } },
                  },
                },
              },
            },
          },
        },
      },
      async (request, reply) => {
        const { id } = request.params as { id: string };
        knownDevice(id);
        const rows = await run<{ metric: string; value: number | null; unit: string | null; ts: string; site: string | null }>(
          deviceLatestQuery(deps.tables, id, now() - deps.latestLookbackMs),
        );
        void reply.header('cache-control', `private, max-age=${latestMaxAgeSeconds}`);
        return { deviceId: id, readings: rows.map((row) => ({ ...row, unit: unitOf(row.unit) })) };
      },
    );

    app.get(
      '/devices/:id/series',
      {
        config: { scope: 'read' },
        onSend: conditionalGet,
        schema: {
          summary: "A device's metric downsampled: one aggregate per step over [from, to)",
          description: `from and to: ${timeParamFormat}. Points ((to - from) / step) and the range are bounded; beyond them the answer is 422.`,
          tags: ['telemetry'],
          params: deviceParams,
          querystring: {
            type: 'object',
            required: ['metric', 'from', 'to', 'step'],
            additionalProperties: false,
            properties: {
              metric: { type: 'string', pattern: idPattern },
              from: { type: 'string', maxLength: 64, description: timeParamFormat },
              to: { type: 'string', maxLength: 64, description: timeParamFormat },
              step: { type: 'string', pattern: '^[0-9]{1,9}[smhd]$', description: 'bucket width, e.g. 10s, 1m, 1h, 1d' },
              agg: { type: 'string', enum: seriesAggregates, default: 'avg' },
              fill: { type: 'string', enum: fillModes, default: 'null', description: 'empty buckets: null, prev (last value), linear, zero, or none (left out)' },
            },
          },
          response: {
            200: {
              type: 'object',
              required: ['deviceId', 'metric', 'from', 'to', 'step', 'agg', 'fill', 'unit', 'points'],
              properties: {
                deviceId: { type: 'string' },
                metric: { type: 'string' },
                from: timestamp,
                to: timestamp,
                step: { type: 'string' },
                agg: { type: 'string' },
                fill: { type: 'string' },
                unit: { type: ['string', 'null'] },
                points: { type: 'array', items: { type: 'object', required: ['ts', 'value'], properties: { ts: timestamp, value: nullableNumber } } },
              },
            },
          },
        },
      },
      async (request, reply) => {
        const { id } = request.params as { id: string };
        const params = request.query as SeriesParams;
        const nowMs = now();
        const parsed = parseSeriesRequest(id, params, nowMs, deps.series);
        if (!parsed.ok) {
          const { status, kind, problems } = parsed.refusal;
          const title = status === 400 ? 'The request is not valid' : kind === 'too_many_points' ? 'Too many points' : 'The range is too large';
          throw problem({ status, kind, title, detail: problems.map((item) => item.detail).join('; '), problems });
        }
        knownDevice(id);
        const series = parsed.value;
        const rows = await run<{ ts: string; value: number | null; unit: string | null }>(seriesQuery(deps.tables, series));
        const points = fillSeries(
          rows.map((row) => ({ tsMs: Date.parse(row.ts), value: row.value })),
          { fromMs: series.fromMs, stepMs: series.stepMs, points: series.points, fill: series.fill },
        );
        const absolute = !params.from.startsWith('now') && !params.to.startsWith('now');
        const settled = absolute && series.toMs + settledAfterMs <= nowMs;
        void reply.header('cache-control', `private, max-age=${settled ? settledMaxAgeSeconds : latestMaxAgeSeconds}`);
        return {
          deviceId: id,
          metric: series.metric,
          from: new Date(series.fromMs).toISOString(),
          to: new Date(series.toMs).toISOString(),
          step: params.step,
          agg: series.agg,
          fill: series.fill,
          unit: unitOf(rows.findLast((row) => row.unit !== null)?.unit ?? null),
          points: points.map((point) => ({ ts: new Date(point.tsMs).toISOString(), value: point.value })),
        };
      },
    );

    app.get(
      '/devices/:id/completeness',
      {
        config: { scope: 'read' },
        onSend: conditionalGet,
        schema: {
          summary: "A device's message completeness: the latest snapshot of its sequence counters",
          tags: ['telemetry'],
          params: deviceParams,
          response: {
            200: {
              type: 'object',
              required: ['deviceId', 'snapshot', 'about'],
              properties: {
                deviceId: { type: 'string' },
                snapshot: {
                  type: ['object', 'null'],
                  required: ['ts', 'received', 'duplicates', 'gaps', 'resets', 'ratio'],
                  properties: { ts: timestamp, received: { type: 'integer' }, duplicates: { type: 'integer' }, gaps: { type: 'integer' }, resets: { type: 'integer' }, ratio: nullableNumber },
                },
                about: { type: 'string' },
              },
            },
          },
        },
      },
      async (request, reply) => {
        const { id } = request.params as { id: string };
        knownDevice(id);
        const [row] = await run<{ ts: string; received: number; duplicates: number; gaps: number; resets: number }>(completenessQuery(deps.tables, id));
        void reply.header('cache-control', `private, max-age=${latestMaxAgeSeconds}`);
        const snapshot = row === undefined ? null : { ...row, ratio: row.received + row.gaps === 0 ? null : row.received / (row.received + row.gaps) };
        return { deviceId: id, snapshot, about: completenessAbout };
      },
    );

    app.get(
      '/sites/:site/latest',
      {
        config: { scope: 'read' },
        onSend: conditionalGet,
        schema: {
          summary: "A site's latest reading of each device and metric",
          tags: ['telemetry'],
          params: { type: 'object', required: ['site'], properties: { site: { type: 'string', minLength: 1, maxLength: 128 } } },
          response: {
            200: {
              type: 'object',
              required: ['site', 'readings'],
              properties: {
                site: { type: 'string' },
                readings: {
                  type: 'array',
                  items: {
                    type: 'object',
                    required: ['deviceId', 'metric', 'value', 'unit', 'ts'],
                    properties: { deviceId: { type: 'string' }, metric: { type: 'string' }, value: nullableNumber, unit: { type: ['string', 'null'] }, ts: timestamp },
                  },
                },
              },
            },
          },
        },
      },
      async (request, reply) => {
        const { site } = request.params as { site: string };
        const rows = await run<{ device: string; metric: string; value: number | null; unit: string | null; ts: string }>(siteLatestQuery(deps.tables, site, now() - deps.latestLookbackMs));
        void reply.header('cache-control', `private, max-age=${latestMaxAgeSeconds}`);
        return { site, readings: rows.map(({ device, unit, ...rest }) => ({ deviceId: device, ...rest, unit: unitOf(unit) })) };
      },
    );
  };
}
