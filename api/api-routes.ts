/**
 * How the API's routes are declared: every route module is a function that adds its routes to the
 * Fastify instance, and every route names the scope a caller's token needs in `config.scope`
 * (`public` for health, the OpenAPI document and the console's static files). The server refuses at
 * start a route that names no scope, so no route is open by accident.
 */
import type { FastifyInstance } from 'fastify';

/** Token scopes, each including the ones before it: admin ⊇ operate ⊇ read. */
export const scopes = ['read', 'operate', 'admin'] as const;
export type Scope = (typeof scopes)[number];

/** Who is calling: the token that authenticated the request. */
export interface Principal {
  tokenId: string;
  name: string;
  scopes: readonly Scope[];
}

declare module 'fastify' {
  interface FastifyContextConfig {
    scope?: Scope | 'public';
  }
  interface FastifyRequest {
    /** Set by the auth hook on every non-public route. */
    principal?: Principal;
  }
}

/** A group of routes; the server registers each under `/v1`. */
export type RouteModule = (app: FastifyInstance) => void | Promise<void>;

/** Whether a token with `granted` scopes may call a route needing `needed`. */
export function scopeAllows(granted: readonly Scope[], needed: Scope): boolean {
  const rank = (scope: Scope): number => scopes.indexOf(scope);
  return granted.some((scope) => rank(scope) >= rank(needed));
}
