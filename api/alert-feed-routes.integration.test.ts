/**
 * The alert feed against the real Kafka: the alerts topic as Tributary creates it (LogAppendTime),
 * alerts produced the way the enricher does (JSON, key = device), read through the API route.
 * Pages come in feed order, a full page is the same each time it is fetched, and following `next`
 * across new alerts yields every alert once.
 */
import type { FastifyInstance } from 'fastify';
import { Kafka, logLevel, type Producer } from 'kafkajs';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import type { KafkaAdminPort } from '../core/kafka-port.ts';
import { silentLogger } from '../core/logger.ts';
import { topicSpecs } from '../core/topic-specs.ts';
import { createKafkaClientFactory } from '../kafka/kafka-client-factory.ts';
import { apiTestApp } from '../test/api-test-app.ts';
import { eventually, uniqueName } from '../test/helpers.ts';
import { deleteTopics } from '../test/kafka-cleanup.ts';
import { createAlertFeed } from './alert-feed.ts';
import { alertFeedRoutes } from './alert-feed-routes.ts';

const brokers = inject('kafkaBrokers');
const topic = `iot.alerts.${uniqueName('feed')}`;
const watermarkMs = 500;

interface Page {
  items: Array<{ id: string; time: string; partition: number; offset: string; deviceId: string; alert: { kind: string; deviceId: string; value: number } }>;
  next: string | null;
  nextUrl: string;
  full: boolean;
}

let raw: Kafka;
let producer: Producer;
let admin: KafkaAdminPort;
let app: FastifyInstance;
let young: FastifyInstance;
let sent = 0;

/** `count` alerts over 5 devices, spread over every partition, numbered on from those sent before. */
async function produceAlerts(count: number): Promise<void> {
  const messages = Array.from({ length: count }, () => {
    const n = sent++;
    const event = { kind: 'threshold_crossed', deviceId: `dev-${n % 5}`, metric: 'temperature', value: n, threshold: 80, operator: '>', atMs: 1_000 + n };
    // The producer's timestamp is far in the past: the topic must replace it with the broker's.
    return { key: event.deviceId, partition: n % 3, value: JSON.stringify(event), timestamp: '1000', headers: { 'content-type': 'application/json' } };
  });
  await producer.send({ topic, acks: -1, messages });
}

const get = async (target: FastifyInstance, url: string, headers: Record<string, string> = {}) => target.inject({ method: 'GET', url, headers });

/** Follows `next` from `url` until a page is partial; every page's body. */
async function readAll(url: string): Promise<Page[]> {
  const pages: Page[] = [];
  for (let next = url; ; ) {
    const page = (await get(app, next)).json<Page>();
    pages.push(page);
    if (!page.full) return pages;
    next = page.nextUrl;
  }
}

/** Follows `next` from `url` until `expected` alerts were served (they pass the watermark meanwhile). */
async function served(url: string, expected: number): Promise<Page[]> {
  return eventually(() => readAll(url), (pages) => pages.reduce((count, page) => count + page.items.length, 0) === expected, 30_000, `${expected} alerts served`);
}

beforeAll(async () => {
  const kafka = createKafkaClientFactory({ brokers, logger: silentLogger() });
  admin = kafka.admin({ clientId: 'feed-test' });
  await admin.ensureTopics(topicSpecs({ alerts: topic }, { partitions: 3, replicationFactor: 1 }));
  raw = new Kafka({ clientId: 'feed-test', brokers, logLevel: logLevel.NOTHING });
  producer = raw.producer({ idempotent: true });
  await producer.connect();
  app = await apiTestApp(alertFeedRoutes({ feed: createAlertFeed({ kafka, admin, topic, clientId: 'feed-test', watermarkMs }), maxPageSize: 50 }));
  young = await apiTestApp(alertFeedRoutes({ feed: createAlertFeed({ kafka, admin, topic, clientId: 'feed-test', watermarkMs: 60_000 }), maxPageSize: 50 }));
}, 60_000);

afterAll(async () => {
  await app?.close();
  await young?.close();
  await producer?.disconnect();
  const rawAdmin = raw.admin();
  await rawAdmin.connect();
  await deleteTopics(rawAdmin, [topic]);
  await rawAdmin.disconnect();
  await admin?.close();
});

