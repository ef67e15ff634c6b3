/**
 * `tributary api` against the real Kafka, one API process (composeApi) for the whole file, tokens
 * made and revoked with the real `tributary tokens` CLI (child processes) on the same topic: auth
 * (401, 403, revocation followed live), the rate limit's 429 with Retry-After, one 400 listing
 * every problem, the OpenAPI document, devices (create → get → disable, as the registry topic then
 * holds them) and commands (202 with a status URL that answers).
 */
import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { Kafka, logLevel } from 'kafkajs';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { composeApi, type ApiProcess } from '../bin/commands/api-command.ts';
import { readsExtension } from '../bin/api-reads.ts';
import { readApiReadConfig } from '../api/read-config.ts';
import { commandSettings } from '../bin/settings-catalog.ts';
import { createEnvReader } from '../core/config.ts';
import { decodeDeviceRecord, verifySecret } from '../core/device-record.ts';
import { silentLogger } from '../core/logger.ts';
import { readSettings } from '../core/settings.ts';
import { eventually, uniqueName } from './helpers.ts';
import { deleteTopics } from './kafka-cleanup.ts';

const brokers = inject('kafkaBrokers');
const entryPoint = fileURLToPath(new URL('../bin/tributary.ts', import.meta.url));
const rateLimit = 25;
const suffix = uniqueName('api');
const topics = { devices: `iot.devices.${suffix}`, commands: `iot.commands.${suffix}`, commandEvents: `iot.command-events.${suffix}`, apiTokens: `iot.api-tokens.${suffix}`, alerts: `iot.alerts.${suffix}`, deadLetter: `iot.dlq.${suffix}` };
const env: Record<string, string> = {
  TRIBUTARY_KAFKA_BROKERS: brokers.join(','),
  TRIBUTARY_TOPIC_DEVICES: topics.devices,
  TRIBUTARY_TOPIC_COMMANDS: topics.commands,
  TRIBUTARY_TOPIC_COMMAND_EVENTS: topics.commandEvents,
  TRIBUTARY_TOPIC_API_TOKENS: topics.apiTokens,
  // The read routes, on topics and tables that do not exist: they answer empty.
  TRIBUTARY_TOPIC_ALERTS: topics.alerts,
  TRIBUTARY_TOPIC_DEAD_LETTER: topics.deadLetter,
  TRIBUTARY_QUESTDB_TABLE_PREFIX: `${suffix}_`,
  TRIBUTARY_API_QUESTDB_PG_URL: `postgresql://admin:quest@127.0.0.1:${inject('questdbPgPort')}/qdb`,
  TRIBUTARY_KAFKA_PARTITIONS: '2',
  TRIBUTARY_HTTP_HOST: '127.0.0.1',
  TRIBUTARY_API_PORT: '0',
  TRIBUTARY_API_RATE_LIMIT: String(rateLimit),
  LOG_LEVEL: 'warn',
};

let api: ApiProcess;
let base: string;
const tokens: Record<'read' | 'operate' | 'limited' | 'revoked', { id: string; token: string }> = {} as never;

/** Runs `tributary tokens <args>` to its end; fails with its output unless it exits 0. */
async function tokensCli(args: readonly string[]): Promise<string> {
  const child = spawn(process.execPath, [entryPoint, 'tokens', ...args], { env: { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '', ...env, LOG_LEVEL: 'error' }, stdio: ['ignore', 'pipe', 'pipe'] });
  let stdout = '';
  let output = '';
  child.stdout.on('data', (chunk: Buffer) => ((stdout += chunk.toString()), (output += chunk.toString())));
  child.stderr.on('data', (chunk: Buffer) => (output += chunk.toString()));
  const hung = setTimeout(() => child.kill('SIGKILL'), 90_000);
  const code = await new Promise<number | null>((resolve) => child.once('close', resolve));
  clearTimeout(hung);
  if (code !== 0) throw new Error(`tributary tokens ${args.join(' ')} exited with ${code}:\n${output}`);
  return stdout;
}

async function createToken(name: string, scopes: string): Promise<{ id: string; token: string }> {
  const created = JSON.parse(await tokensCli(['create', '--name', name, '--scopes', scopes, '--json'])) as { id: string; token: string; scopes: string[] };
  expect(created.scopes).toEqual(scopes.split(','));
  return created;
}

function call(path: string, token: string | null, init: RequestInit = {}): Promise<Response> {
  const headers: Record<string, string> = { ...(token !== null && { authorization: `Bearer ${token}` }), ...(init.body !== undefined && { 'content-type': 'application/json' }) };
  return fetch(`${base}${path}`, { ...init, headers: { ...headers, ...(init.headers as Record<string, string> | undefined) } });
}

