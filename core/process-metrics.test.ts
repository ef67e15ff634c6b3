import { setTimeout as delay } from 'node:timers/promises';
import { describe, expect, it } from 'vitest';
import { createProcessMetricsRegistry } from './process-metrics.ts';

function gauge(text: string, name: string): number {
  const line = text.split('\n').find((candidate) => candidate.startsWith(`${name} `));
  if (!line) throw new Error(`${name} not exposed`);
  return Number(line.split(' ')[1]);
}

describe('process metrics', () => {
  it('exposes the event-loop lag under the prefix, and a stall shows in full at the coarser sampling', async () => {
    const registry = createProcessMetricsRegistry('test_proc_');
    await delay(250);
    const stalledUntil = Date.now() + 400;
    while (Date.now() < stalledUntil) {
      // a blocked event loop, as a long synchronous task would leave it
    }
    await delay(250);
    // one scrape: prom-client starts the lag histogram afresh after each
    const text = await registry.metrics();
    expect(gauge(text, 'test_proc_nodejs_eventloop_lag_max_seconds')).toBeGreaterThanOrEqual(0.3);
    expect(gauge(text, 'test_proc_nodejs_eventloop_lag_p99_seconds')).toBeGreaterThan(0);
    registry.clear();
  });
});
