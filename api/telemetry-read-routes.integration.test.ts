/**
 * The dashboard reads against the real QuestDB (PG wire) with rows the real enricher wrote from
 * telemetry on the real Kafka: latest, series, site and completeness answers match what was
 * produced; bounds give 422; a matching ETag gives 304.
 */
import type { FastifyInstance } from 'fastify';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { startEnrichHarness, type EnrichHarness, type TelemetryMessage } from '../test/enrich-harness.ts';
import { apiTestApp } from '../test/api-test-app.ts';
import { eventually } from '../test/helpers.ts';
import { createQuestdbReadStore, type ReadStore } from './questdb-read-store.ts';
import { telemetryReadRoutes } from './telemetry-read-routes.ts';
import { telemetryTables } from './telemetry-queries.ts';

const brokers = inject('kafkaBrokers');
const questdbHttpUrl = inject('questdbHttpUrl');
const pgUrl = `postgresql://admin:quest@127.0.0.1:${inject('questdbPgPort')}/qdb`;
// Recent (inside the latest-value lookback) and on a minute boundary, so buckets are easy to name.
const t0 = Math.floor((Date.now() - 30 * 60_000) / 60_000) * 60_000;
const iso = (ms: number): string => new Date(ms).toISOString();

// d1: one message a second for 3 minutes, seq 100 lost; d2: ten messages; d3 on another site.
const messages: TelemetryMessage[] = [];
for (let seq = 1; seq <= 180; seq++) {
  if (seq !== 100) messages.push({ deviceId: 'api-d1', payload: { v: 1, ts: t0 + seq * 1000, seq, metrics: { temperature: seq, humidity: 40 + (seq % 3) } }, receivedAtMs: t0 + seq * 1000 + 20 });
}
for (let seq = 1; seq <= 10; seq++) messages.push({ deviceId: 'api-d2', payload: { v: 1, ts: t0 + seq * 1000, seq, metrics: { temperature: 100 + seq } }, receivedAtMs: t0 + seq * 1000 });
messages.push({ deviceId: 'api-d3', payload: { v: 1, ts: t0, seq: 1, metrics: { temperature: -5 } }, receivedAtMs: t0 });
const devices = new Set(['api-d1', 'api-d2', 'api-d3', 'api-silent']);

/** The temperature values of d1 whose time falls in [from, to), computed from what was produced. */
function d1Temperatures(fromMs: number, toMs: number): number[] {
  return messages
    .filter((message) => message.deviceId === 'api-d1')
    .map((message) => message.payload as { ts: number; metrics: { temperature: number } })
    .filter((payload) => payload.ts >= fromMs && payload.ts < toMs)
    .map((payload) => payload.metrics.temperature);
}

let h: EnrichHarness;
let store: ReadStore;
let app: FastifyInstance;

beforeAll(async () => {
  h = await startEnrichHarness({ brokers, questdbHttpUrl });
  await h.registerDevice({ deviceId: 'api-d1', site: 'site-a', units: { temperature: 'degC' } });
  await h.registerDevice({ deviceId: 'api-d2', site: 'site-a', units: { temperature: 'degC' } });
  await h.registerDevice({ deviceId: 'api-d3', site: 'site-b', units: { temperature: 'degC' } });
  await h.produceTelemetry(messages);
  await h.startEnricher({ TRIBUTARY_ENRICH_COMPLETENESS_INTERVAL_MS: '300' });
  const rows = 179 * 2 + 10 + 1;
  await eventually(() => h.rowCounts(), (counts) => counts.rows === rows, 60_000, `${rows} rows in QuestDB`);
  await eventually(
    () => h.query(`select received, gaps from '${h.tables.completeness}' where device = 'api-d1' latest on ts partition by device`),
    (found) => JSON.stringify(found) === '[[179,1]]',
    60_000,
    'a completeness snapshot of api-d1 with every message counted',
  );
  store = createQuestdbReadStore({ pgUrl, poolSize: 2, queryTimeoutMs: 10_000 });
  const prefix = h.tables.readings.replace(/readings$/, '');
  app = await apiTestApp(
    telemetryReadRoutes({ store, tables: telemetryTables(prefix), deviceExists: (id) => devices.has(id), latestLookbackMs: 7 * 86_400_000, series: { maxPoints: 2000, maxRangeMs: 30 * 86_400_000 } }),
  );
}, 180_000);

