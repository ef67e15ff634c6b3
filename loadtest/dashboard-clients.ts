/**
 * Dashboard clients for the API benchmark: `clients` loops, each asking for a random device's
 * latest values, then a random device's series of a random metric (the last 15 minutes, 10 s steps,
 * avg), over keep-alive HTTP (one socket per client at most), until the deadline. Latency is from
 * the request's start until its whole body arrived. Runs in a worker thread of its own
 * (dashboard-clients-worker.ts), so it neither slows the device fleet nor is slowed by it; its
 * event-loop utilisation says whether the clients themselves were the bottleneck.
 */
import { Agent, request } from 'node:http';
import { performance } from 'node:perf_hooks';
import { createLatencyHistogram, type LatencySummary } from './latency-histogram.ts';

export interface DashboardClientsOptions {
  /** The API, e.g. http://127.0.0.1:8080. */
  baseUrl: string;
  token: string;
  deviceIds: readonly string[];
  metrics: readonly string[];
  clients: number;
  durationMs: number;
}

export const dashboardRoutes = ['latest', 'series'] as const;
export type DashboardRoute = (typeof dashboardRoutes)[number];

export interface RouteReport {
  requests: number;
  ok: number;
  requestsPerSec: number;
  /** Answered requests, whatever their status (errors by status are counted apart). */
  latencyMs: LatencySummary;
}

export interface DashboardClientsReport {
  durationMs: number;
  routes: Record<DashboardRoute, RouteReport>;
  /** "<route> <status>" (or "<route> <error code>" without an answer) → count; 200 is not an error. */
  errors: Record<string, number>;
  /** The clients' thread: share of the time its event loop was busy (near 1: the clients were the bottleneck). */
  eventLoopUtilization: number;
}

function get(agent: Agent, url: URL, token: string): Promise<number> {
  return new Promise((resolve, reject) => {
    const req = request(url, { agent, headers: { authorization: `Bearer ${token}` } }, (response) => {
      response.on('data', () => undefined);
      response.on('end', () => resolve(response.statusCode ?? 0));
      response.on('error', reject);
    });
    req.on('error', reject);
    req.end();
  });
}

const pick = <T>(list: readonly T[]): T => list[Math.floor(Math.random() * list.length)]!;

export async function runDashboardClients(options: DashboardClientsOptions): Promise<DashboardClientsReport> {
  const agent = new Agent({ keepAlive: true, maxSockets: options.clients });
  const histograms = { latest: createLatencyHistogram(), series: createLatencyHistogram() };
  const counts = { latest: { requests: 0, ok: 0 }, series: { requests: 0, ok: 0 } };
  const errors: Record<string, number> = {};
  const pathOf = (route: DashboardRoute): string => {
    const device = encodeURIComponent(pick(options.deviceIds));
    return route === 'latest'
      ? `/v1/devices/${device}/latest`
      : `/v1/devices/${device}/series?metric=${encodeURIComponent(pick(options.metrics))}&from=now-15m&to=now&step=10s&agg=avg`;
  };
  const started = performance.now();
  const deadline = started + options.durationMs;
  const elu = performance.eventLoopUtilization();
  const client = async (): Promise<void> => {
    while (performance.now() < deadline) {
      for (const route of dashboardRoutes) {
        const sent = performance.now();
        counts[route].requests += 1;
        try {
          const status = await get(agent, new URL(pathOf(route), options.baseUrl), options.token);
          histograms[route].recordMs(performance.now() - sent);
          if (status === 200) counts[route].ok += 1;
          else errors[`${route} ${status}`] = (errors[`${route} ${status}`] ?? 0) + 1;
        } catch (error) {
          const code = (error as { code?: string }).code ?? 'error';
          errors[`${route} ${code}`] = (errors[`${route} ${code}`] ?? 0) + 1;
        }
      }
    }
  };
  await Promise.all(Array.from({ length: options.clients }, client));
  const durationMs = performance.now() - started;
  const utilization = performance.eventLoopUtilization(elu).utilization;
  agent.destroy();
  const report = (route: DashboardRoute): RouteReport => ({
    ...counts[route],
    requestsPerSec: Math.round((counts[route].requests * 1000) / durationMs),
    latencyMs: histograms[route].summary(),
  });
  return { durationMs: Math.round(durationMs), routes: { latest: report('latest'), series: report('series') }, errors, eventLoopUtilization: Math.round(utilization * 1000) / 1000 };
}