async function json<T = Record<string, unknown>>(response: Response, status: number): Promise<T> {
  const text = await response.text();
  expect(response.status, `${response.url}: ${text}`).toBe(status);
  return (text === '' ? null : JSON.parse(text)) as T;
}

beforeAll(async () => {
  // the tokens exist before the API starts: it must read them from the topic's beginning
  [tokens.read, tokens.operate] = await Promise.all([createToken('dashboards', 'read'), createToken('ops', 'operate')]);
  const reader = createEnvReader(env);
  const settings = readSettings(reader, commandSettings.api);
  const reads = readApiReadConfig(reader);
  reader.finish();
  api = composeApi(settings, silentLogger(), { extensions: [readsExtension(reads)], instanceId: suffix });
  await api.start();
  base = `http://127.0.0.1:${api.port()}`;
  // and these after: it must follow the topic
  [tokens.limited, tokens.revoked] = await Promise.all([createToken('limited', 'read'), createToken('to-revoke', 'read,operate')]);
}, 240_000);

afterAll(async () => {
  await api?.stop();
  const kafka = new Kafka({ clientId: 'api-test-cleanup', brokers, logLevel: logLevel.NOTHING });
  const admin = kafka.admin();
  await admin.connect();
  await deleteTopics(admin, Object.values(topics));
  await admin.disconnect();
});

