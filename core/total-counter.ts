/** A Prometheus counter fed from a running total that a component keeps without knowing about metrics. */
import { Counter, type Registry } from 'prom-client';

/**
 * A counter that reports a running total: each scrape adds what it grew by since the last one.
 * An absent total (e.g. a producer that batches inside its client) leaves it at 0.
 */
export function totalCounter(registry: Registry, name: string, help: string, total: () => number | undefined): Counter {
  let reported = 0;
  return new Counter({
    name,
    help,
    registers: [registry],
    collect() {
      const now = total();
      if (now === undefined || now <= reported) return;
      this.inc(now - reported);
      reported = now;
    },
  });
}
