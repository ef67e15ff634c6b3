/**
 * A bare Fastify instance for testing one API route module against the real stack: the module under
 * /v1, validation with every error listed and unknown members refused (the server's ajv options), and
 * refusals turned into problem+json by the server's own mapping (api/api-errors.ts). The real server
 * (api/api-server.ts) adds auth, rate limits and OpenAPI around the same modules.
 */
import fastify, { type FastifyInstance } from 'fastify';
import { problemOfError } from '../api/api-errors.ts';
import type { RouteModule } from '../api/api-routes.ts';
import { problemBody, problemContentType } from '../api/problem.ts';

export async function apiTestApp(module: RouteModule): Promise<FastifyInstance> {
  const app = fastify({ ajv: { customOptions: { allErrors: true, removeAdditional: false, coerceTypes: true } }, exposeHeadRoutes: false });
  app.setErrorHandler((error, request, reply) => {
    const { init } = problemOfError(error);
    for (const [name, value] of Object.entries(init.headers ?? {})) void reply.header(name, value);
    return reply.code(init.status).type(problemContentType).send(problemBody(init, request.url.split('?')[0] ?? '/'));
  });
  await app.register(async (scope) => module(scope), { prefix: '/v1' });
  await app.ready();
  return app;
}
