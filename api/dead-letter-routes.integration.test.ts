/**
 * The dead-letter listing against the real Kafka, with dead letters the real enricher wrote for
 * poison telemetry: filters by reason and device, pages through small bounded scans without gaps or
 * duplicates, shows values as text or base64, and counts by reason.
 */
import type { FastifyInstance } from 'fastify';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { deadLetterHeaders } from '../core/envelope.ts';
import { silentLogger } from '../core/logger.ts';
import { createKafkaClientFactory } from '../kafka/kafka-client-factory.ts';
import { apiTestApp } from '../test/api-test-app.ts';
import { startEnrichHarness, type EnrichHarness, type TelemetryMessage } from '../test/enrich-harness.ts';
import { eventually } from '../test/helpers.ts';
import { createDeadLetterReader } from './dead-letter-reader.ts';
import { deadLetterRoutes } from './dead-letter-routes.ts';
import type { KafkaAdminPort } from '../core/kafka-port.ts';

const brokers = inject('kafkaBrokers');
const questdbHttpUrl = inject('questdbHttpUrl');
const t0 = Date.now();

interface Listing {
  items: Array<{ offset: string; deviceId: string; reason: string; failedAt: string; source: { topic: string }; headers: Record<string, string>; value: { encoding: string; data: string } }>;
  next: string;
  nextUrl: string;
  complete: boolean;
  scanned: number;
}

// Six messages of unregistered devices, four cut-off JSON documents of a registered one, one value that is not UTF-8.
const ghosts: TelemetryMessage[] = Array.from({ length: 6 }, (_, n) => ({ deviceId: `ghost-${n % 2}`, payload: { v: 1, ts: t0, seq: n + 1, metrics: { temperature: n } }, receivedAtMs: t0 + n }));
const broken: TelemetryMessage[] = Array.from({ length: 4 }, (_, n) => ({ deviceId: 'dl-good', payload: `{"v":1,"seq":${n}`, receivedAtMs: t0 + 10 + n }));
const binary = Buffer.from([0xff, 0xfe, 0x00, 0x41]);

let h: EnrichHarness;
let admin: KafkaAdminPort;
let app: FastifyInstance;
let wide: FastifyInstance;

beforeAll(async () => {
  h = await startEnrichHarness({ brokers, questdbHttpUrl });
  await h.registerDevice({ deviceId: 'dl-good', site: 'west' });
  await h.produceTelemetry([...ghosts, ...broken]);
  const producer = h.kafka.producer();
  await producer.connect();
  await producer.send({ topic: h.topics.telemetry, acks: -1, messages: [{ key: 'dl-good', value: binary, headers: { 'gateway.received_at_ms': String(t0 + 20) } }] });
  await producer.disconnect();
  await h.startEnricher();
  await eventually(async () => [...(await h.endOffsets(h.topics.deadLetter)).values()].reduce((a, b) => a + b, 0), (count) => count === 11, 60_000, '11 dead letters');
  const kafka = createKafkaClientFactory({ brokers, logger: silentLogger() });
  admin = kafka.admin({ clientId: 'dlq-test' });
  // A tiny scan bound, so listings take several requests.
  app = await apiTestApp(deadLetterRoutes({ reader: createDeadLetterReader({ kafka, admin, topic: h.topics.deadLetter, clientId: 'dlq-test', scanRecords: 4 }) }));
  wide = await apiTestApp(deadLetterRoutes({ reader: createDeadLetterReader({ kafka, admin, topic: h.topics.deadLetter, clientId: 'dlq-test', scanRecords: 1000 }) }));
}, 180_000);

afterAll(async () => {
  await app?.close();
  await wide?.close();
  await admin?.close();
  await h?.close();
});

const get = async (url: string) => app.inject({ method: 'GET', url });

/** Follows `next` until the listing is complete; every page. */
async function listAll(url: string): Promise<Listing[]> {
  const pages: Listing[] = [];
  for (let next = url; pages.length < 50; ) {
    const response = await get(next);
    expect(response.statusCode).toBe(200);
    const page = response.json<Listing>();
    pages.push(page);
    if (page.complete) return pages;
    next = page.nextUrl;
  }
  throw new Error('the listing never completed');
}

