/**
 * The Node process metrics every service exposes (CPU, memory, GC, event-loop lag), in a registry of
 * its own under the service's prefix.
 *
 * The event-loop lag is sampled every 100 ms, not prom-client's default 10 ms: the sampling timer
 * wakes the loop each time, and at 10 ms that alone cost 0.7 % of a core per idle process (measured,
 * docs/benchmarks/idle.md). A stall still shows in full: it delays the next sample by its length.
 */
import { Registry, collectDefaultMetrics } from 'prom-client';

export const eventLoopLagResolutionMs = 100;

export function createProcessMetricsRegistry(prefix: string): Registry {
  const registry = new Registry();
  collectDefaultMetrics({ register: registry, prefix, eventLoopMonitoringPrecision: eventLoopLagResolutionMs });
  return registry;
}
