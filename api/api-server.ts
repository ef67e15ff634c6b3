/**
 * The API's HTTP server: Fastify with every route module under /v1, the OpenAPI document generated
 * from the route schemas at /openapi.json, bearer-token auth with scopes, a rate limit per token,
 * RFC 9457 problem details for every refusal, and /livez, /readyz, /metrics as every process has.
 *
 * A request goes through, in order: identify (onRequest: the bearer token → a principal, nothing
 * refused yet) → rate limit (onRequest, per route: keyed by token, else by address, so callers with
 * bad tokens are limited too) → authorize (preParsing: 401 / 403 before the body is read) → body
 * parsing → validation of every part at once (preValidation: one 400 listing every problem; Fastify
 * alone stops at the first part that fails) → the route.
 */
import type { AddressInfo } from 'node:net';
import fastifyRateLimit from '@fastify/rate-limit';
import fastifySwagger from '@fastify/swagger';
import Fastify, { LogController, type FastifyInstance, type FastifyReply, type FastifyRequest } from 'fastify';
import { Histogram, type Registry } from 'prom-client';
import { createHealthEndpoints, healthPaths, type ReadinessCheck } from '../core/health-server.ts';
import type { Logger } from '../core/logger.ts';
import { invalidRequest, problemOfError, schemaProblem, validatedParts, type SchemaError } from './api-errors.ts';
import { scopeAllows, type Principal, type RouteModule, type Scope } from './api-routes.ts';
import { problem, problemBody, problemContentType, type ProblemError, type ProblemItem } from './problem.ts';

export interface ApiServerOptions {
  routes: readonly RouteModule[];
  /** Route modules registered at the root rather than under /v1 (the console's files); each route still names its scope. */
  pages?: readonly RouteModule[];
  /** The principal of a presented bearer token, or null when it is not a valid, unrevoked token. */
  verifyToken: (token: string) => Principal | null;
  /** Readiness checks, as for core/health-server.ts. */
  checks: () => readonly ReadinessCheck[];
  metricsRegistry: Registry;
  /** Requests per window per token (unauthenticated callers: per address). */
  rateLimit: { max: number; windowMs: number };
  /** The largest request body taken; a larger one is a 413. */
  bodyLimitBytes: number;
  logger: Logger;
  host: string;
  /** 0 picks a free port (see `port()`). */
  port: number;
  /** The API's version in the OpenAPI document. */
  version: string;
}

export interface ApiServer {
  /** Registers the routes (a route without `config.scope` is refused here) and listens. */
  start(): Promise<void>;
  /** Stops listening and closes open connections; idempotent. */
  stop(): Promise<void>;
  /** The bound port (the configured one before start). */
  port(): number;
}

const problemResponses: Readonly<Record<string, string>> = {
  400: 'the request is not valid: every problem is listed',
  401: 'no bearer token, or not a valid one',
  403: "the token's scopes do not allow this route",
  429: 'too many requests for this token; see Retry-After',
  500: 'the server failed',
};