afterAll(async () => {
  await app?.close();
  await store?.close();
  await h?.close();
});

const get = (url: string, headers: Record<string, string> = {}) => app.inject({ method: 'GET', url, headers });

describe('dashboard reads', () => {
  it("answers a device's latest value of each metric with its unit, time and site", async () => {
    const response = await get('/v1/devices/api-d1/latest');
    expect(response.statusCode).toBe(200);
    expect(response.json()).toEqual({
      deviceId: 'api-d1',
      readings: [
        { metric: 'humidity', value: 40, unit: null, ts: `${iso(t0 + 180_000).slice(0, -1)}000Z`, site: 'site-a' },
        { metric: 'temperature', value: 180, unit: 'degC', ts: `${iso(t0 + 180_000).slice(0, -1)}000Z`, site: 'site-a' },
      ],
    });
    expect(response.headers['cache-control']).toBe('private, max-age=5');
  });

  it('answers an empty list for a registered device with no readings, and 404 for an unknown one', async () => {
    expect((await get('/v1/devices/api-silent/latest')).json()).toEqual({ deviceId: 'api-silent', readings: [] });
    const unknown = await get('/v1/devices/nobody/latest');
    expect(unknown.statusCode).toBe(404);
    expect(unknown.headers['content-type']).toContain('application/problem+json');
    expect(unknown.json()).toMatchObject({ type: '/problems/unknown_device', status: 404 });
  });

  it("answers a site's latest value per device and metric", async () => {
    const response = await get('/v1/sites/site-a/latest');
    expect(response.statusCode).toBe(200);
    const { readings } = response.json<{ readings: Array<{ deviceId: string; metric: string; value: number }> }>();
    expect(readings.map(({ deviceId, metric, value }) => [deviceId, metric, value])).toEqual([
      ['api-d1', 'humidity', 40],
      ['api-d1', 'temperature', 180],
      ['api-d2', 'temperature', 110],
    ]);
    expect((await get('/v1/sites/nowhere/latest')).json()).toEqual({ site: 'nowhere', readings: [] });
  });

  it('downsamples a series per step over [from, to), one point per step, empty buckets filled as asked', async () => {
    const from = iso(t0);
    const to = iso(t0 + 5 * 60_000);
    const response = await get(`/v1/devices/api-d1/series?metric=temperature&from=${from}&to=${to}&step=1m`);
    expect(response.statusCode).toBe(200);
    const body = response.json<{ points: Array<{ ts: string; value: number | null }>; unit: string }>();
    const average = (values: number[]): number | null => (values.length === 0 ? null : values.reduce((a, b) => a + b, 0) / values.length);
    const expected = [0, 1, 2, 3, 4].map((minute) => ({ ts: iso(t0 + minute * 60_000), value: average(d1Temperatures(t0 + minute * 60_000, t0 + (minute + 1) * 60_000)) }));
    expect(expected[4]?.value).toBeNull();
    expect(body.points.map((point) => ({ ts: point.ts, value: point.value === null ? null : Number(point.value.toFixed(9)) }))).toEqual(
      expected.map((point) => ({ ts: point.ts, value: point.value === null ? null : Number(point.value.toFixed(9)) })),
    );
    expect(body.unit).toBe('degC');

    const counts = (await get(`/v1/devices/api-d1/series?metric=temperature&from=${from}&to=${to}&step=1m&agg=count&fill=zero`)).json<typeof body>();
    expect(counts.points.map((point) => point.value)).toEqual([0, 1, 2, 3, 4].map((minute) => d1Temperatures(t0 + minute * 60_000, t0 + (minute + 1) * 60_000).length));
    const prev = (await get(`/v1/devices/api-d1/series?metric=temperature&from=${from}&to=${to}&step=1m&agg=max&fill=prev`)).json<typeof body>();
    expect(prev.points.map((point) => point.value)).toEqual([59, 119, 179, 180, 180]);
    // Buckets start at `from`, not at the minute.
    const offset = (await get(`/v1/devices/api-d1/series?metric=temperature&from=${iso(t0 + 30_000)}&to=${iso(t0 + 90_000)}&step=30s&agg=min`)).json<typeof body>();
    expect(offset.points).toEqual([
      { ts: iso(t0 + 30_000), value: 30 },
      { ts: iso(t0 + 60_000), value: 60 },
    ]);
  });

  it('refuses too many points and too long a range with 422, and malformed parameters with one 400 listing each', async () => {
    const tooMany = await get('/v1/devices/api-d1/series?metric=temperature&from=now-1d&to=now&step=1s');
    expect(tooMany.statusCode).toBe(422);
    expect(tooMany.json()).toMatchObject({ type: '/problems/too_many_points', status: 422, problems: [{ pointer: '/query/step' }] });
    const tooLong = await get('/v1/devices/api-d1/series?metric=temperature&from=now-60d&to=now&step=1d');
    expect(tooLong.json()).toMatchObject({ type: '/problems/range_too_large', status: 422 });
    const bad = await get('/v1/devices/api-d1/series?metric=temperature&from=yesterday&to=now-2h&step=1m&fill=spline');
    expect(bad.statusCode).toBe(400);
    expect(bad.json<{ problems: unknown[] }>().problems.length).toBeGreaterThanOrEqual(1);
    const badTimes = await get('/v1/devices/api-d1/series?metric=temperature&from=yesterday&to=tomorrow&step=1m');
    expect(badTimes.json()).toMatchObject({ status: 400, problems: [{ pointer: '/query/from' }, { pointer: '/query/to' }] });
  });

  it('answers 304 to a request naming the current ETag, and 200 again once the answer changed', async () => {
    const first = await get('/v1/devices/api-d2/latest');
    const etag = first.headers.etag as string;
    expect(etag).toMatch(/^"[A-Za-z0-9_-]+"$/);
    const again = await get('/v1/devices/api-d2/latest', { 'if-none-match': etag });
    expect(again.statusCode).toBe(304);
    expect(again.body).toBe('');
    expect(again.headers.etag).toBe(etag);

    await h.produceTelemetry([{ deviceId: 'api-d2', payload: { v: 1, ts: t0 + 11_000, seq: 11, metrics: { temperature: 111 } }, receivedAtMs: t0 + 11_000 }]);
    const changed = await eventually(() => get('/v1/devices/api-d2/latest', { 'if-none-match': etag }), (response) => response.statusCode === 200, 30_000, 'a new reading changes the ETag');
    expect(changed.headers.etag).not.toBe(etag);
    expect(changed.json()).toMatchObject({ readings: [{ metric: 'temperature', value: 111 }] });
  });

  it('caches a series whose absolute range lies well in the past longer than one reaching now', async () => {
    const past = await get(`/v1/devices/api-d1/series?metric=temperature&from=${iso(t0)}&to=${iso(t0 + 5 * 60_000)}&step=1m`);
    expect(past.headers['cache-control']).toBe('private, max-age=300');
    const recent = await get('/v1/devices/api-d1/series?metric=temperature&from=now-1h&to=now&step=1m');
    expect(recent.headers['cache-control']).toBe('private, max-age=5');
  });

  it("answers a device's latest completeness snapshot with its ratio", async () => {
    const response = await get('/v1/devices/api-d1/completeness');
    expect(response.statusCode).toBe(200);
    expect(response.json()).toMatchObject({ deviceId: 'api-d1', snapshot: { received: 179, duplicates: 0, gaps: 1, resets: 0, ratio: 179 / 180 } });
    expect((await get('/v1/devices/api-silent/completeness')).json()).toMatchObject({ snapshot: null });
  });
});
