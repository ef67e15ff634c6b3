/**
 * The pipeline as an operator sees it: each watched gateway's and enricher's readiness (their
 * /readyz) and rates (from two successive scrapes of their Prometheus /metrics), and the enricher
 * group's lag per partition of the telemetry topic (through the Kafka admin port). A background
 * loop refreshes it every scrape interval; the route answers the last snapshot at once. A service
 * that does not answer is shown unreachable with the reason; nothing here throws to the caller.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import { describeError } from '../core/errors.ts';
import type { KafkaAdminPort } from '../core/kafka-port.ts';
import type { Logger } from '../core/logger.ts';
import { metricTotal } from '../core/prometheus-text.ts';

export type ServiceKind = 'gateway' | 'enricher';

/** Counter totals one scrape read, by the rate they feed. */
type Counters = Record<string, number>;

/** Per kind: each rate's name and how its counter total is read from /metrics text (gateway/gateway-metrics.ts, enrich/enrich-metrics.ts). */
const counterReaders: Readonly<Record<ServiceKind, Readonly<Record<string, (text: string) => number>>>> = {
  gateway: {
    // publishes Kafka took: received, less those refused, dropped (QoS 0) or failed (QoS 1/2)
    acceptedPerSec: (text) =>
      metricTotal(text, 'tributary_gateway_publishes_received_total') -
      metricTotal(text, 'tributary_gateway_publishes_refused_total') -
      metricTotal(text, 'tributary_gateway_qos0_dropped_total') -
      metricTotal(text, 'tributary_gateway_publishes_failed_total'),
  },
  enricher: {
    recordsPerSec: (text) => metricTotal(text, 'tributary_enrich_records_consumed_total'),
    rowsPerSec: (text) => metricTotal(text, 'tributary_enrich_rows_written_total'),
    deadLettersPerSec: (text) => metricTotal(text, 'tributary_enrich_dead_lettered_total'),
  },
};

/** The counter totals of a service's /metrics text. Pure. */
export function readCounters(kind: ServiceKind, text: string): Counters {
  return Object.fromEntries(Object.entries(counterReaders[kind]).map(([name, read]) => [name, read(text)]));
}

/** Per second between two scrapes, one decimal; null where a counter went down (the process restarted). Pure. */
export function ratesBetween(before: { atMs: number; counters: Counters }, after: { atMs: number; counters: Counters }): Record<string, number | null> {
  const seconds = (after.atMs - before.atMs) / 1000;
  return Object.fromEntries(
    Object.entries(after.counters).map(([name, total]) => {
      const delta = total - (before.counters[name] ?? Number.NaN);
      return [name, seconds > 0 && delta >= 0 ? Math.round((delta / seconds) * 10) / 10 : null];
    }),
  );
}

export interface ServiceStatus {
  kind: ServiceKind;
  url: string;
  reachable: boolean;
  /** Its /readyz verdict; null when it did not answer. */
  ready: boolean | null;
  /** Its readiness checks by name ('ok' or why not). */
  checks: Record<string, string> | null;
  /** Why it is unreachable. */
  error: string | null;
  /** Over the last scrape interval; null until two scrapes answered, or after a restart. */
  rates: Record<string, number | null> | null;
  scrapedAt: string | null;
}

export interface LagStatus {
  groupId: string;
  topic: string;
  partitions: Array<{ partition: number; committed: string | null; end: string; lag: number }> | null;
  total: number | null;
  error: string | null;
  readAt: string | null;
}

export interface PipelineStatusSnapshot {
  scrapeIntervalMs: number;
  gateways: ServiceStatus[];
  enrichers: ServiceStatus[];
  lag: LagStatus | null;
}

export interface PipelineStatusOptions {
  gateways: readonly string[];
  enrichers: readonly string[];
  /** The enricher group's lag on the telemetry topic; null to leave lag out. */
  lag: { admin: () => KafkaAdminPort; groupId: string; topic: string } | null;
  scrapeIntervalMs: number;
  logger: Logger;
  now?: () => number;
}

export interface PipelineStatus {
  /** Starts the scrape loop (the first scrape right away); does not wait for it. */
  start(): Promise<void>;
  /** Ends the loop, waits for the scrape in progress, closes the admin; idempotent. */
  stop(): Promise<void>;
  snapshot(): PipelineStatusSnapshot;
  /** Scrapes everything once now (the loop does this every interval). */
  refresh(): Promise<void>;
}

interface Watched {
  status: ServiceStatus;
  last: { atMs: number; counters: Counters } | null;
}

