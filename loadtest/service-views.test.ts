import { describe, expect, it } from 'vitest';
import { enricherViewOf, gatewayViewOf } from './service-views.ts';

/** A gateway's /metrics text: `fast` acks within 5 ms, `slow` within 500 ms, `sumS` seconds in all. */
function gatewayMetrics(fast: number, slow: number, sumS: number, requests = { count: 0, records: 0, seconds: 0 }, loopLagP99S: number | null = null): string {
  const name = 'tributary_gateway_puback_latency_seconds';
  return [
    ...(loopLagP99S === null ? [] : [`tributary_gateway_nodejs_eventloop_lag_p99_seconds ${loopLagP99S}`]),
    `tributary_gateway_kafka_produce_requests_total ${requests.count}`,
    `tributary_gateway_kafka_produce_request_records_total ${requests.records}`,
    `tributary_gateway_kafka_produce_request_seconds_total ${requests.seconds}`,
    `tributary_gateway_publishes_acknowledged_total ${fast + slow}`,
    `${name}_bucket{le="0.005"} ${fast}`,
    `${name}_bucket{le="0.5"} ${fast + slow}`,
    `${name}_bucket{le="+Inf"} ${fast + slow}`,
    `${name}_sum ${sumS}`,
    `${name}_count ${fast + slow}`,
  ].join('\n');
}

describe('service views', () => {
  // a warm-up: 900 fast acks and 100 slow ones; then 1000 more, all fast (2 ms each)
  // (the warm-up's 10 requests took 1,000 records and 0.5 s; the 40 after it 1,000 records in 0.08 s)
  const warmedUp = gatewayMetrics(900, 100, 30.9, { count: 10, records: 1000, seconds: 0.5 });
  const end = gatewayMetrics(1900, 100, 32.9, { count: 50, records: 2000, seconds: 0.58 });

  it('reads the gateway\'s event-loop delay as its latest reading reports it (prom-client resets it per reading)', () => {
    expect(gatewayViewOf(gatewayMetrics(10, 0, 0.02, undefined, 0.0123456), warmedUp).loopLagP99Ms).toBe(12.35);
    expect(gatewayViewOf(end, null).loopLagP99Ms).toBeNull();
  });

  it('reads the gateway\'s ack wait since it started', () => {
    expect(gatewayViewOf(end, null)).toMatchObject({ acknowledged: 2000, ackWaitP50BoundMs: 5, ackWaitP99BoundMs: 500, ackWaitMeanMs: 16.45, kafkaRequests: 50, meanRecordsPerRequest: 40, meanRequestMs: 11.6 });
  });

  it('leaves out what an earlier reading already held (a warm-up)', () => {
    expect(gatewayViewOf(end, warmedUp)).toMatchObject({ acknowledged: 1000, ackWaitP50BoundMs: 5, ackWaitP99BoundMs: 5, ackWaitMeanMs: 2, kafkaRequests: 40, meanRecordsPerRequest: 25, meanRequestMs: 2 });
  });

  it("counts the enricher's QuestDB requests, not its partition batches (group commit)", () => {
    // 12 partition batches of 50 records (150 rows) went out in 4 requests of 450 rows, 20 ms each
    const enricher = (batches: number, requests: number): string =>
      [
        `tributary_enrich_records_consumed_total ${batches * 50}`,
        `tributary_enrich_rows_written_total ${batches * 150}`,
        `tributary_enrich_questdb_requests_total ${requests}`,
        `tributary_enrich_questdb_request_rows_total ${requests * 450}`,
        `tributary_enrich_questdb_request_seconds_total ${requests * 0.02}`,
        `tributary_enrich_batch_records_bucket{le="+Inf"} ${batches}`,
        `tributary_enrich_batch_records_sum ${batches * 50}`,
        `tributary_enrich_batch_records_count ${batches}`,
      ].join('\n');
    expect(enricherViewOf(enricher(12, 4), null)).toMatchObject({ recordsConsumed: 600, rowsWritten: 1800, questdbWrites: 4, meanRowsPerWrite: 450, meanWriteMs: 20, meanRecordsPerBatch: 50 });
    expect(enricherViewOf(enricher(36, 12), enricher(12, 4))).toMatchObject({ recordsConsumed: 1200, questdbWrites: 8, meanRowsPerWrite: 450, meanWriteMs: 20 });
  });
});
