/**
 * The API server's HTTP behaviour over a real socket (no Kafka: the routes here are the test's own):
 * auth and scopes, problem details for every refusal, validation listing every problem of every
 * part, the rate limit with Retry-After, the generated OpenAPI document, health and metrics.
 */
import { Registry } from 'prom-client';
import { afterEach, describe, expect, it } from 'vitest';
import { silentLogger } from '../core/logger.ts';
import type { Principal, RouteModule } from './api-routes.ts';
import { createApiServer, type ApiServer, type ApiServerOptions } from './api-server.ts';
import { problem } from './problem.ts';

const principals: Record<string, Principal> = {
  'read-token': { tokenId: 'r1', name: 'reader', scopes: ['read'] },
  'operate-token': { tokenId: 'o1', name: 'operator', scopes: ['operate'] },
  'other-operate-token': { tokenId: 'o2', name: 'operator 2', scopes: ['operate'] },
};

const testRoutes: RouteModule = (app) => {
  app.get('/things/:id', { config: { scope: 'read' }, schema: { params: { type: 'object', properties: { id: { type: 'string', pattern: '^[a-z]+$' } } } } }, async (request) => ({
    id: (request.params as { id: string }).id,
    by: request.principal?.name,
  }));
  app.post(
    '/things',
    {
      config: { scope: 'operate' },
      schema: {
        querystring: { type: 'object', properties: { dryRun: { type: 'boolean' } }, additionalProperties: false },
        body: { type: 'object', required: ['name', 'partitions'], additionalProperties: false, properties: { name: { type: 'string', minLength: 1 }, partitions: { type: 'array', items: { type: 'integer' } } } },
      },
    },
    async (_request, reply) => reply.code(201).send({ created: true }),
  );
  app.get('/conflict', { config: { scope: 'read' } }, async () => {
    throw problem({ status: 409, kind: 'conflict', title: 'Conflict', detail: 'already there', headers: { 'x-test': 'yes' } });
  });
  app.get('/broken', { config: { scope: 'read' } }, async () => {
    throw new Error('secret internals: password=hunter2');
  });
};

const servers: ApiServer[] = [];
afterEach(async () => {
  await Promise.all(servers.splice(0).map((server) => server.stop()));
});

async function startServer(overrides: Partial<ApiServerOptions> = {}): Promise<{ url: string; registry: Registry }> {
  const registry = new Registry();
  const server = createApiServer({
    routes: [testRoutes],
    verifyToken: (token) => principals[token] ?? null,
    checks: () => [{ name: 'thing', check: () => null }],
    metricsRegistry: registry,
    rateLimit: { max: 1000, windowMs: 60_000 },
    bodyLimitBytes: 1024,
    logger: silentLogger(),
    host: '127.0.0.1',
    port: 0,
    version: 'test',
    ...overrides,
  });
  servers.push(server);
  await server.start();
  return { url: `http://127.0.0.1:${server.port()}`, registry };
}

function auth(token: string): Record<string, string> {
  return { authorization: `Bearer ${token}` };
}

async function problemOf(response: Response): Promise<Record<string, unknown>> {
  expect(response.headers.get('content-type')).toMatch(/^application\/problem\+json/);
  return (await response.json()) as Record<string, unknown>;
}