describe('alert feed', () => {
  let firstPass: Page[] = [];

  it('serves every alert once, in (broker time, partition, offset) order, in pages of the limit', async () => {
    await produceAlerts(25);
    firstPass = await served('/v1/feeds/alerts?limit=10', 25);
    expect(firstPass.map((page) => page.items.length)).toEqual([10, 10, 5]);
    expect(firstPass.map((page) => page.full)).toEqual([true, true, false]);
    const items = firstPass.flatMap((page) => page.items);
    expect(new Set(items.map((item) => item.alert.value))).toEqual(new Set(Array.from({ length: 25 }, (_, n) => n)));
    const keys = items.map((item) => [Date.parse(item.time), item.partition, BigInt(item.offset)] as const);
    const sorted = [...keys].sort((a, b) => a[0] - b[0] || a[1] - b[1] || (a[2] < b[2] ? -1 : a[2] > b[2] ? 1 : 0));
    expect(keys).toEqual(sorted);
    expect(new Set(items.map((item) => item.partition)).size).toBe(3);
    // The broker's time, not the producer's (1970): the topic is LogAppendTime.
    expect(Date.parse(items[0]!.time)).toBeGreaterThan(Date.now() - 120_000);
    expect(items[0]).toMatchObject({ deviceId: items[0]!.alert.deviceId, alert: { kind: 'threshold_crossed' } });
  });

  it('marks a full page after a cursor immutable and the first and the last page short-lived', async () => {
    const first = await get(app, '/v1/feeds/alerts?limit=10');
    expect(first.headers['cache-control']).toBe('public, max-age=5');
    const second = await get(app, firstPass[0]!.nextUrl);
    expect(second.headers['cache-control']).toBe('public, max-age=31536000, immutable');
    expect(second.headers.link).toBe(`<${second.json<Page>().nextUrl}>; rel="next"`);
    const last = await get(app, firstPass[1]!.nextUrl);
    expect(last.headers['cache-control']).toBe('public, max-age=5');
    expect((await get(app, firstPass[0]!.nextUrl, { 'if-none-match': second.headers.etag as string })).statusCode).toBe(304);
  });

  it('gives the same full page byte for byte later, after new alerts arrived, and resumes from the last cursor without gaps or duplicates', async () => {
    const before = await get(app, firstPass[0]!.nextUrl);
    await produceAlerts(7);
    const resumed = await served(firstPass[2]!.nextUrl, 7);
    const newItems = resumed.flatMap((page) => page.items);
    expect(newItems.map((item) => item.alert.value).sort((a, b) => a - b)).toEqual([25, 26, 27, 28, 29, 30, 31]);
    const after = await get(app, firstPass[0]!.nextUrl);
    expect(after.body).toBe(before.body);
    expect(after.headers.etag).toBe(before.headers.etag);

    // Every alert once across the old pages and the resumed ones, and from the start again.
    const old = firstPass.flatMap((page) => page.items.map((item) => item.id));
    const all = [...old, ...newItems.map((item) => item.id)];
    expect(new Set(all).size).toBe(32);
    const again = (await readAll('/v1/feeds/alerts?limit=10')).flatMap((page) => page.items.map((item) => item.id));
    expect(again).toEqual(all);
  });

  it('holds back alerts younger than the watermark', async () => {
    // Every alert of this test was appended within the last minute.
    const page = (await get(young, '/v1/feeds/alerts?limit=50')).json<Page>();
    expect(page).toEqual({ items: [], next: null, nextUrl: '/v1/feeds/alerts?limit=50', full: false });
  });

  it('refuses a cursor it did not give out and a limit above the maximum, listing both', async () => {
    const response = await get(app, '/v1/feeds/alerts?after=bm90LWEtY3Vyc29y&limit=10');
    expect(response.statusCode).toBe(400);
    expect(response.json()).toMatchObject({ status: 400, problems: [{ pointer: '/query/after' }] });
    const tooMany = await get(app, '/v1/feeds/alerts?limit=51');
    expect(tooMany.statusCode).toBe(400);
  });
});