/** Builds the status; no I/O until start. */
export function createPipelineStatus(options: PipelineStatusOptions): PipelineStatus {
  const logger = options.logger.child({ component: 'pipeline-status' });
  const now = options.now ?? Date.now;
  const stopping = new AbortController();
  // A scrape must end before the next is due, and soon enough for the route to stay fresh.
  const timeoutMs = Math.min(options.scrapeIntervalMs, 3000);
  const watch = (kind: ServiceKind, url: string): Watched => ({
    status: { kind, url, reachable: false, ready: null, checks: null, error: 'not scraped yet', rates: null, scrapedAt: null },
    last: null,
  });
  const gateways = options.gateways.map((url) => watch('gateway', url));
  const enrichers = options.enrichers.map((url) => watch('enricher', url));
  let lag: LagStatus | null = options.lag && { groupId: options.lag.groupId, topic: options.lag.topic, partitions: null, total: null, error: 'not read yet', readAt: null };
  let admin: KafkaAdminPort | null = null;
  let loop: Promise<void> | null = null;
  let stopped: Promise<void> | undefined;

  const get = async (url: string): Promise<{ status: number; text: string }> => {
    const response = await fetch(url, { signal: AbortSignal.any([stopping.signal, AbortSignal.timeout(timeoutMs)]) });
    return { status: response.status, text: await response.text() };
  };

  const scrape = async (watched: Watched): Promise<void> => {
    const { status } = watched;
    const atMs = now();
    try {
      const [readyz, metrics] = await Promise.all([get(`${status.url}/readyz`), get(`${status.url}/metrics`)]);
      if (metrics.status !== 200) throw new Error(`/metrics answered ${metrics.status}`);
      const verdict = parseReadiness(readyz.status, readyz.text);
      const counters = readCounters(status.kind, metrics.text);
      if (!status.reachable) logger.info({ kind: status.kind, url: status.url }, 'watched service answers');
      watched.status = { ...status, reachable: true, ready: verdict.ready, checks: verdict.checks, error: null, rates: watched.last && ratesBetween(watched.last, { atMs, counters }), scrapedAt: new Date(atMs).toISOString() };
      watched.last = { atMs, counters };
    } catch (error) {
      if (stopping.signal.aborted) return;
      const reason = describeError(error);
      if (status.reachable) logger.warn({ kind: status.kind, url: status.url, reason }, 'watched service does not answer');
      watched.status = { ...status, reachable: false, ready: null, checks: null, error: reason, rates: null, scrapedAt: new Date(atMs).toISOString() };
      // rates restart from the next two answers
      watched.last = null;
    }
  };

  const readLag = async (): Promise<void> => {
    if (!options.lag || !lag) return;
    const { groupId, topic } = options.lag;
    try {
      admin ??= options.lag.admin();
      const partitions = await admin.groupLag(groupId, topic);
      lag = { groupId, topic, partitions, total: partitions.reduce((sum, p) => sum + p.lag, 0), error: null, readAt: new Date(now()).toISOString() };
    } catch (error) {
      if (stopping.signal.aborted) return;
      lag = { ...lag, partitions: null, total: null, error: describeError(error), readAt: new Date(now()).toISOString() };
    }
  };

  const refresh = async (): Promise<void> => {
    await Promise.all([...gateways, ...enrichers].map(scrape).concat(readLag()));
  };

  return {
    start() {
      loop ??= (async () => {
        while (!stopping.signal.aborted) {
          await refresh();
          await sleep(options.scrapeIntervalMs, undefined, { signal: stopping.signal }).catch(() => undefined);
        }
      })();
      return Promise.resolve();
    },
    stop() {
      stopped ??= (async () => {
        stopping.abort();
        await loop;
        await admin?.close();
      })();
      return stopped;
    },
    refresh,
    snapshot: () => ({ scrapeIntervalMs: options.scrapeIntervalMs, gateways: gateways.map((w) => w.status), enrichers: enrichers.map((w) => w.status), lag }),
  };
}

/** A health server's /readyz: JSON `{ ready, checks }` (core/health-server.ts); otherwise the status code decides. Pure. */
export function parseReadiness(status: number, text: string): { ready: boolean; checks: Record<string, string> | null } {
  try {
    const body = JSON.parse(text) as unknown;
    if (typeof body === 'object' && body !== null && 'ready' in body && typeof body.ready === 'boolean') {
      const checks = 'checks' in body && typeof body.checks === 'object' && body.checks !== null ? (body.checks as Record<string, string>) : null;
      return { ready: body.ready && status === 200, checks };
    }
  } catch {
    // not JSON: the status code says it
  }
  return { ready: status === 200, checks: null };
}
