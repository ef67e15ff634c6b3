/**
 * What the gateway and the enricher say about a run, read from their Prometheus /metrics at its
 * end: the gateway's own PUBLISH→PUBACK wait, the enricher's QuestDB write batching. Null when the
 * endpoint does not answer. Given an earlier reading of the same process (`since`, e.g. at the end
 * of a warm-up), the figures cover only what happened after it.
 */
import { histogramQuantileBound, metricTotal, readHistogram, type HistogramReading } from '../core/prometheus-text.ts';

/** A service's /metrics text, or null when it does not answer. */
export async function readMetricsText(metricsUrl: string): Promise<string | null> {
  try {
    return await (await fetch(metricsUrl, { signal: AbortSignal.timeout(5000) })).text();
  } catch {
    return null;
  }
}

/** Counters and histograms of `text` less those of the earlier reading `since` (null: all of them). */
function readingSince(text: string, since: string | null): { total(name: string): number; histogram(name: string): HistogramReading | null } {
  return {
    total: (name) => metricTotal(text, name) - (since === null ? 0 : metricTotal(since, name)),
    histogram(name) {
      const now = readHistogram(text, name);
      const before = since === null ? null : readHistogram(since, name);
      if (now === null || before === null) return now;
      const earlier = new Map(before.buckets);
      return { count: now.count - before.count, sum: now.sum - before.sum, buckets: now.buckets.map(([bound, cumulative]) => [bound, cumulative - (earlier.get(bound) ?? 0)]) };
    },
  };
}

export interface GatewayView {
  acknowledged: number;
  throttleEvents: number;
  clientErrors: number;
  /** Upper bounds (ms) of the histogram buckets holding p50 / p99 of the in-gateway ack wait. */
  ackWaitP50BoundMs: number | null;
  ackWaitP99BoundMs: number | null;
  ackWaitMeanMs: number | null;
  /** Kafka produce requests the gateway sent; with one in flight, large slow ones mean a backlog formed. */
  kafkaRequests: number;
  meanRecordsPerRequest: number | null;
  /** From a request's start until its records were settled (PUBACKs released). */
  meanRequestMs: number | null;
  /**
   * p99 of how late the gateway's event loop ran its timers since the previous reading of its
   * /metrics (prom-client resets the histogram behind it at every reading), ms; null without it.
   */
  loopLagP99Ms: number | null;
}

export async function readGatewayView(metricsUrl: string, since: string | null = null): Promise<GatewayView | null> {
  const text = await readMetricsText(metricsUrl);
  return text === null ? null : gatewayViewOf(text, since);
}

/** The gateway's view from its /metrics `text`, since the earlier reading `since` (null: since it started). */
export function gatewayViewOf(text: string, since: string | null): GatewayView {
  const reading = readingSince(text, since);
  const histogram = reading.histogram('tributary_gateway_puback_latency_seconds');
  const requests = reading.total('tributary_gateway_kafka_produce_requests_total');
  const bound = (q: number): number | null => {
    const value = histogram ? histogramQuantileBound(histogram, q) : null;
    return value === null ? null : value * 1000;
  };
  return {
    acknowledged: reading.total('tributary_gateway_publishes_acknowledged_total'),
    throttleEvents: reading.total('tributary_gateway_throttle_events_total'),
    clientErrors: reading.total('tributary_gateway_client_errors_total'),
    ackWaitP50BoundMs: bound(0.5),
    ackWaitP99BoundMs: bound(0.99),
    ackWaitMeanMs: histogram && histogram.count > 0 ? Math.round((histogram.sum / histogram.count) * 1e6) / 1000 : null,
    kafkaRequests: requests,
    meanRecordsPerRequest: requests > 0 ? Math.round((reading.total('tributary_gateway_kafka_produce_request_records_total') / requests) * 10) / 10 : null,
    meanRequestMs: requests > 0 ? Math.round((reading.total('tributary_gateway_kafka_produce_request_seconds_total') / requests) * 1e4) / 10 : null,
    loopLagP99Ms: text.includes('tributary_gateway_nodejs_eventloop_lag_p99_seconds') ? Math.round(metricTotal(text, 'tributary_gateway_nodejs_eventloop_lag_p99_seconds') * 1e5) / 100 : null,
  };
}

export interface EnricherView {
  recordsConsumed: number;
  rowsWritten: number;
  /** QuestDB write requests (each one transaction). */
  questdbWrites: number;
  meanRowsPerWrite: number | null;
  meanWriteMs: number | null;
  meanRecordsPerBatch: number | null;
  seqDuplicates: number;
  /** Write attempts QuestDB failed or did not answer in time; each was retried, its offsets not committed. */
  questdbWriteFailures: number;
  /** RESUME WAL the enricher issued for a table QuestDB had suspended. */
  tableResumes: number;
}

export async function readEnricherView(metricsUrl: string, since: string | null = null): Promise<EnricherView | null> {
  const text = await readMetricsText(metricsUrl);
  return text === null ? null : enricherViewOf(text, since);
}

/** The enricher's view from its /metrics `text`, since the earlier reading `since` (null: since it started). */
export function enricherViewOf(text: string, since: string | null): EnricherView {
  const reading = readingSince(text, since);
  const writes = reading.total('tributary_enrich_questdb_requests_total');
  const batches = reading.histogram('tributary_enrich_batch_records');
  const rowsWritten = reading.total('tributary_enrich_rows_written_total');
  const round = (value: number): number => Math.round(value * 10) / 10;
  return {
    recordsConsumed: reading.total('tributary_enrich_records_consumed_total'),
    rowsWritten,
    questdbWrites: writes,
    meanRowsPerWrite: writes > 0 ? round(reading.total('tributary_enrich_questdb_request_rows_total') / writes) : null,
    meanWriteMs: writes > 0 ? round((reading.total('tributary_enrich_questdb_request_seconds_total') / writes) * 1000) : null,
    meanRecordsPerBatch: batches && batches.count > 0 ? round(batches.sum / batches.count) : null,
    seqDuplicates: reading.total('tributary_enrich_seq_duplicates_total'),
    questdbWriteFailures: reading.total('tributary_enrich_questdb_write_failures_total'),
    tableResumes: reading.total('tributary_enrich_questdb_table_resumes_total'),
  };
}
