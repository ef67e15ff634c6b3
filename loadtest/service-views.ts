/**
 * What the gateway and the enricher say about a run, read from their Prometheus /metrics at its
 * end: the gateway's own PUBLISH→PUBACK wait, the enricher's QuestDB write batching. Null when the
 * endpoint does not answer.
 */
import { histogramQuantileBound, metricTotal, readHistogram } from '../core/prometheus-text.ts';

export interface GatewayView {
  acknowledged: number;
  throttleEvents: number;
  clientErrors: number;
  /** Upper bounds (ms) of the histogram buckets holding p50 / p99 of the in-gateway ack wait. */
  ackWaitP50BoundMs: number | null;
  ackWaitP99BoundMs: number | null;
  ackWaitMeanMs: number | null;
}

export async function readGatewayView(metricsUrl: string): Promise<GatewayView | null> {
  try {
    const text = await (await fetch(metricsUrl, { signal: AbortSignal.timeout(5000) })).text();
    const histogram = readHistogram(text, 'tributary_gateway_puback_latency_seconds');
    const bound = (q: number): number | null => {
      const value = histogram ? histogramQuantileBound(histogram, q) : null;
      return value === null ? null : value * 1000;
    };
    return {
      acknowledged: metricTotal(text, 'tributary_gateway_publishes_acknowledged_total'),
      throttleEvents: metricTotal(text, 'tributary_gateway_throttle_events_total'),
      clientErrors: metricTotal(text, 'tributary_gateway_client_errors_total'),
      ackWaitP50BoundMs: bound(0.5),
      ackWaitP99BoundMs: bound(0.99),
      ackWaitMeanMs: histogram && histogram.count > 0 ? Math.round((histogram.sum / histogram.count) * 1e6) / 1000 : null,
    };
  } catch {
    return null;
  }
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

export async function readEnricherView(metricsUrl: string): Promise<EnricherView | null> {
  try {
    const text = await (await fetch(metricsUrl, { signal: AbortSignal.timeout(5000) })).text();
    const writes = readHistogram(text, 'tributary_enrich_questdb_write_seconds');
    const batches = readHistogram(text, 'tributary_enrich_batch_records');
    const rowsWritten = metricTotal(text, 'tributary_enrich_rows_written_total');
    const round = (value: number): number => Math.round(value * 10) / 10;
    return {
      recordsConsumed: metricTotal(text, 'tributary_enrich_records_consumed_total'),
      rowsWritten,
      questdbWrites: writes?.count ?? 0,
      meanRowsPerWrite: writes && writes.count > 0 ? round(rowsWritten / writes.count) : null,
      meanWriteMs: writes && writes.count > 0 ? round((writes.sum / writes.count) * 1000) : null,
      meanRecordsPerBatch: batches && batches.count > 0 ? round(batches.sum / batches.count) : null,
      seqDuplicates: metricTotal(text, 'tributary_enrich_seq_duplicates_total'),
      questdbWriteFailures: metricTotal(text, 'tributary_enrich_questdb_write_failures_total'),
      tableResumes: metricTotal(text, 'tributary_enrich_questdb_table_resumes_total'),
    };
  } catch {
    return null;
  }
}
