import { describe, expect, it } from 'vitest';
import { completenessQuery, deviceLatestQuery, parseSeriesRequest, seriesQuery, siteLatestQuery, telemetryTables, type SeriesParams } from './telemetry-queries.ts';

const tables = telemetryTables('t1_');
const nowMs = Date.parse('2026-12-02T12:00:00Z');
const limits = { maxPoints: 2000, maxRangeMs: 30 * 86_400_000 };
const params = (overrides: Partial<SeriesParams> = {}): SeriesParams => ({ metric: 'temperature', from: '2026-12-02T10:00:00Z', to: '2026-12-02T11:00:00Z', step: '1m', ...overrides });

describe('dashboard queries', () => {
  it('bind every caller-chosen value and name the prefixed tables', () => {
    const hostile = "d1' OR '1'='1";
    const latest = deviceLatestQuery(tables, hostile, nowMs - 3_600_000);
    expect(latest.text).toBe(
      'SELECT metric, value, unit, ts, site FROM t1_readings WHERE device = $1 AND ts >= $2 LATEST ON ts PARTITION BY metric ORDER BY metric',
    );
    expect(latest.values).toEqual([hostile, '2026-12-02T11:00:00.000Z']);
    expect(siteLatestQuery(tables, hostile, nowMs).text).toContain('FROM t1_readings WHERE site = $1 AND ts >= $2 LATEST ON ts PARTITION BY device, metric');
    expect(completenessQuery(tables, hostile)).toEqual({
      text: 'SELECT ts, received, duplicates, gaps, resets FROM t1_device_completeness WHERE device = $1 LATEST ON ts PARTITION BY device',
      values: [hostile],
    });
    for (const query of [latest, siteLatestQuery(tables, hostile, nowMs), completenessQuery(tables, hostile)]) expect(query.text).not.toContain(hostile);
  });

  it('samples a series by the validated step, aligned to from, with times bound', () => {
    const parsed = parseSeriesRequest('d1', params({ step: '60s', agg: 'max' }), nowMs, limits);
    if (!parsed.ok) throw new Error('refused');
    expect(parsed.value).toMatchObject({ fromMs: Date.parse('2026-12-02T10:00:00Z'), toMs: Date.parse('2026-12-02T11:00:00Z'), stepMs: 60_000, points: 60, agg: 'max', fill: 'null' });
    expect(seriesQuery(tables, parsed.value)).toEqual({
      text:
        'SELECT ts, max(value) AS value, last(unit) AS unit FROM t1_readings WHERE device = $1 AND metric = $2 AND ts >= $3 AND ts < $4 SAMPLE BY 1m FROM $3 TO $4',
      values: ['d1', 'temperature', '2026-12-02T10:00:00.000Z', '2026-12-02T11:00:00.000Z'],
    });
  });

  it('refuses to build SQL from an aggregate outside the whitelist, whatever the caller passed', () => {
    const parsed = parseSeriesRequest('d1', params(), nowMs, limits);
    if (!parsed.ok) throw new Error('refused');
    expect(() => seriesQuery(tables, { ...parsed.value, agg: 'avg(value)); drop table x; --' as never })).toThrow(RangeError);
  });

  it('refuses a table prefix that could break out of the SQL', () => {
    expect(() => telemetryTables('x; drop')).toThrow(RangeError);
  });
});

describe('parseSeriesRequest', () => {
  it('takes relative times and defaults agg to avg and fill to null', () => {
    const parsed = parseSeriesRequest('d1', params({ from: 'now-1h', to: 'now', step: '10s' }), nowMs, limits);
    expect(parsed).toEqual({ ok: true, value: { deviceId: 'd1', metric: 'temperature', fromMs: nowMs - 3_600_000, toMs: nowMs, stepMs: 10_000, points: 360, agg: 'avg', fill: 'null' } });
  });

  it('counts a partial last bucket as a point', () => {
    const parsed = parseSeriesRequest('d1', params({ from: 'now-61s', to: 'now', step: '10s' }), nowMs, limits);
    expect(parsed.ok && parsed.value.points).toBe(7);
  });

  it('lists every malformed parameter at once (400)', () => {
    const parsed = parseSeriesRequest('d1', params({ from: 'yesterday', to: '2026-12-02', step: '5x', agg: 'median', fill: 'spline' }), nowMs, limits);
    expect(parsed).toMatchObject({ ok: false, refusal: { status: 400, kind: 'invalid_request' } });
    if (parsed.ok) return;
    expect(parsed.refusal.problems.map((item) => item.pointer)).toEqual(['/query/from', '/query/to', '/query/step', '/query/agg', '/query/fill']);
  });

  it('refuses from at or after to, and steps outside 1s..31d', () => {
    expect(parseSeriesRequest('d1', params({ from: 'now', to: 'now-1h' }), nowMs, limits)).toMatchObject({ ok: false, refusal: { status: 400, problems: [{ pointer: '/query/to' }] } });
    expect(parseSeriesRequest('d1', params({ from: 'now', to: 'now' }), nowMs, limits)).toMatchObject({ ok: false, refusal: { status: 400 } });
    expect(parseSeriesRequest('d1', params({ step: '0s' }), nowMs, limits)).toMatchObject({ ok: false, refusal: { status: 400, problems: [{ pointer: '/query/step' }] } });
    expect(parseSeriesRequest('d1', params({ step: '32d' }), nowMs, limits)).toMatchObject({ ok: false, refusal: { status: 400, problems: [{ pointer: '/query/step' }] } });
  });

  it('refuses more points than the bound with 422 and says which step would do', () => {
    const atBound = parseSeriesRequest('d1', params({ from: 'now-2000m', to: 'now', step: '1m' }), nowMs, limits);
    expect(atBound.ok && atBound.value.points).toBe(2000);
    const over = parseSeriesRequest('d1', params({ from: 'now-2001m', to: 'now', step: '1m' }), nowMs, limits);
    expect(over).toMatchObject({ ok: false, refusal: { status: 422, kind: 'too_many_points', problems: [{ pointer: '/query/step' }] } });
    if (!over.ok) expect(over.refusal.problems[0]?.detail).toContain('2001 points');
  });

  it('refuses a range longer than the bound with 422 whatever the step', () => {
    expect(parseSeriesRequest('d1', params({ from: 'now-31d', to: 'now', step: '1d' }), nowMs, limits)).toMatchObject({ ok: false, refusal: { status: 422, kind: 'range_too_large' } });
  });
});
