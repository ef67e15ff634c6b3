/**
 * The pipeline status against the real stack: the lag of an enricher group on the real Kafka (all
 * of it before the enricher runs, none after), the readiness and rates a real in-process enricher's
 * health server gives (rows and dead letters per second over the last scrape interval), and a
 * watched address where nothing listens shown unreachable while the route keeps answering.
 */
import { createServer } from 'node:net';
import type { FastifyInstance } from 'fastify';
import { afterEach, describe, expect, inject, it } from 'vitest';
import { silentLogger } from '../core/logger.ts';
import { createKafkaClientFactory } from '../kafka/kafka-client-factory.ts';
import { apiTestApp } from '../test/api-test-app.ts';
import { createCleanups } from '../test/cleanups.ts';
import { startEnrichHarness, telemetryStream } from '../test/enrich-harness.ts';
import { eventually } from '../test/helpers.ts';
import { pipelineRoutes } from './pipeline-routes.ts';
import { createPipelineStatus, type PipelineStatusSnapshot } from './pipeline-status.ts';

const brokers = inject('kafkaBrokers');
const questdbHttpUrl = inject('questdbHttpUrl');
const cleanups = createCleanups();

afterEach(() => cleanups.runAll());

/** A port nothing listens on: bound, then released. */
async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as { port: number };
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

describe('pipeline status', () => {
  it('reports the enricher group lag, the enricher readiness and rates, and an unreachable service', async () => {
    const h = await startEnrichHarness({ brokers, questdbHttpUrl, telemetryPartitions: 2 });
    cleanups.add(() => h.close());
    const groupId = h.env().TRIBUTARY_ENRICH_GROUP!;
    const t0 = Date.now() - 60_000;
    await h.registerDevice({ deviceId: 'ps-1', site: 'site-a' });
    // 40 messages of a known device (80 rows) and 10 of an unknown one (10 dead letters).
    await h.produceTelemetry([...telemetryStream(['ps-1'], 40, { t0 }), ...telemetryStream(['ps-unknown'], 10, { t0 })]);
    const enricher = await h.startEnricher();
    const deadPort = await freePort();
    const kafka = createKafkaClientFactory({ brokers, logger: silentLogger() });
    const status = createPipelineStatus({
      gateways: [`http://127.0.0.1:${deadPort}`],
      enrichers: [enricher.httpUrl],
      lag: { admin: () => kafka.admin({ clientId: 'pipeline-status-test' }), groupId, topic: h.topics.telemetry },
      scrapeIntervalMs: 60_000,
      logger: silentLogger(),
    });
    cleanups.add(() => status.stop());
    const app: FastifyInstance = await apiTestApp(pipelineRoutes({ snapshot: () => status.snapshot() }));
    cleanups.add(() => app.close());
    const get = async (): Promise<PipelineStatusSnapshot> => {
      const response = await app.inject({ method: 'GET', url: '/v1/pipeline/status' });
      expect(response.statusCode).toBe(200);
      return response.json<PipelineStatusSnapshot>();
    };

    await eventually(() => h.committedEverything(groupId), (done) => done, 60_000, 'the enricher committed every record');
    await status.refresh();
    const first = await get();
    expect(first.gateways).toEqual([expect.objectContaining({ kind: 'gateway', reachable: false, ready: null, rates: null, error: expect.stringMatching(/fetch failed|ECONNREFUSED/) as unknown })]);
    expect(first.enrichers[0]).toMatchObject({ kind: 'enricher', reachable: true, ready: true, error: null, rates: null });
    expect(first.lag).toMatchObject({ groupId, topic: h.topics.telemetry, total: 0, error: null });
    expect(first.lag?.partitions?.map((p) => p.lag)).toEqual([0, 0]);
    expect(first.lag?.partitions?.every((p) => p.committed === p.end)).toBe(true);

    // 30 more of the known device and 5 unknown ones between two scrapes: rates come from the difference.
    await h.produceTelemetry([...telemetryStream(['ps-1'], 30, { t0, firstSeq: 41 }), ...telemetryStream(['ps-unknown'], 5, { t0, firstSeq: 11 })]);
    await eventually(() => h.committedEverything(groupId), (done) => done, 60_000, 'the enricher committed the second lot');
    await status.refresh();
    const second = await get();
    const seconds = (Date.parse(second.enrichers[0]!.scrapedAt!) - Date.parse(first.enrichers[0]!.scrapedAt!)) / 1000;
    const rates = second.enrichers[0]!.rates!;
    expect(rates.rowsPerSec! * seconds).toBeCloseTo(60, -1);
    expect(rates.deadLettersPerSec! * seconds).toBeCloseTo(5, 0);
    expect(rates.recordsPerSec! * seconds).toBeCloseTo(35, 0);
    expect(second.gateways[0]!.reachable).toBe(false);

    // A group that never consumed: every retained record is lag, nothing committed.
    const idle = createPipelineStatus({ gateways: [], enrichers: [], lag: { admin: () => kafka.admin({ clientId: 'pipeline-status-test-2' }), groupId: 'never-consumed', topic: h.topics.telemetry }, scrapeIntervalMs: 60_000, logger: silentLogger() });
    cleanups.add(() => idle.stop());
    await idle.refresh();
    expect(idle.snapshot().lag).toMatchObject({ total: 85, error: null });
    expect(idle.snapshot().lag?.partitions?.every((p) => p.committed === null)).toBe(true);
  });
});