describe('dead-letter listing', () => {
  it('lists the dead letters of one reason with their headers and original values, over several bounded scans', async () => {
    const pages = await listAll('/v1/dead-letters?reason=unknown_device&limit=100');
    expect(pages.length).toBeGreaterThan(1);
    expect(pages.every((page) => page.scanned <= 4)).toBe(true);
    const items = pages.flatMap((page) => page.items);
    expect(items.map((item) => item.value.data).sort()).toEqual(ghosts.map((message) => JSON.stringify(message.payload)).sort());
    for (const item of items) {
      expect(item).toMatchObject({ reason: 'unknown_device', source: { topic: h.topics.telemetry }, value: { encoding: 'utf8' } });
      expect(item.deviceId).toMatch(/^ghost-[01]$/);
      expect(item.headers[deadLetterHeaders.consumerGroup]).toBe(h.env().TRIBUTARY_ENRICH_GROUP);
      expect(Date.parse(item.failedAt)).toBeGreaterThanOrEqual(t0);
    }
  });

  it('pages by limit without gaps or duplicates, and filters by device', async () => {
    const all = (await listAll('/v1/dead-letters?limit=2')).flatMap((page) => page.items.map((item) => item.offset));
    expect(all.map(Number).sort((a, b) => a - b)).toEqual(Array.from({ length: 11 }, (_, n) => n));
    const mine = (await listAll('/v1/dead-letters?device=dl-good')).flatMap((page) => page.items);
    expect(mine).toHaveLength(5);
    expect(mine.filter((item) => item.value.encoding === 'utf8').map((item) => item.value.data)).toEqual(broken.map((message) => message.payload));
    expect(mine.filter((item) => item.value.encoding === 'base64').map((item) => Buffer.from(item.value.data, 'base64'))).toEqual([binary]);
    const ghostOne = (await listAll('/v1/dead-letters?device=ghost-1&reason=unknown_device')).flatMap((page) => page.items);
    expect(ghostOne.map((item) => item.deviceId)).toEqual(['ghost-1', 'ghost-1', 'ghost-1']);
  });

  it('filters by failure time', async () => {
    const recent = await listAll(`/v1/dead-letters?from=${new Date(t0 - 60_000).toISOString()}&to=now`);
    expect(recent.flatMap((page) => page.items)).toHaveLength(11);
    const future = await listAll(`/v1/dead-letters?from=${new Date(Date.now() + 3_600_000).toISOString()}`);
    expect(future.flatMap((page) => page.items)).toEqual([]);
    const past = await listAll(`/v1/dead-letters?to=${new Date(t0 - 1).toISOString()}`);
    expect(past.flatMap((page) => page.items)).toEqual([]);
  });

  it('counts dead letters by reason and device', async () => {
    type Summary = { scanned: number; total: number; complete: boolean; reasons: Array<{ reason: string; count: number }>; topDevices: Array<{ deviceId: string; count: number }> };
    const response = await wide.inject({ method: 'GET', url: '/v1/dead-letters/summary' });
    expect(response.statusCode).toBe(200);
    const summary = response.json<Summary>();
    expect(summary).toMatchObject({ scanned: 11, total: 11, complete: true });
    expect(summary.reasons[0]).toEqual({ reason: 'unknown_device', count: 6 });
    expect(summary.reasons.reduce((sum, entry) => sum + entry.count, 0)).toBe(11);
    expect(summary.topDevices).toEqual([
      { deviceId: 'dl-good', count: 5 },
      { deviceId: 'ghost-0', count: 3 },
      { deviceId: 'ghost-1', count: 3 },
    ]);
    // With the tiny scan bound only the newest are counted, and the answer says so.
    const bounded = (await get('/v1/dead-letters/summary')).json<Summary>();
    expect(bounded).toMatchObject({ scanned: 4, total: 11, complete: false });
    expect((await wide.inject({ method: 'GET', url: `/v1/dead-letters/summary?from=${new Date(Date.now() + 3_600_000).toISOString()}` })).json<Summary>()).toMatchObject({ scanned: 0, reasons: [] });
  });

  it('refuses a bad cursor and bad times together in one 400', async () => {
    const response = await get('/v1/dead-letters?after=bm9wZQ&from=yesterday&to=tomorrow');
    expect(response.statusCode).toBe(400);
    expect(response.json<{ problems: Array<{ pointer: string }> }>().problems.map((item) => item.pointer)).toEqual(['/query/from', '/query/to', '/query/after']);
  });
});
