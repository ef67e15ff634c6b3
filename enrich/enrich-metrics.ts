/** Prometheus metrics of the enricher. */
import { Counter, Gauge, Histogram, type Registry } from 'prom-client';
import { totalCounter } from '../core/total-counter.ts';
import type { CompletenessCounters } from './completeness.ts';
import type { WriteRequestTotals } from './questdb-writer.ts';

/**
 * Registers the enricher's metrics on `registry`. The completeness gauges and the QuestDB request
 * counters read running totals at scrape time; everything else is updated by the worker as it goes.
 */
export function createEnrichMetrics(registry: Registry, state: { completeness: () => CompletenessCounters; questdbRequests: () => WriteRequestTotals }) {
  const registers = [registry];
  return {
    consumed: new Counter({ name: 'tributary_enrich_records_consumed_total', help: 'telemetry records taken from Kafka', registers }),
    committed: new Counter({ name: 'tributary_enrich_records_committed_total', help: 'telemetry records whose offsets were committed after their rows were written', registers }),
    rowsWritten: new Counter({ name: 'tributary_enrich_rows_written_total', help: 'readings QuestDB acknowledged (DEDUP may have merged some)', registers }),
    deadLettered: new Counter({ name: 'tributary_enrich_dead_lettered_total', help: 'records published to the dead-letter topic', labelNames: ['reason'], registers }),
    alertsPublished: new Counter({ name: 'tributary_enrich_alerts_published_total', help: 'alert events published', labelNames: ['kind'], registers }),
    writeFailures: new Counter({ name: 'tributary_enrich_questdb_write_failures_total', help: 'QuestDB write attempts that failed (each is retried)', registers }),
    publishFailures: new Counter({ name: 'tributary_enrich_kafka_publish_failures_total', help: 'dead-letter or alert publish attempts that failed (each is retried)', labelNames: ['topic_role'], registers }),
    batchRecords: new Histogram({
      name: 'tributary_enrich_batch_records',
      help: 'records per partition batch',
      buckets: [1, 10, 50, 100, 250, 500, 1000, 2500, 5000, 10_000],
      registers,
    }),
    questdbRequests: totalCounter(registry, 'tributary_enrich_questdb_requests_total', 'ILP/HTTP requests of readings QuestDB committed, each one transaction (group commit: batches of several partitions share one)', () => state.questdbRequests().count),
    questdbRequestRows: totalCounter(registry, 'tributary_enrich_questdb_request_rows_total', 'rows those requests carried; ÷ requests = transaction size', () => state.questdbRequests().rows),
    questdbRequestSeconds: totalCounter(registry, 'tributary_enrich_questdb_request_seconds_total', 'their summed duration; ÷ requests = time per transaction', () => state.questdbRequests().seconds),
    writeSeconds: new Histogram({
      name: 'tributary_enrich_questdb_write_seconds',
      help: "a partition batch's rows from being handed to the writer until QuestDB committed the request carrying them (waiting for a request in progress included)",
      buckets: [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
      registers,
    }),
    batchSeconds: new Histogram({
      name: 'tributary_enrich_batch_seconds',
      help: 'a partition batch from receipt to commit, retries included',
      buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60],
      registers,
    }),
    eventLag: new Histogram({
      name: 'tributary_enrich_event_lag_seconds',
      help: 'now minus the reading time when the message is processed',
      buckets: [0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 300, 900, 3600],
      registers,
    }),
    tablesSuspended: new Gauge({ name: 'tributary_enrich_questdb_tables_suspended', help: 'our QuestDB tables suspended by a failed WAL apply at the last check (their new rows are invisible)', registers }),
    tableResumes: new Counter({ name: 'tributary_enrich_questdb_table_resumes_total', help: 'ALTER TABLE … RESUME WAL issued for a suspended table', labelNames: ['error_tag'], registers }),
    consumerLag: new Gauge({ name: 'tributary_enrich_consumer_lag_records', help: 'log end minus committed offset, per partition', labelNames: ['topic', 'partition'], registers }),
    seqDuplicates: new Counter({ name: 'tributary_enrich_seq_duplicates_total', help: 'messages whose seq this worker had already seen from the device', registers }),
    seqResets: new Counter({ name: 'tributary_enrich_seq_resets_total', help: 'device counter restarts detected', registers }),
    seqGaps: new Gauge({
      name: 'tributary_enrich_seq_gaps',
      help: 'seqs currently missing across devices seen by this worker',
      registers,
      collect() {
        this.set(state.completeness().gaps);
      },
    }),
    seqLateArrivals: new Gauge({
      name: 'tributary_enrich_seq_late_arrivals',
      help: 'messages that arrived after a later seq and filled a gap',
      registers,
      collect() {
        this.set(state.completeness().lateArrivals);
      },
    }),
  };
}