/** Builds the server; no I/O until `start`. */
export function createApiServer(options: ApiServerOptions): ApiServer {
  const logger = options.logger.child({ component: 'api' });
  const health = createHealthEndpoints({ registry: options.metricsRegistry, checks: options.checks });
  const duration = new Histogram({
    name: 'tributary_api_request_duration_seconds',
    help: 'API request duration, by route pattern, method and status',
    labelNames: ['route', 'method', 'status'],
    buckets: [0.002, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
    registers: [options.metricsRegistry],
  });
  let app: FastifyInstance | undefined;
  let stopped: Promise<void> | undefined;

  const build = async (): Promise<FastifyInstance> => {
    const server = Fastify({
      loggerInstance: logger,
      // a log line per request would be one per message; durations are the histogram's
      logController: new LogController({ disableRequestLogging: true }),
      bodyLimit: options.bodyLimitBytes,
      // every problem of a part, not just the first; an unknown member is a problem, not silently dropped;
      // scalars are not coerced into arrays (Fastify's default): a oneOf of 'all' | [numbers] would turn 'all' into ['all']
      ajv: { customOptions: { allErrors: true, removeAdditional: false, coerceTypes: true } },
      exposeHeadRoutes: false,
      return503OnClosing: true,
    }) as unknown as FastifyInstance;

    server.addHook('onRoute', (route) => {
      if (route.config?.scope === undefined) throw new Error(`route ${route.method.toString()} ${route.url} declares no config.scope (read, operate, admin or public)`);
    });
    server.setErrorHandler((error, request, reply) => sendProblem(request, reply, error));
    server.setNotFoundHandler((request, reply) => sendProblem(request, reply, problem({ status: 404, kind: 'not_found', title: 'Not found', detail: `no route ${request.method} ${request.url.split('?')[0]}` })));

    server.addHook('onRequest', (request, _reply, done) => {
      const token = bearerToken(request.headers.authorization);
      if (token !== null) request.principal = options.verifyToken(token) ?? undefined;
      done();
    });
    await server.register(fastifyRateLimit, {
      global: true,
      max: options.rateLimit.max,
      timeWindow: options.rateLimit.windowMs,
      hook: 'onRequest',
      keyGenerator: (request) => (request.principal ? `token:${request.principal.tokenId}` : `address:${request.ip}`),
      errorResponseBuilder: (_request, context) =>
        problem({
          status: 429,
          kind: 'rate_limited',
          title: 'Too many requests',
          detail: `at most ${context.max} requests per ${options.rateLimit.windowMs / 1000} s; retry in ${context.after}`,
          headers: { 'retry-after': String(Math.max(1, Math.ceil(context.ttl / 1000))) },
        }),
    });
    server.addHook('preParsing', (request, _reply, _payload, done) => done(refusal(request) ?? undefined));
    server.addHook('preValidation', (request, _reply, done) => done(validationProblem(request) ?? undefined));
    server.addHook('onResponse', async (request, reply) => {
      duration.observe({ route: request.routeOptions.url ?? 'unmatched', method: request.method, status: String(reply.statusCode) }, reply.elapsedTime / 1000);
    });

    await server.register(fastifySwagger, {
      openapi: {
        openapi: '3.1.0',
        info: { title: 'Tributary operator and dashboard API', version: options.version, description: 'Bearer tokens from `tributary tokens create`; every refusal is application/problem+json (RFC 9457).' },
        components: { securitySchemes: { bearer: { type: 'http', scheme: 'bearer', description: 'trb_<id>_<secret>' } }, schemas: {
          // the problem+json body (RFC 9457)
          Problem: {
            type: 'object',
            description: 'RFC 9457 problem details',
            properties: {
              type: { type: 'string', description: 'a URI naming the kind of problem, e.g. /problems/invalid_request' },
              title: { type: 'string' },
              status: { type: 'integer' },
              detail: { type: 'string' },
              instance: { type: 'string', description: 'the request path' },
              problems: {
                type: 'array',
                description: 'every problem found (400, 422)',
                items: { type: 'object', required: ['pointer', 'detail'], properties: { pointer: { type: 'string', description: 'JSON pointer into the request, e.g. /body/partitions or /query/from' }, detail: { type: 'string' } } },
              },
            },
            required: ['type', 'title', 'status'],
          },
        },
      },
      },
      transform: ({ schema, url, route }) => ({ url, schema: documented(schema as Record<string, unknown> | undefined, route.config?.scope) }),
    });

    for (const path of healthPaths) {
      server.get(path, { config: { scope: 'public', rateLimit: false }, schema: { hide: true } }, async (_request, reply) => {
        const answer = await health.respond(path);
        return reply.code(answer.status).type(answer.type).send(answer.body);
      });
    }
    server.get('/openapi.json', { config: { scope: 'public' }, schema: { hide: true } }, (_request, reply) => reply.send(server.swagger()));
    for (const pages of options.pages ?? []) await pages(server);
    await server.register(
      async (v1) => {
        for (const routes of options.routes) await routes(v1);
      },
      { prefix: '/v1' },
    );
    return server;
  };

  const sendProblem = (request: FastifyRequest, reply: FastifyReply, error: unknown): FastifyReply => {
    const { init, expected } = problemOfError(error);
    if (!expected) request.log.error({ err: error, method: request.method, url: request.url }, 'request failed');
    for (const [name, value] of Object.entries(init.headers ?? {})) void reply.header(name, value);
    return reply.code(init.status).type(problemContentType).send(problemBody(init, request.url.split('?')[0] ?? '/'));
  };

  return {
    async start() {
      const server = await build();
      app = server;
      await server.listen({ host: options.host, port: options.port });
    },
    stop() {
      stopped ??= (async () => {
        await app?.close();
      })();
      return stopped;
    },
    port() {
      return (app?.server.address() as AddressInfo | null)?.port ?? options.port;
    },
  };
}

/** `Bearer <token>` (the scheme is case-insensitive, RFC 7235 §2.1); null without one. */
export function bearerToken(header: string | undefined): string | null {
  const match = /^bearer +(\S+) *$/i.exec(header ?? '');
  return match ? match[1]! : null;
}

/** Why a non-public route is refused: no valid token (401), or not the scope it needs (403); null if allowed. */
function refusal(request: FastifyRequest): ProblemError | null {
  const needed = request.routeOptions.config.scope;
  // unknown routes have no scope: they are answered 404 by the not-found handler
  if (needed === undefined || needed === 'public') return null;
  const { principal } = request;
  if (!principal) {
    const presented = request.headers.authorization !== undefined;
    return problem({
      status: 401,
      kind: 'unauthorized',
      title: 'A valid bearer token is needed',
      detail: presented ? 'the Authorization header is not a valid, unrevoked bearer token' : 'no Authorization: Bearer header',
      // RFC 6750 §3
      headers: { 'www-authenticate': presented ? 'Bearer realm="tributary", error="invalid_token"' : 'Bearer realm="tributary"' },
    });
  }
  return scopeAllows(principal.scopes, needed) ? null : forbidden(needed, principal.scopes);
}

function forbidden(needed: Scope, granted: readonly Scope[]): ProblemError {
  return problem({
    status: 403,
    kind: 'insufficient_scope',
    title: 'The token does not allow this',
    detail: `this route needs scope ${needed}; the token has ${granted.join(', ')}`,
    headers: { 'www-authenticate': `Bearer realm="tributary", error="insufficient_scope", scope="${needed}"` },
    extensions: { neededScope: needed },
  });
}

/** Runs the route's validator of every part: one 400 listing every problem found, or null. */
function validationProblem(request: FastifyRequest): ProblemError | null {
  const found: ProblemItem[] = [];
  // No body counts as an empty object: a route whose members are all optional takes it, and one with
  // required members lists each of them rather than saying only that the body must be an object.
  if (request.body === undefined && typeof request.getValidationFunction('body') === 'function') request.body = {};
  const data: Record<(typeof validatedParts)[number], unknown> = { params: request.params, body: request.body, querystring: request.query, headers: request.headers };
  for (const part of validatedParts) {
    const validate = request.getValidationFunction(part);
    // a body schema per content type is an object; routes here use one schema for JSON
    if (typeof validate !== 'function') continue;
    if (!validate(data[part])) found.push(...((validate.errors ?? []) as SchemaError[]).map((error) => schemaProblem(part, error)));
  }
  return found.length > 0 ? problem(invalidRequest(found)) : null;
}

/** The route schema as documented: the bearer requirement, the needed scope, and the problem responses. */
function documented(schema: Record<string, unknown> | undefined, scope: Scope | 'public' | undefined): Record<string, unknown> {
  const base = schema ?? {};
  if (scope === undefined || scope === 'public') return base;
  const problemRef = { $ref: '#/components/schemas/Problem' };
  const responses = Object.fromEntries(Object.entries(problemResponses).map(([status, description]) => [status, { description, content: { [problemContentType]: { schema: problemRef } } }]));
  const description = [typeof base.description === 'string' ? base.description : '', `Needs a token with scope ${scope}.`].filter(Boolean).join(' ');
  return { ...base, description, security: [{ bearer: [] }], response: { ...responses, ...(base.response as Record<string, unknown> | undefined) } };
}

