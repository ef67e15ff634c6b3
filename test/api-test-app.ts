/**
 * A bare Fastify instance for testing one API route module: the module under /v1, schema validation
 * with every error listed, and the minimum of the server's error handling (a ProblemError as
 * problem+json, a validation failure as a 400 problem). The real server (api/api-server.ts) adds auth,
 * rate limits and OpenAPI around the same modules.
 */
import fastify, { type FastifyInstance } from 'fastify';
import type { RouteModule } from '../api/api-routes.ts';
import { problemBody, problemContentType, ProblemError } from '../api/problem.ts';

export async function apiTestApp(module: RouteModule): Promise<FastifyInstance> {
  const app = fastify({ ajv: { customOptions: { allErrors: true } } });
  app.setErrorHandler((error, request, reply) => {
    if (error instanceof ProblemError) {
      const { init } = error;
      for (const [name, value] of Object.entries(init.headers ?? {})) void reply.header(name, value);
      return reply.code(init.status).type(problemContentType).send(problemBody(init, request.url));
    }
    const { validation, validationContext } = error as { validation?: Array<{ instancePath: string; message?: string }>; validationContext?: string };
    if (validation !== undefined) {
      const problems = validation.map((item) => ({ pointer: `/${validationContext ?? 'body'}${item.instancePath}`, detail: item.message ?? 'invalid' }));
      return reply.code(400).type(problemContentType).send(problemBody({ status: 400, kind: 'invalid_request', title: 'The request is not valid', problems }, request.url));
    }
    return reply.code(500).type(problemContentType).send(problemBody({ status: 500, kind: 'internal_error', title: 'Internal error', detail: String(error) }, request.url));
  });
  await app.register(async (scope) => module(scope), { prefix: '/v1' });
  await app.ready();
  return app;
}