describe('tributary api', () => {
  it('refuses requests without a token or with a bad one (401), and a read token on a write route (403)', async () => {
    const missing = await call('/v1/devices', null);
    expect(missing.headers.get('www-authenticate')).toBe('Bearer realm="tributary"');
    expect(await json(missing, 401)).toMatchObject({ type: '/problems/unauthorized' });
    const forged = `trb_${tokens.read.id}_${'A'.repeat(43)}`;
    expect(await json(await call('/v1/devices', forged), 401)).toMatchObject({ type: '/problems/unauthorized' });
    expect(await json(await call('/v1/devices', tokens.read.token), 200)).toMatchObject({ devices: [] });
    const write = await call('/v1/devices/dev-403', tokens.read.token, { method: 'PUT', body: '{}' });
    expect(write.headers.get('content-type')).toMatch(/^application\/problem\+json/);
    expect(await json(write, 403)).toMatchObject({ type: '/problems/insufficient_scope', neededScope: 'operate' });
    // a token created after the API started works as soon as the API followed it
    await eventually(async () => (await call('/v1/devices', tokens.limited.token)).status, (status) => status === 200, 10_000, 'the new token to be followed');
  });

  it('refuses a token once it is revoked', async () => {
    await eventually(async () => (await call('/v1/devices', tokens.revoked.token)).status, (status) => status === 200, 10_000, 'the token to be followed');
    expect(await tokensCli(['revoke', tokens.revoked.id])).toBe(`revoked token ${tokens.revoked.id} (to-revoke)\n`);
    await eventually(async () => (await call('/v1/devices', tokens.revoked.token)).status, (status) => status === 401, 10_000, 'the revocation to be followed');
    const listed = JSON.parse(await tokensCli(['list', '--json'])) as Array<Record<string, unknown>>;
    expect(listed.map((token) => token.name).sort()).toEqual(['dashboards', 'limited', 'ops', 'to-revoke']);
    expect(listed.find((token) => token.id === tokens.revoked.id)?.revokedAtMs).toEqual(expect.any(Number) as unknown);
    expect(JSON.stringify(listed)).not.toMatch(/hash|trb_/);
  });

  it('answers 429 with Retry-After once a token passed the limit, and other tokens still pass', async () => {
    const statuses: number[] = [];
    // the limited token was used once or more by the first test
    for (let i = 0; i < rateLimit + 1; i++) statuses.push((await call('/v1/devices', tokens.limited.token)).status);
    expect(statuses.at(-1)).toBe(429);
    expect(statuses.filter((status) => status === 200).length).toBeLessThan(rateLimit);
    const limited = await call('/v1/devices', tokens.limited.token);
    expect(Number(limited.headers.get('retry-after'))).toBeGreaterThan(0);
    expect(await json(limited, 429)).toMatchObject({ type: '/problems/rate_limited' });
    expect((await call('/v1/devices', tokens.read.token)).status).toBe(200);
  });

  it('lists every problem of a bad request in one 400, and writes nothing', async () => {
    const response = await call('/v1/devices/dev-bad?x=1', tokens.operate.token, { method: 'PUT', body: JSON.stringify({ secret: 'short', enabled: 'yes', colour: 'red' }) });
    const body = await json<{ problems: Array<{ pointer: string }> }>(response, 400);
    expect(body.problems.map((item) => item.pointer).sort()).toEqual(['/body/colour', '/body/enabled', '/body/secret']);
    // a record the schema takes but the registry's rules refuse (a metric name, a unit) is pointed at too
    const units = await call('/v1/devices/dev-bad', tokens.operate.token, { method: 'PUT', body: JSON.stringify({ units: { 'bad metric': 'degC' }, calibration: { temperature: { scale: 0, offset: 1 } } }) });
    const unitsBody = await json<{ problems: Array<{ pointer: string }> }>(units, 400);
    expect(unitsBody.problems.map((item) => item.pointer).sort()).toEqual(['/body/calibration/temperature/scale', '/body/units']);
    await json(await call('/v1/devices/dev-bad', tokens.read.token), 404);
  });

  it('serves an OpenAPI 3 document listing the device and command routes', async () => {
    const doc = await json<{ openapi: string; info: { title: string }; paths: Record<string, Record<string, unknown>>; components: { securitySchemes: Record<string, unknown> } }>(await call('/openapi.json', null), 200);
    expect(doc.openapi).toMatch(/^3\.\d+\.\d+$/);
    expect(doc.info.title).toBeTruthy();
    expect(Object.keys(doc.paths)).toEqual(expect.arrayContaining(['/v1/devices', '/v1/devices/{id}', '/v1/devices/{id}/disable', '/v1/devices/{id}/commands', '/v1/commands/{id}']) as unknown);
    expect(Object.keys(doc.paths['/v1/devices/{id}'] ?? {}).sort()).toEqual(['delete', 'get', 'put']);
    expect(doc.components.securitySchemes.bearer).toMatchObject({ type: 'http', scheme: 'bearer' });
  });

  it('creates a device, gets it, disables it, rotates its secret, through the registry topic', async () => {
    const created = await json<{ device: Record<string, unknown>; secret: string }>(
      await call('/v1/devices/dev-1', tokens.operate.token, { method: 'PUT', body: JSON.stringify({ site: 'lab', units: { temperature: 'degF' } }) }),
      201,
    );
    expect(created.device).toMatchObject({ deviceId: 'dev-1', enabled: true, site: 'lab', units: { temperature: 'degF' } });
    expect(created.secret).toMatch(/^[A-Za-z0-9_-]{43}$/);
    expect(JSON.stringify(created)).not.toContain('scrypt');
    // answered once this replica's registry shows it: no waiting
    expect(await json(await call('/v1/devices/dev-1', tokens.read.token), 200)).toMatchObject({ deviceId: 'dev-1', enabled: true, site: 'lab' });
    expect(await json(await call('/v1/devices/dev-1/disable', tokens.operate.token, { method: 'POST' }), 200)).toMatchObject({ deviceId: 'dev-1', enabled: false });
    expect(await json(await call('/v1/devices/dev-1', tokens.read.token), 200)).toMatchObject({ enabled: false });
    const rotated = await json<{ secret?: string }>(await call('/v1/devices/dev-1/rotate-secret', tokens.operate.token, { method: 'POST', body: JSON.stringify({ secret: 'chosen-secret-1' }) }), 200);
    expect(rotated.secret).toBeUndefined();
    // the registry topic holds what the CLI and every gateway read
    const record = api.context.registry.get('dev-1');
    expect(record && decodeDeviceRecord('dev-1', Buffer.from(JSON.stringify(record)))).toMatchObject({ ok: true, value: { enabled: false, site: 'lab' } });
    expect(await verifySecret('chosen-secret-1', record?.secretHash ?? '')).toBe(true);
    // a replace keeps the secret and createdAtMs; a remove answers 404 after
    const replaced = await json<{ device: { createdAtMs: number; model?: string; site?: string } }>(await call('/v1/devices/dev-1', tokens.operate.token, { method: 'PUT', body: JSON.stringify({ model: 'm2' }) }), 200);
    expect(replaced.device).toMatchObject({ createdAtMs: created.device.createdAtMs, model: 'm2' });
    expect(replaced.device.site).toBeUndefined();
    expect(await verifySecret('chosen-secret-1', api.context.registry.get('dev-1')?.secretHash ?? '')).toBe(true);
    await json(await call('/v1/devices/dev-1', tokens.operate.token, { method: 'DELETE' }), 204);
    expect(await json(await call('/v1/devices/dev-1', tokens.read.token), 404)).toMatchObject({ type: '/problems/unknown_device' });
    expect(await json(await call('/v1/devices/nobody/enable', tokens.operate.token, { method: 'POST' }), 404)).toMatchObject({ type: '/problems/unknown_device' });
  });

  it('accepts a command with 202 and a status URL that answers, and refuses unknown devices and commands', async () => {
    await json(await call('/v1/devices/dev-cmd', tokens.operate.token, { method: 'PUT', body: JSON.stringify({ secret: 'dev-cmd-secret' }) }), 201);
    const response = await call('/v1/devices/dev-cmd/commands', tokens.operate.token, { method: 'POST', body: JSON.stringify({ name: 'set-interval', params: { intervalS: 30 }, ttl: '10m', correlationId: 'op-1' }) });
    const accepted = await json<{ commandId: string; statusUrl: string }>(response, 202);
    expect(response.headers.get('location')).toBe(`/v1/commands/${accepted.commandId}`);
    expect(accepted.statusUrl).toBe(`/v1/commands/${accepted.commandId}`);
    const status = await json<Record<string, unknown>>(await call(accepted.statusUrl, tokens.read.token), 200);
    expect(status).toMatchObject({ commandId: accepted.commandId, deviceId: 'dev-cmd', state: 'accepted', terminal: false, command: { name: 'set-interval', params: { intervalS: 30 }, qos: 1, correlationId: 'op-1' } });
    const command = status.command as { issuedAtMs: number; expiresAtMs: number };
    expect(command.expiresAtMs - command.issuedAtMs).toBe(600_000);

    const bad = await json<{ problems: Array<{ pointer: string }> }>(await call('/v1/devices/dev-cmd/commands', tokens.operate.token, { method: 'POST', body: JSON.stringify({ name: 'a/b', qos: 2 }) }), 400);
    expect(bad.problems.map((item) => item.pointer).sort()).toEqual(['/body/name', '/body/qos']);
    const badTtl = await json<{ problems: Array<{ pointer: string }> }>(await call('/v1/devices/dev-cmd/commands', tokens.operate.token, { method: 'POST', body: JSON.stringify({ name: 'reboot', ttl: '45d' }) }), 400);
    expect(badTtl.problems).toEqual([{ pointer: '/body/ttl', detail: '"45d": must be between 1s and 30d' }]);
    expect(await json(await call('/v1/devices/nobody/commands', tokens.operate.token, { method: 'POST', body: '{"name":"reboot"}' }), 404)).toMatchObject({ type: '/problems/unknown_device' });
    expect(await json(await call('/v1/devices/dev-cmd/commands', tokens.read.token, { method: 'POST', body: '{"name":"reboot"}' }), 403)).toMatchObject({ neededScope: 'operate' });
    expect(await json(await call('/v1/commands/no-such-command', tokens.read.token), 404)).toMatchObject({ type: '/problems/unknown_command' });
  });

  it('serves the read routes (dashboards, alerts feed, dead letters) behind the read scope, documented in OpenAPI', async () => {
    const doc = await json<{ paths: Record<string, Record<string, unknown>> }>(await call('/openapi.json', null), 200);
    expect(Object.keys(doc.paths)).toEqual(
      expect.arrayContaining(['/v1/devices/{id}/latest', '/v1/devices/{id}/series', '/v1/devices/{id}/completeness', '/v1/sites/{site}/latest', '/v1/feeds/alerts', '/v1/dead-letters', '/v1/dead-letters/summary']) as unknown,
    );
    await json(await call('/v1/devices/dev-reads', tokens.operate.token, { method: 'PUT', body: '{}' }), 201);
    expect(await json(await call('/v1/devices/dev-reads/latest', tokens.operate.token), 200)).toEqual({ deviceId: 'dev-reads', readings: [] });
    expect(await json(await call('/v1/devices/nobody/latest', tokens.operate.token), 404)).toMatchObject({ type: '/problems/unknown_device' });
    const tooMany = await call('/v1/devices/dev-reads/series?metric=temperature&from=now-1d&to=now&step=1s', tokens.operate.token);
    expect(tooMany.headers.get('content-type')).toContain('application/problem+json');
    expect(await json(tooMany, 422)).toMatchObject({ type: '/problems/too_many_points' });
    expect(await json(await call('/v1/feeds/alerts', tokens.operate.token), 200)).toMatchObject({ items: [], next: null, full: false });
    await json(await call('/v1/feeds/alerts', null), 401);
    expect(await json(await call('/v1/dead-letters', tokens.operate.token), 200)).toMatchObject({ items: [], complete: true });
    expect(await json(await call('/v1/dead-letters/summary', tokens.operate.token), 200)).toMatchObject({ total: 0, reasons: [] });
  });

  it('reports ready, and request durations by route and status', async () => {
    expect(await json(await call('/readyz', null), 200)).toMatchObject({ ready: true, checks: { 'device-registry': 'ok', tokens: 'ok', 'kafka-producer': 'ok' } });
    const metrics = await (await call('/metrics', null)).text();
    expect(metrics).toMatch(/tributary_api_request_duration_seconds_count\{route="\/v1\/devices\/:id",method="GET",status="404"\} [1-9]/);
    expect(metrics).toMatch(/tributary_api_request_duration_seconds_count\{route="\/v1\/devices",method="GET",status="429"\} [1-9]/);
  });
});
