/**
 * Jobs through the HTTP API, with two `tributary api` processes as two replicas on the real Kafka
 * and QuestDB: a replay answered 202 with its Location once on Kafka, the same job for a retried
 * POST with the same Idempotency-Key, 409 for the key with another request, 400 listing every
 * problem; the replica running the job is SIGKILLed mid-job and the other resumes it from its
 * checkpoint, every row landing once; either replica answers for the job.
 */
import { afterEach, describe, expect, inject, it } from 'vitest';
import type { EnrichChild, EnrichHarness } from './enrich-harness.ts';
import { explain, startEnrichHarness, telemetryStream } from './enrich-harness.ts';
import { createCleanups } from './cleanups.ts';
import { eventually, uniqueName } from './helpers.ts';
import { deleteGroups, deleteTopics } from './kafka-cleanup.ts';
import { Kafka, logLevel } from 'kafkajs';

const brokers = inject('kafkaBrokers');
const questdbHttpUrl = inject('questdbHttpUrl');
const t0 = Date.UTC(2026, 3, 1);
const devices = Array.from({ length: 6 }, (_, i) => `api-job-${i}`);
const cleanups = createCleanups();

afterEach(() => cleanups.runAll());

interface Replica {
  child: EnrichChild;
  base: string;
}

interface Job {
  id: string;
  state: string;
  attempt: number;
  runner: string | null;
  progress: { done: number; total: number; percent: number };
  counters: { records: number; rows: number };
}

async function setUp(): Promise<{ h: EnrichHarness; env: Record<string, string>; token: string }> {
  const suffix = uniqueName('apijobs');
  const topics = { TRIBUTARY_TOPIC_JOBS: `iot.jobs.${suffix}`, TRIBUTARY_TOPIC_JOB_STATE: `iot.jobs.state.${suffix}`, TRIBUTARY_TOPIC_JOB_EVENTS: `iot.jobs.events.${suffix}`, TRIBUTARY_TOPIC_API_TOKENS: `iot.api-tokens.${suffix}`, TRIBUTARY_TOPIC_COMMANDS: `iot.commands.${suffix}`, TRIBUTARY_TOPIC_COMMAND_EVENTS: `iot.command-events.${suffix}` };
  const group = `tributary-jobs-${suffix}`;
  // Registered before the harness, so it runs after the harness deleted the groups that read these topics.
  cleanups.add(async () => {
    const admin = new Kafka({ clientId: 'api-jobs-cleanup', brokers, logLevel: logLevel.NOTHING }).admin();
    await admin.connect();
    try {
      await deleteGroups(admin, new Set([group]));
      await deleteTopics(admin, Object.values(topics));
    } finally {
      await admin.disconnect();
    }
  });
  const h = await startEnrichHarness({ brokers, questdbHttpUrl, telemetryPartitions: 3 });
  cleanups.add(() => h.close());
  for (const deviceId of devices) await h.registerDevice({ deviceId, site: 'site-a' });
  const env = { ...topics, TRIBUTARY_API_JOBS_GROUP: group, TRIBUTARY_API_PORT: '0', TRIBUTARY_HTTP_HOST: '127.0.0.1', TRIBUTARY_KAFKA_PARTITIONS: '2', TRIBUTARY_API_JOB_CHECKPOINT_MS: '200' };
  const tokens = h.spawnCli(['tokens', 'create', '--name', 'ops', '--scopes', 'operate', '--json'], env);
  expect((await tokens.exited).code, tokens.output()).toBe(0);
  return { h, env, token: (JSON.parse(tokens.stdout()) as { token: string }).token };
}

/** Starts `tributary api` and waits until it is ready; its port comes from its start-up log line. */
async function startReplica(h: EnrichHarness, env: Record<string, string>): Promise<Replica> {
  const child = h.spawnCli(['api'], { ...env, LOG_LEVEL: 'info' });
  const port = await eventually(
    () => Promise.resolve(/"port":(\d+)[^\n]*"msg":"api running"/.exec(child.stdout())?.[1]),
    (found) => found !== undefined,
    120_000,
    'the API to listen',
  ).catch(explain(child));
  const base = `http://127.0.0.1:${port}`;
  await eventually(async () => (await fetch(`${base}/readyz`)).status, (status) => status === 200, 60_000, 'the API ready').catch(explain(child));
  return { child, base };
}

