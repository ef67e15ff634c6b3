/**
 * Jobs against the real Kafka and QuestDB, with job services composed as an API process composes
 * them (bin/job-service.ts): a replay job writes exactly the rows of its ranges; two runners share
 * the group and a job left by a stopped runner is resumed from its checkpoint by the other; a
 * cancellation stops a job; a failed job raises an alert; idempotency keys name one job; a
 * re-drive sends dead letters back once their device exists, and again without adding a row.
 */
import { Kafka, logLevel } from 'kafkajs';
import { Registry } from 'prom-client';
import { afterEach, describe, expect, inject, it } from 'vitest';
import { createDeviceRegistry } from '../core/device-registry.ts';
import { createEnvReader } from '../core/config.ts';
import { decodeJobEvent, type JobRequest } from '../core/job.ts';
import { createLogger } from '../core/logger.ts';
import { readEnrichConfig } from '../enrich/enrich-config.ts';
import { composeJobService, type JobService } from '../bin/job-service.ts';
import { createKafkaClientFactory } from '../kafka/kafka-client-factory.ts';
import type { JobView } from '../jobs/job-view.ts';
import { createCleanups } from './cleanups.ts';
import { startEnrichHarness, telemetryStream, type EnrichHarness } from './enrich-harness.ts';
import { eventually, uniqueName } from './helpers.ts';
import { deleteGroups, deleteTopics } from './kafka-cleanup.ts';

const brokers = inject('kafkaBrokers');
const questdbHttpUrl = inject('questdbHttpUrl');
const t0 = Date.UTC(2026, 2, 1);
const devices = Array.from({ length: 6 }, (_, i) => `job-${i}`);
const cleanups = createCleanups();
const logger = createLogger({ level: process.env.TRIBUTARY_TEST_LOGS === 'true' ? 'debug' : 'silent', name: 'jobs-test' });

afterEach(() => cleanups.runAll());

interface JobsRig {
  h: EnrichHarness;
  topics: { jobs: string; jobState: string; jobEvents: string };
  groupId: string;
  /** A job service (store, submitter, runner) as one API replica runs it. */
  startService(runnerId: string, options?: { runner?: boolean }): Promise<JobService>;
  submit(service: JobService, request: JobRequest, key?: string): Promise<JobView>;
  waitFor(service: JobService, id: string, done: (job: JobView) => boolean, what: string, timeoutMs?: number): Promise<JobView>;
  events(id: string): Promise<string[]>;
}

async function rig(): Promise<JobsRig> {
  const suffix = uniqueName('jobs');
  const topics = { jobs: `iot.jobs.${suffix}`, jobState: `iot.jobs.state.${suffix}`, jobEvents: `iot.jobs.events.${suffix}` };
  const groupId = `tributary-jobs-${suffix}`;
  // Registered before the harness, so it runs after the harness deleted the groups that read these topics.
  cleanups.add(async () => {
    const admin = new Kafka({ clientId: 'jobs-test-cleanup', brokers, logLevel: logLevel.NOTHING }).admin();
    await admin.connect();
    try {
      await deleteGroups(admin, new Set([groupId]));
      await deleteTopics(admin, Object.values(topics));
    } finally {
      await admin.disconnect();
    }
  });
  const h = await startEnrichHarness({ brokers, questdbHttpUrl, telemetryPartitions: 3 });
  cleanups.add(() => h.close());
  for (const deviceId of devices) await h.registerDevice({ deviceId, site: 'site-a' });
  const kafka = createKafkaClientFactory({ brokers, logger });
  const enrich = readEnrichConfig(createEnvReader(h.env()));
  return {
    h,
    topics,
    groupId,
    async startService(runnerId, options = {}) {
      const clientId = `jobs-test-${runnerId}`;
      const registry = createDeviceRegistry({ follower: kafka.follower({ clientId, topic: h.topics.devices }), logger });
      const producer = kafka.producer({ clientId, sendTimeoutMs: 10_000, lingerMs: 0, maxBatchRecords: 100, compression: 'none' });
      const service = composeJobService({
        kafka,
        clientId,
        enrich,
        topics: { ...topics, alerts: h.topics.alerts, telemetry: h.topics.telemetry, deadLetter: h.topics.deadLetter },
        layout: { partitions: 2, replicationFactor: 1 },
        registry,
        producer,
        runner: { enabled: options.runner ?? true, groupId, concurrency: 2, runnerId, checkpointIntervalMs: 200, progressEventIntervalMs: 500 },
        metricsRegistry: new Registry(),
        metricPrefix: 'test_',
        logger,
      });
      await producer.start();
      await registry.start();
      await service.start();
      cleanups.add(async () => {
        await service.stop();
        await registry.stop();
        await producer.stop();
      });
      return service;
    },
    async submit(service, request, key) {
      const submitted = await service.submitter.submit({ request, submittedBy: 'test', ...(key !== undefined && { idempotency: { namespace: 'test', key } }) });
      expect(submitted.outcome).toBe('created');
      return submitted.job;
    },
    waitFor: (service, id, done, what, timeoutMs = 60_000) => eventually(() => Promise.resolve(service.store.get(id)), (job) => job !== null && done(job), timeoutMs, what) as Promise<JobView>,
    async events(id) {
      const records = await readAll(h, topics.jobEvents);
      return records.filter((record) => record.key === id).map((record) => (decodeJobEvent(record.value) as { ok: true; value: { type: string } }).value.type);
    },
  };
}