describe('api server', () => {
  it('refuses a request without a token, or with a bad one, with 401 and WWW-Authenticate', async () => {
    const { url } = await startServer();
    const missing = await fetch(`${url}/v1/things/abc`);
    expect(missing.status).toBe(401);
    expect(missing.headers.get('www-authenticate')).toBe('Bearer realm="tributary"');
    expect(await problemOf(missing)).toMatchObject({ type: '/problems/unauthorized', status: 401, instance: '/v1/things/abc' });

    const bad = await fetch(`${url}/v1/things/abc`, { headers: auth('nope') });
    expect(bad.status).toBe(401);
    expect(bad.headers.get('www-authenticate')).toContain('error="invalid_token"');

    const good = await fetch(`${url}/v1/things/abc`, { headers: auth('read-token') });
    expect(good.status).toBe(200);
    expect(await good.json()).toEqual({ id: 'abc', by: 'reader' });
    // operate includes read
    expect((await fetch(`${url}/v1/things/abc`, { headers: auth('operate-token') })).status).toBe(200);
  });

  it('refuses a read token on a write route with 403 naming the scope needed, before reading the body', async () => {
    const { url } = await startServer();
    const response = await fetch(`${url}/v1/things`, { method: 'POST', headers: { ...auth('read-token'), 'content-type': 'application/json' }, body: '{"not json' });
    expect(response.status).toBe(403);
    expect(response.headers.get('www-authenticate')).toContain('scope="operate"');
    const body = await problemOf(response);
    expect(body).toMatchObject({ type: '/problems/insufficient_scope', neededScope: 'operate' });
    expect(body.detail).toContain('needs scope operate');
  });

  it('lists every problem of every part of a request in one 400', async () => {
    const { url } = await startServer();
    const response = await fetch(`${url}/v1/things?dryRun=perhaps&extra=1`, {
      method: 'POST',
      headers: { ...auth('operate-token'), 'content-type': 'application/json' },
      body: JSON.stringify({ partitions: [1, 'two'], colour: 'red' }),
    });
    expect(response.status).toBe(400);
    const body = await problemOf(response);
    expect(body).toMatchObject({ type: '/problems/invalid_request', status: 400 });
    const pointers = (body.problems as Array<{ pointer: string; detail: string }>).map((item) => item.pointer).sort();
    expect(pointers).toEqual(['/body/colour', '/body/name', '/body/partitions/1', '/query/dryRun', '/query/extra']);
    expect(body.problems).toContainEqual({ pointer: '/body/name', detail: 'is required' });

    const params = await fetch(`${url}/v1/things/ABC`, { headers: auth('read-token') });
    const paramsBody = await problemOf(params);
    expect(paramsBody).toMatchObject({ status: 400, problems: [{ pointer: '/params/id' }] });
    expect(JSON.stringify(paramsBody.problems)).toContain('must match pattern');
    const created = await fetch(`${url}/v1/things?dryRun=true`, { method: 'POST', headers: { ...auth('operate-token'), 'content-type': 'application/json' }, body: '{"name":"a","partitions":[1]}' });
    expect(created.status).toBe(201);
  });

  it('answers unknown routes, bad JSON and too large bodies with problems, and hides internals', async () => {
    const { url } = await startServer();
    const unknown = await fetch(`${url}/v1/nothing-here`, { headers: auth('read-token') });
    expect(unknown.status).toBe(404);
    expect(await problemOf(unknown)).toMatchObject({ type: '/problems/not_found', instance: '/v1/nothing-here' });

    const post = (body: string): Promise<Response> => fetch(`${url}/v1/things`, { method: 'POST', headers: { ...auth('operate-token'), 'content-type': 'application/json' }, body });
    const badJson = await post('{"name": ');
    expect(badJson.status).toBe(400);
    expect(await problemOf(badJson)).toMatchObject({ type: '/problems/invalid_request' });
    const large = await post(JSON.stringify({ name: 'x'.repeat(2000), partitions: [] }));
    expect(large.status).toBe(413);
    expect(await problemOf(large)).toMatchObject({ type: '/problems/payload_too_large', status: 413 });

    const conflict = await fetch(`${url}/v1/conflict`, { headers: auth('read-token') });
    expect(conflict.status).toBe(409);
    expect(conflict.headers.get('x-test')).toBe('yes');
    expect(await problemOf(conflict)).toMatchObject({ type: '/problems/conflict', detail: 'already there' });

    const broken = await fetch(`${url}/v1/broken`, { headers: auth('read-token') });
    expect(broken.status).toBe(500);
    const text = JSON.stringify(await problemOf(broken));
    expect(text).toContain('/problems/internal_error');
    expect(text).not.toContain('hunter2');
  });

  it('limits each token separately and answers 429 with Retry-After', async () => {
    const { url } = await startServer({ rateLimit: { max: 3, windowMs: 30_000 } });
    const statuses = [];
    for (let i = 0; i < 4; i++) statuses.push((await fetch(`${url}/v1/things/abc`, { headers: auth('operate-token') })).status);
    expect(statuses).toEqual([200, 200, 200, 429]);
    const limited = await fetch(`${url}/v1/things/abc`, { headers: auth('operate-token') });
    expect(limited.status).toBe(429);
    const retryAfter = Number(limited.headers.get('retry-after'));
    expect(retryAfter).toBeGreaterThanOrEqual(1);
    expect(retryAfter).toBeLessThanOrEqual(30);
    expect(await problemOf(limited)).toMatchObject({ type: '/problems/rate_limited', status: 429 });
    // another token has its own budget; probes are never limited
    expect((await fetch(`${url}/v1/things/abc`, { headers: auth('other-operate-token') })).status).toBe(200);
    for (let i = 0; i < 5; i++) expect((await fetch(`${url}/livez`)).status).toBe(200);
  });

  it('refuses at start a route that declares no scope', async () => {
    const unscoped: RouteModule = (app) => {
      app.get('/open', async () => ({ open: true }));
    };
    await expect(startServer({ routes: [unscoped] })).rejects.toThrow(/GET \/v1\/open declares no config.scope/);
  });

  it('serves an OpenAPI 3 document of the routes with the bearer scheme and the problem schema', async () => {
    const { url } = await startServer();
    const response = await fetch(`${url}/openapi.json`);
    expect(response.status).toBe(200);
    const doc = (await response.json()) as { openapi: string; paths: Record<string, Record<string, { security?: unknown; responses: Record<string, { content?: Record<string, { schema: unknown }> }> }>>; components: { securitySchemes: unknown; schemas: Record<string, unknown> } };
    expect(doc.openapi).toMatch(/^3\./);
    expect(Object.keys(doc.paths).sort()).toEqual(['/v1/broken', '/v1/conflict', '/v1/things', '/v1/things/{id}']);
    expect(doc.components.securitySchemes).toMatchObject({ bearer: { type: 'http', scheme: 'bearer' } });
    expect(doc.components.schemas.Problem).toMatchObject({ type: 'object', required: ['type', 'title', 'status'] });
    const post = doc.paths['/v1/things']?.post;
    expect(post?.security).toEqual([{ bearer: [] }]);
    expect(post?.responses['400']?.content?.['application/problem+json']?.schema).toEqual({ $ref: '#/components/schemas/Problem' });
  });

  it('answers /livez, /readyz and /metrics with a request-duration histogram by route and status', async () => {
    let ready: string | null = 'loading';
    const { url } = await startServer({ checks: () => [{ name: 'tokens', check: () => ready }] });
    expect(await (await fetch(`${url}/livez`)).text()).toBe('ok\n');
    const notReady = await fetch(`${url}/readyz`);
    expect(notReady.status).toBe(503);
    expect(await notReady.json()).toEqual({ ready: false, checks: { tokens: 'loading' } });
    ready = null;
    expect((await fetch(`${url}/readyz`)).status).toBe(200);
    await fetch(`${url}/v1/things/abc`, { headers: auth('read-token') });
    const metrics = await (await fetch(`${url}/metrics`)).text();
    expect(metrics).toMatch(/tributary_api_request_duration_seconds_count\{route="\/v1\/things\/:id",method="GET",status="200"\} 1/);
  });

  it('takes a value that one branch of a oneOf allows as it came, not coerced into an array by another', async () => {
    const either: RouteModule = (app) => {
      app.post('/either', { config: { scope: 'read' }, schema: { body: { type: 'object', properties: { partitions: { oneOf: [{ type: 'string', const: 'all' }, { type: 'array', items: { type: 'integer' } }] } } } } }, async (request) => request.body);
    };
    const { url } = await startServer({ routes: [either] });
    for (const partitions of ['all', [0, 2]]) {
      const response = await fetch(`${url}/v1/either`, { method: 'POST', headers: { ...auth('read-token'), 'content-type': 'application/json' }, body: JSON.stringify({ partitions }) });
      expect(await response.json()).toEqual({ partitions });
    }
  });
});