function call(replica: Replica, path: string, token: string, init: { method?: string; body?: unknown; headers?: Record<string, string> } = {}): Promise<Response> {
  return fetch(`${replica.base}${path}`, {
    method: init.method ?? 'GET',
    headers: { authorization: `Bearer ${token}`, ...(init.body !== undefined && { 'content-type': 'application/json' }), ...init.headers },
    ...(init.body !== undefined && { body: JSON.stringify(init.body) }),
  });
}

async function job(replica: Replica, id: string, token: string): Promise<Job> {
  const response = await call(replica, `/v1/jobs/${id}`, token);
  expect(response.status).toBe(200);
  return (await response.json()) as Job;
}

describe('jobs through the API', () => {
  it('a replay job survives the SIGKILL of the replica running it; idempotency keys, conflicts and bad input are answered', async () => {
    const { h, env, token } = await setUp();
    const messages = telemetryStream(devices, 100, { t0 });
    await h.produceTelemetry(messages);
    const [a, b] = await Promise.all([startReplica(h, env), startReplica(h, env)]);

    const bad = await call(a, '/v1/replays', token, { method: 'POST', body: { partitions: [0, 99], from: 'yesterday', maxRatePerSec: -1 } });
    expect(bad.status).toBe(400);
    expect(bad.headers.get('content-type')).toMatch(/^application\/problem\+json/);
    const problems = ((await bad.json()) as { problems: Array<{ pointer: string }> }).problems.map((item) => item.pointer);
    expect(problems).toContain('/body/maxRatePerSec');
    const semantic = await call(a, '/v1/replays', token, { method: 'POST', body: { partitions: [0, 99], from: 'yesterday' } });
    expect(semantic.status).toBe(400);
    expect(((await semantic.json()) as { problems: Array<{ pointer: string }> }).problems.map((item) => item.pointer).sort()).toEqual(['/body/from', '/body/partitions']);

    const body = { partitions: 'all', maxRatePerSec: 100 };
    const posted = await call(a, '/v1/replays', token, { method: 'POST', body, headers: { 'idempotency-key': 'replay-1' } });
    expect(posted.status).toBe(202);
    const location = posted.headers.get('location')!;
    expect(location).toMatch(/^\/v1\/jobs\/j[0-9a-f]{32}$/);
    const id = location.split('/').at(-1)!;
    // A retried POST, to the other replica: the same job.
    const retried = await call(b, '/v1/replays', token, { method: 'POST', body, headers: { 'idempotency-key': 'replay-1' } });
    expect(retried.status).toBe(202);
    expect(retried.headers.get('location')).toBe(location);
    const conflict = await call(a, '/v1/replays', token, { method: 'POST', body: { ...body, maxRatePerSec: 5 }, headers: { 'idempotency-key': 'replay-1' } });
    expect(conflict.status).toBe(409);

    const running = await eventually(() => job(b, id, token), (view) => view.state === 'running' && view.progress.done >= 100, 60_000, 'the job running with progress');
    const holder = [a, b].find((replica) => running.runner?.includes(`-${replica.child.process.pid}-`));
    expect(holder, `runner ${running.runner}`).toBeDefined();
    const other = holder === a ? b : a;
    holder!.child.process.kill('SIGKILL');

    const done = await eventually(() => job(other, id, token), (view) => view.state === 'succeeded', 120_000, 'the job finished by the other replica').catch(explain(other.child));
    expect(done.attempt).toBe(2);
    expect(done.runner).toContain(`-${other.child.process.pid}-`);
    expect(done.progress).toMatchObject({ done: messages.length, total: messages.length, percent: 100 });
    // Resumed from its checkpoint, not restarted: at most a checkpoint interval's records read twice.
    expect(done.counters.records).toBeGreaterThanOrEqual(messages.length);
    expect(done.counters.records).toBeLessThan(messages.length + 100);
    await eventually(() => h.walApplied(h.tables.readings), (applied) => applied, 30_000, 'writes applied');
    expect(await h.rowCounts()).toEqual({ rows: messages.length * 2, distinct: messages.length * 2 });

    const cancelFinished = await call(other, `/v1/jobs/${id}`, token, { method: 'DELETE' });
    expect(cancelFinished.status).toBe(409);
    const listed = (await (await call(other, '/v1/jobs?state=succeeded', token)).json()) as { items: Job[] };
    expect(listed.items.map((item) => item.id)).toContain(id);
  });
});