/** Every record the topic holds now. */
async function readAll(h: EnrichHarness, topic: string): Promise<Awaited<ReturnType<EnrichHarness['readTopic']>>> {
  const total = [...(await h.endOffsets(topic)).values()].reduce((sum, end) => sum + end, 0);
  return total === 0 ? [] : h.readTopic(topic, total);
}

const replayAll = (maxRatePerSec = 0): JobRequest => ({ kind: 'replay', partitions: 'all', from: { kind: 'earliest' }, to: { kind: 'latest' }, maxRatePerSec });

async function storedRows(h: EnrichHarness): Promise<{ rows: number; distinct: number }> {
  await eventually(() => h.walApplied(h.tables.readings), (applied) => applied, 30_000, 'writes applied');
  return h.rowCounts();
}

describe('jobs', () => {
  it('a replay job writes every row of its ranges once, reports progress and emits its lifecycle events', async () => {
    const r = await rig();
    const messages = telemetryStream(devices, 20, { t0 });
    await r.h.produceTelemetry(messages);
    const service = await r.startService('a');
    const job = await r.submit(service, replayAll());
    expect(job.state).toBe('accepted');
    const done = await r.waitFor(service, job.id, (view) => view.state === 'succeeded', 'replay job succeeded');
    expect(done).toMatchObject({ attempt: 1, progress: { done: messages.length, total: messages.length, percent: 100 }, counters: { records: messages.length, rows: messages.length * 2, refused: {}, skipped: 0 } });
    expect(await storedRows(r.h)).toEqual({ rows: messages.length * 2, distinct: messages.length * 2 });
    const events = await eventually(() => r.events(job.id), (types) => types.includes('succeeded'), 30_000, 'lifecycle events');
    expect(events[0]).toBe('accepted');
    expect(events).toContain('started');
    expect(events.at(-1)).toBe('succeeded');
  });

  it('`tributary replay --submit --wait` hands the replay to a runner and follows it to its end', async () => {
    const r = await rig();
    const messages = telemetryStream(devices, 10, { t0 });
    await r.h.produceTelemetry(messages);
    await r.startService('a');
    const env = { TRIBUTARY_TOPIC_JOBS: r.topics.jobs, TRIBUTARY_TOPIC_JOB_STATE: r.topics.jobState, TRIBUTARY_TOPIC_JOB_EVENTS: r.topics.jobEvents };
    const cli = r.h.spawnCli(['replay', '--partition', 'all', '--submit', '--wait', '--json', '--idempotency-key', 'cli-1'], env);
    const { code } = await cli.exited;
    expect(code, cli.output()).toBe(0);
    const job = JSON.parse(cli.stdout()) as JobView;
    expect(job).toMatchObject({ state: 'succeeded', submittedBy: expect.stringMatching(/^cli:/) as unknown, counters: { records: messages.length, rows: messages.length * 2 } });
    // The same key again names the same job, which is not run twice.
    const again = r.h.spawnCli(['replay', '--partition', 'all', '--submit', '--idempotency-key', 'cli-1'], env);
    expect((await again.exited).code, again.output()).toBe(0);
    expect(again.stdout().trim()).toBe(job.id);
    expect(again.output()).toMatch(/already submitted as job/);
  });

  it('a job left by a stopped runner is resumed from its checkpoint by the other runner of the group', async () => {
    const r = await rig();
    const messages = telemetryStream(devices, 100, { t0 });
    await r.h.produceTelemetry(messages);
    const a = await r.startService('a');
    const b = await r.startService('b');
    // 150 records a second: about four seconds of work.
    const job = await r.submit(a, replayAll(150));
    const running = await r.waitFor(a, job.id, (view) => view.state === 'running' && view.progress.done >= 100, 'the job running with progress');
    const holder = running.attempt === 1 && (await eventually(() => Promise.resolve(a.store.facts(job.id)?.run?.runnerId), (id) => id !== undefined, 10_000, 'runner id'));
    const [first, second] = holder === 'a' ? [a, b] : [b, a];
    await first.stop();
    const resumed = await r.waitFor(second, job.id, (view) => view.state === 'succeeded', 'job finished by the other runner', 90_000);
    expect(resumed.attempt).toBe(2);
    expect(resumed.progress).toMatchObject({ done: messages.length, total: messages.length });
    // Resumed, not restarted: records read over both attempts exceed the total by at most what was
    // read after the last checkpoint (200 ms at 150 records a second, plus one rate slice).
    expect(resumed.counters.records).toBeGreaterThanOrEqual(messages.length);
    expect(resumed.counters.records).toBeLessThan(messages.length + 100);
    expect(await storedRows(r.h)).toEqual({ rows: messages.length * 2, distinct: messages.length * 2 });
  });

  it('a cancelled job stops; a failed job raises an alert; an idempotency key names one job', async () => {
    const r = await rig();
    await r.h.produceTelemetry(telemetryStream(devices, 100, { t0 }));
    const service = await r.startService('a');

    const slow = await r.submit(service, replayAll(50));
    await r.waitFor(service, slow.id, (view) => view.state === 'running' && view.progress.done > 0, 'slow job running');
    const cancel = await service.submitter.cancel(slow.id, 'test');
    expect(cancel.outcome).toBe('requested');
    const cancelled = await r.waitFor(service, slow.id, (view) => view.state === 'cancelled', 'job cancelled');
    expect(cancelled.progress.done).toBeLessThan(cancelled.progress.total);
    expect(await service.submitter.cancel(slow.id, 'test')).toMatchObject({ outcome: 'finished' });

    const broken = await r.submit(service, { kind: 'replay', partitions: [7], from: { kind: 'earliest' }, to: { kind: 'latest' }, maxRatePerSec: 0 });
    const failed = await r.waitFor(service, broken.id, (view) => view.state === 'failed', 'job failed');
    expect(failed.error).toMatch(/no partition 7/);
    const alerts = await eventually(() => readAll(r.h, r.h.topics.alerts), (records) => records.some((record) => record.key === broken.id), 30_000, 'job_failed alert');
    expect(JSON.parse(alerts.find((record) => record.key === broken.id)!.value!.toString())).toMatchObject({ kind: 'job_failed', jobId: broken.id, jobKind: 'replay' });

    const keyed = await r.submit(service, replayAll(), 'key-1');
    expect(await service.submitter.submit({ request: replayAll(), submittedBy: 'test', idempotency: { namespace: 'test', key: 'key-1' } })).toMatchObject({ outcome: 'existing', job: { id: keyed.id } });
    expect(await service.submitter.submit({ request: replayAll(5), submittedBy: 'test', idempotency: { namespace: 'test', key: 'key-1' } })).toMatchObject({ outcome: 'conflict', job: { id: keyed.id } });
    // Another replica, following the state topic, knows the job too, and the submission ran once.
    const other = await r.startService('other', { runner: false });
    await r.waitFor(other, keyed.id, (view) => view.state === 'succeeded', 'keyed job seen by another replica');
    expect((await r.events(keyed.id)).filter((type) => type === 'started')).toHaveLength(1);
  });

  it('a re-drive sends dead letters back once their device exists; refused ones are counted and stay; again adds no row', async () => {
    const r = await rig();
    const enricher = await r.h.startEnricher();
    const late = telemetryStream(['late-1'], 10, { t0 });
    await r.h.produceTelemetry([...late, { deviceId: 'late-1', payload: 'not json', receivedAtMs: t0 }]);
    await eventually(() => r.h.endOffsets(r.h.topics.deadLetter), (ends) => [...ends.values()].reduce((a, b) => a + b, 0) >= 11, 60_000, 'dead letters');
    await enricher.stop();

    await r.h.registerDevice({ deviceId: 'late-1', site: 'site-late' });
    const service = await r.startService('a');
    const job = await r.submit(service, { kind: 'redrive', filter: { deviceId: 'late-1' }, maxRatePerSec: 0 });
    const done = await r.waitFor(service, job.id, (view) => view.state === 'succeeded', 're-drive succeeded');
    expect(done.counters).toMatchObject({ records: 11, rows: 20, skipped: 0 });
    expect(Object.values(done.counters.refused)).toEqual([1]);
    const rows = (await r.h.query(`select count(), count_distinct(kafka_offset), min(site), max(site) from '${r.h.tables.readings}' where device = 'late-1'`)) as Array<[number, number, string, string]>;
    expect(rows).toEqual([[20, 10, 'site-late', 'site-late']]);

    const again = await r.submit(service, { kind: 'redrive', filter: { reason: 'unknown_device' }, maxRatePerSec: 0 });
    const second = await r.waitFor(service, again.id, (view) => view.state === 'succeeded', 'second re-drive succeeded');
    expect(second.counters).toMatchObject({ records: 11, rows: 20, skipped: 1 });
    expect(await storedRows(r.h)).toEqual({ rows: 20, distinct: 20 });
  });
});
