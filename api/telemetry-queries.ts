/**
 * The SQL of the dashboard reads and the checks on a series request. Every value a caller chooses
 * (device, metric, site, times) is a bind parameter; what SQL cannot bind (table names, the
 * aggregate function, the SAMPLE BY step) comes only from a whitelist, a validated prefix or a
 * duration this module formatted itself. Pure; no I/O.
 */
import { formatDuration, parseDuration } from '../core/duration.ts';
import { completenessColumns as cc, completenessTableName, readingsColumns as rc, readingsTableName } from '../core/questdb-tables.ts';
import type { ProblemItem } from './problem.ts';
import { fillModes, type FillMode } from './series-fill.ts';
import { parseTimeParam } from './time-param.ts';

export interface TelemetryTables {
  readings: string;
  completeness: string;
}

/** The tables of a prefix. Throws RangeError for a prefix validateTablePrefix refuses. */
export function telemetryTables(prefix: string): TelemetryTables {
  return { readings: readingsTableName(prefix), completeness: completenessTableName(prefix) };
}

export interface SqlQuery {
  text: string;
  values: Array<string | number>;
}

/** The aggregates a series may ask for; the name is spliced into the SQL, so only these. */
export const seriesAggregates = ['avg', 'min', 'max', 'sum', 'count', 'first', 'last'] as const;
export type SeriesAggregate = (typeof seriesAggregates)[number];

/** Shortest and longest SAMPLE BY step. */
export const stepBounds = { minMs: 1000, maxMs: 31 * 86_400_000 };

const iso = (ms: number): string => new Date(ms).toISOString();

/**
 * Each metric's latest reading of a device since `sinceMs`: LATEST ON scans partitions backwards,
 * and the lower time bound keeps that scan to the recent partitions instead of the whole table.
 */
export function deviceLatestQuery(tables: TelemetryTables, deviceId: string, sinceMs: number): SqlQuery {
  return {
    text: `SELECT ${rc.metric}, ${rc.value}, ${rc.unit}, ${rc.ts}, ${rc.site} FROM ${tables.readings} WHERE ${rc.device} = $1 AND ${rc.ts} >= $2 LATEST ON ${rc.ts} PARTITION BY ${rc.metric} ORDER BY ${rc.metric}`,
    values: [deviceId, iso(sinceMs)],
  };
}

/** Each device's and metric's latest reading of a site since `sinceMs`. */
export function siteLatestQuery(tables: TelemetryTables, site: string, sinceMs: number): SqlQuery {
  return {
    text: `SELECT ${rc.device}, ${rc.metric}, ${rc.value}, ${rc.unit}, ${rc.ts} FROM ${tables.readings} WHERE ${rc.site} = $1 AND ${rc.ts} >= $2 LATEST ON ${rc.ts} PARTITION BY ${rc.device}, ${rc.metric} ORDER BY ${rc.device}, ${rc.metric}`,
    values: [site, iso(sinceMs)],
  };
}

/** The device's latest completeness snapshot. */
export function completenessQuery(tables: TelemetryTables, deviceId: string): SqlQuery {
  return {
    text: `SELECT ${cc.ts}, ${cc.received}, ${cc.duplicates}, ${cc.gaps}, ${cc.resets} FROM ${tables.completeness} WHERE ${cc.device} = $1 LATEST ON ${cc.ts} PARTITION BY ${cc.device}`,
    values: [deviceId],
  };
}

export interface SeriesRequest {
  deviceId: string;
  metric: string;
  fromMs: number;
  toMs: number;
  stepMs: number;
  /** Buckets in [from, to): ceil((to - from) / step). */
  points: number;
  agg: SeriesAggregate;
  fill: FillMode;
}

export interface SeriesParams {
  metric: string;
  from: string;
  to: string;
  step: string;
  agg?: string;
  fill?: string;
}

/** A refused series request: 400 for malformed parameters, 422 for well-formed ones beyond the bounds. */
export interface SeriesRefusal {
  status: 400 | 422;
  kind: 'invalid_request' | 'range_too_large' | 'too_many_points';
  problems: ProblemItem[];
}

