import { setTimeout as delay } from 'node:timers/promises';
import { describe, expect, it } from 'vitest';
import { createProcessMetricsRegistry } from './process-metrics.ts';
import { metricTotal as gauge } from './prometheus-text.ts';

describe('process metrics', () => {
  it('reports an idle loop as not late, where the interval between samples would say 100 ms', async () => {
    const registry = createProcessMetricsRegistry('idle_proc_');
    await registry.metrics(); // starts a fresh window
    await delay(450);
    const text = await registry.metrics();
    expect(gauge(text, 'idle_proc_nodejs_eventloop_lag_samples')).toBeGreaterThanOrEqual(2);
    // a timer is a millisecond or so late on an idle loop; the old figure was the whole interval
    expect(gauge(text, 'idle_proc_nodejs_eventloop_lag_p50_seconds')).toBeLessThan(0.05);
    expect(gauge(text, 'idle_proc_nodejs_eventloop_lag_min_seconds')).toBeGreaterThanOrEqual(0);
    expect(text).toContain('idle_proc_process_cpu_seconds_total');
    registry.clear();
  });

  it('shows a stall in full in the maximum, from the scrape that covers it', async () => {
    const registry = createProcessMetricsRegistry('stall_proc_');
    await registry.metrics();
    await delay(250);
    const stalledUntil = Date.now() + 400;
    while (Date.now() < stalledUntil) {
      // a blocked event loop, as a long synchronous task would leave it
    }
    await delay(250);
    const text = await registry.metrics();
    const stalledMax = gauge(text, 'stall_proc_nodejs_eventloop_lag_max_seconds');
    expect(stalledMax).toBeGreaterThanOrEqual(0.25);
    // the next scrape covers a window without the stall
    await delay(350);
    expect(gauge(await registry.metrics(), 'stall_proc_nodejs_eventloop_lag_max_seconds')).toBeLessThan(stalledMax);
    registry.clear();
  });
});
