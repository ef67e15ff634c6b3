/**
 * Health and metrics over HTTP for every service process:
 *   GET /livez   200 while the process runs its event loop
 *   GET /readyz  200 when every readiness check passes, 503 otherwise; JSON body names each check
 *   GET /metrics Prometheus text format from the given registry
 * The answers come from createHealthEndpoints, which the API serves through its own HTTP server.
 */
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Gauge, type Registry } from 'prom-client';

export interface ReadinessCheck {
  name: string;
  /** Returns null when ready, or a short reason why not. */
  check: () => string | null;
}

export interface Readiness {
  ready: boolean;
  checks: Record<string, string>;
}

export interface HealthResponse {
  status: number;
  type: string;
  body: string;
}

/** The health paths every process answers, in the order a reader expects them. */
export const healthPaths = ['/livez', '/readyz', '/metrics'] as const;
export type HealthPath = (typeof healthPaths)[number];

export interface HealthEndpoints {
  /** Runs the checks now; the same answer /readyz gives. */
  readiness(): Readiness;
  /** The answer to one health path. */
  respond(path: HealthPath): Promise<HealthResponse>;
}

/** The answers of /livez, /readyz and /metrics, for any HTTP server to serve. A check that throws counts as not ready. */
export function createHealthEndpoints(options: { registry: Registry; checks: () => readonly ReadinessCheck[] }): HealthEndpoints {
  const readiness = (): Readiness => {
    const checks: Record<string, string> = {};
    let ready = true;
    for (const { name, check } of options.checks()) {
      let reason: string | null;
      try {
        reason = check();
      } catch (error) {
        reason = `check threw: ${String(error)}`;
      }
      checks[name] = reason ?? 'ok';
      if (reason !== null) ready = false;
    }
    return { ready, checks };
  };
  // /readyz as a metric, so Prometheus can alert on "running but not ready" (a Kubernetes probe only hides the pod)
  new Gauge({ name: 'tributary_ready', help: '1 when every readiness check passes (what /readyz answers), else 0', registers: [options.registry], collect() { this.set(readiness().ready ? 1 : 0); } });
  return {
    readiness,
    async respond(path) {
      if (path === '/livez') return { status: 200, type: 'text/plain', body: 'ok\n' };
      if (path === '/readyz') {
        const state = readiness();
        return { status: state.ready ? 200 : 503, type: 'application/json', body: JSON.stringify(state) + '\n' };
      }
      return { status: 200, type: options.registry.contentType, body: await options.registry.metrics() };
    },
  };
}

export interface HealthServer {
  start(): Promise<void>;
  stop(): Promise<void>;
  /** Bound port (useful when configured with port 0). */
  port(): number;
  /** Runs the checks now; the same answer /readyz gives. */
  readiness(): Readiness;
}

export function createHealthServer(options: { host: string; port: number; registry: Registry; checks: () => readonly ReadinessCheck[] }): HealthServer {
  let server: Server | undefined;
  const endpoints = createHealthEndpoints(options);

  const handle = async (path: string): Promise<HealthResponse> => {
    const known = healthPaths.find((candidate) => candidate === path);
    return known === undefined ? { status: 404, type: 'text/plain', body: 'not found\n' } : endpoints.respond(known);
  };

  return {
    readiness: () => endpoints.readiness(),
    port() {
      return (server?.address() as AddressInfo | null)?.port ?? options.port;
    },
    async start() {
      const created = createServer((request, response) => {
        const path = (request.url ?? '/').split('?')[0] ?? '/';
        handle(path).then(
          ({ status, type, body }) => response.writeHead(status, { 'content-type': type }).end(body),
          (error: unknown) => response.writeHead(500).end(String(error)),
        );
      });
      server = created;
      await new Promise<void>((resolve, reject) => {
        created.once('error', reject);
        created.listen(options.port, options.host, () => {
          created.off('error', reject);
          resolve();
        });
      });
    },
    async stop() {
      const current = server;
      server = undefined;
      if (!current) return;
      current.closeAllConnections();
      await new Promise<void>((resolve) => current.close(() => resolve()));
    },
  };
}