/**
 * Checks a series request: every malformed parameter is listed (400); only a well-formed request
 * is measured against the bounds (422): range at most `maxRangeMs`, at most `maxPoints` points.
 */
export function parseSeriesRequest(
  deviceId: string,
  params: SeriesParams,
  nowMs: number,
  limits: { maxPoints: number; maxRangeMs: number },
): { ok: true; value: SeriesRequest } | { ok: false; refusal: SeriesRefusal } {
  const problems: ProblemItem[] = [];
  const from = parseTimeParam(params.from, nowMs);
  if (!from.ok) problems.push({ pointer: '/query/from', detail: from.detail ?? from.reason });
  const to = parseTimeParam(params.to, nowMs);
  if (!to.ok) problems.push({ pointer: '/query/to', detail: to.detail ?? to.reason });
  const step = parseDuration(params.step, stepBounds);
  if (!step.ok) problems.push({ pointer: '/query/step', detail: step.detail ?? step.reason });
  const agg = params.agg ?? 'avg';
  if (!(seriesAggregates as readonly string[]).includes(agg)) problems.push({ pointer: '/query/agg', detail: `expected one of ${seriesAggregates.join(', ')}` });
  const fill = params.fill ?? 'null';
  if (!(fillModes as readonly string[]).includes(fill)) problems.push({ pointer: '/query/fill', detail: `expected one of ${fillModes.join(', ')}` });
  if (from.ok && to.ok && from.value >= to.value) problems.push({ pointer: '/query/to', detail: 'must be later than from' });
  if (problems.length > 0 || !from.ok || !to.ok || !step.ok) return { ok: false, refusal: { status: 400, kind: 'invalid_request', problems } };

  const rangeMs = to.value - from.value;
  if (rangeMs > limits.maxRangeMs) {
    return { ok: false, refusal: { status: 422, kind: 'range_too_large', problems: [{ pointer: '/query/from', detail: `the range ${formatDuration(rangeMs)} exceeds ${formatDuration(limits.maxRangeMs)}` }] } };
  }
  const points = Math.ceil(rangeMs / step.value);
  if (points > limits.maxPoints) {
    const smallestStep = formatDuration(Math.ceil(rangeMs / limits.maxPoints / 1000) * 1000);
    return {
      ok: false,
      refusal: {
        status: 422,
        kind: 'too_many_points',
        problems: [{ pointer: '/query/step', detail: `${points} points at step ${params.step}; at most ${limits.maxPoints} (a step of ${smallestStep} or more, or a shorter range)` }],
      },
    };
  }
  return { ok: true, value: { deviceId, metric: params.metric, fromMs: from.value, toMs: to.value, stepMs: step.value, points, agg: agg as SeriesAggregate, fill: fill as FillMode } };
}

/**
 * One row per bucket that has data, bucket start in `ts`, buckets aligned to `from` (SAMPLE BY …
 * FROM). No FILL: empty buckets are filled afterwards (series-fill.ts explains why).
 */
export function seriesQuery(tables: TelemetryTables, request: SeriesRequest): SqlQuery {
  // Both validated: the aggregate against the whitelist, the step formatted here from whole seconds.
  const agg = request.agg === 'count' ? `count(${rc.value})` : `${request.agg}(${rc.value})`;
  const step = formatDuration(request.stepMs);
  if (!(seriesAggregates as readonly string[]).includes(request.agg) || !/^\d+[smhd]$/.test(step)) throw new RangeError(`unsafe series query: ${agg} ${step}`);
  return {
    text:
      `SELECT ${rc.ts}, ${agg} AS value, last(${rc.unit}) AS unit FROM ${tables.readings} WHERE ${rc.device} = $1 AND ${rc.metric} = $2 AND ${rc.ts} >= $3 AND ${rc.ts} < $4 ` +
      `SAMPLE BY ${step} FROM $3 TO $4`,
    values: [request.deviceId, request.metric, iso(request.fromMs), iso(request.toMs)],
  };
}
