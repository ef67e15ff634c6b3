/**
 * The Node process metrics every service exposes (CPU, memory, GC, handles, event-loop lag), in a
 * registry of its own under the service's prefix.
 *
 * The event-loop lag percentiles are ours, under prom-client's names. prom-client samples with a
 * timer every 10 ms and reports the interval between samples, its 10 ms included; that timer alone
 * cost 0.7 % of a core per idle process (docs/benchmarks/idle.md). Ours samples every 100 ms and
 * reports how late each sample was: the interval less the 100 ms, so the figures mean lag at any
 * resolution (0 on an idle loop; they were ~10 ms higher before). A stall shows in full: it delays
 * the next sample by its length. prom-client's own sampler is left to tick once a minute, unread.
 */
import { monitorEventLoopDelay } from 'node:perf_hooks';
import { Gauge, Registry, collectDefaultMetrics } from 'prom-client';

const eventLoopLagResolutionMs = 100;
const unreadSamplerResolutionMs = 60_000;

type IntervalHistogram = ReturnType<typeof monitorEventLoopDelay>;

const lagStatistics: ReadonlyArray<[suffix: string, help: string, read: (histogram: IntervalHistogram) => number]> = [
  ['min', 'The smallest event-loop lag recorded since the last scrape, in seconds.', (histogram) => histogram.min],
  ['max', 'The largest event-loop lag recorded since the last scrape, in seconds.', (histogram) => histogram.max],
  ['mean', 'The mean event-loop lag since the last scrape, in seconds.', (histogram) => histogram.mean],
  ['stddev', 'The standard deviation of the event-loop lag since the last scrape, in seconds.', (histogram) => histogram.stddev],
  ['p50', 'The median event-loop lag since the last scrape, in seconds.', (histogram) => histogram.percentile(50)],
  ['p90', 'The 90th percentile of the event-loop lag since the last scrape, in seconds.', (histogram) => histogram.percentile(90)],
  ['p99', 'The 99th percentile of the event-loop lag since the last scrape, in seconds.', (histogram) => histogram.percentile(99)],
];

/**
 * How late a `monitorEventLoopDelay` sample was, in ms: Node records the interval between samples,
 * the resolution included, so lateness is that interval less the resolution.
 */
export function eventLoopLatenessMs(intervalNs: number, resolutionMs: number): number {
  return Math.max(0, intervalNs / 1e6 - resolutionMs);
}

export function createProcessMetricsRegistry(prefix: string): Registry {
  const registry = new Registry();
  collectDefaultMetrics({ register: registry, prefix, eventLoopMonitoringPrecision: unreadSamplerResolutionMs });
  const histogram = monitorEventLoopDelay({ resolution: eventLoopLagResolutionMs });
  histogram.enable();
  const gauges: Array<{ gauge: Gauge; read: (histogram: IntervalHistogram) => number }> = [];
  // Registered first: a scrape collects in registration order, and this collect sets the statistics
  // below from the same samples, then starts the next window.
  new Gauge({
    name: `${prefix}nodejs_eventloop_lag_samples`,
    help: `Event-loop lag samples (one per ${eventLoopLagResolutionMs} ms while the loop runs) behind this scrape's lag statistics.`,
    registers: [registry],
    collect() {
      const samples = histogram.count;
      for (const { gauge, read } of gauges) gauge.set(samples === 0 ? 0 : eventLoopLatenessMs(read(histogram), eventLoopLagResolutionMs) / 1000);
      this.set(samples);
      histogram.reset();
    },
  });
  for (const [suffix, help, read] of lagStatistics) {
    const name = `${prefix}nodejs_eventloop_lag_${suffix}_seconds`;
    registry.removeSingleMetric(name);
    gauges.push({ gauge: new Gauge({ name, help, registers: [registry] }), read });
  }
  return registry;
}
