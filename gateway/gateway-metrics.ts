/** Prometheus metrics of the MQTT gateway. */
import { Counter, Gauge, Histogram, type Registry } from 'prom-client';

export function createGatewayMetrics(
  registry: Registry,
  state: { connections: () => number; pending: () => number; pendingBytes: () => number; rateLimited: () => number; sendQueue: () => { records: number; bytes: number } },
) {
  const registers = [registry];
  return {
    connections: new Gauge({ name: 'tributary_gateway_connections', help: 'MQTT connections currently authenticated', registers, collect() { this.set(state.connections()); } }),
    pending: new Gauge({ name: 'tributary_gateway_pending_publishes', help: 'QoS 1/2 publishes waiting for Kafka', registers, collect() { this.set(state.pending()); } }),
    pendingBytes: new Gauge({ name: 'tributary_gateway_pending_publish_bytes', help: 'payload bytes of the QoS 1/2 publishes waiting for Kafka', registers, collect() { this.set(state.pendingBytes()); } }),
    sendQueueRecords: new Gauge({ name: 'tributary_gateway_send_queue_records', help: "records in the Kafka producer's send queue (queued, in flight, waiting for room), QoS 0 included", registers, collect() { this.set(state.sendQueue().records); } }),
    sendQueueBytes: new Gauge({ name: 'tributary_gateway_send_queue_bytes', help: "record bytes in the Kafka producer's send queue", registers, collect() { this.set(state.sendQueue().bytes); } }),
    rateLimitedConnections: new Gauge({ name: 'tributary_gateway_rate_limited_connections', help: 'device connections not read now because they are over their rate limit', registers, collect() { this.set(state.rateLimited()); } }),
    rateLimited: new Counter({
      name: 'tributary_gateway_rate_limited_total',
      help: 'publishes over their device rate limit, by QoS (0: dropped, 1/2: taken, then the device is not read until its budget refills) and the limit hit (messages, bytes)',
      labelNames: ['qos', 'limit'],
      registers,
    }),
    connects: new Counter({ name: 'tributary_gateway_connects_total', help: 'CONNECT outcomes', labelNames: ['outcome'], registers }),
    authRefusals: new Counter({ name: 'tributary_gateway_auth_refusals_total', help: 'CONNECTs refused by authentication, by reason (bad_credentials, rate_limited, busy, ...)', labelNames: ['reason'], registers }),
    received: new Counter({ name: 'tributary_gateway_publishes_received_total', help: 'PUBLISH packets received from devices', labelNames: ['qos'], registers }),
    acknowledged: new Counter({ name: 'tributary_gateway_publishes_acknowledged_total', help: 'QoS 1/2 publishes acknowledged after Kafka had them', registers }),
    failed: new Counter({ name: 'tributary_gateway_publishes_failed_total', help: 'QoS 1/2 publishes Kafka did not take: no PUBACK, connection closed', registers }),
    refused: new Counter({ name: 'tributary_gateway_publishes_refused_total', help: 'publishes refused by policy or as too large for Kafka (the connection is closed, except for QoS 0 too large)', labelNames: ['reason'], registers }),
    qos0Dropped: new Counter({
      name: 'tributary_gateway_qos0_dropped_total',
      help: 'QoS 0 messages not delivered to Kafka, by reason: rate_limited (device rate limit), overloaded (pending caps), queue_full (send queue), kafka_failed',
      labelNames: ['reason'],
      registers,
    }),
    subscribeRefused: new Counter({ name: 'tributary_gateway_subscriptions_refused_total', help: 'subscriptions refused (SUBACK 0x80)', registers }),
    packetsRefused: new Counter({ name: 'tributary_gateway_packets_refused_total', help: 'connections closed by a byte limit: oversized or malformed packet, WebSocket message too big, pre-CONNECT budget', labelNames: ['reason'], registers }),
    clientErrors: new Counter({ name: 'tributary_gateway_client_errors_total', help: 'client errors (protocol errors, resets)', registers }),
    throttled: new Counter({ name: 'tributary_gateway_throttle_events_total', help: 'times reading from a device was paused: client/global (pending caps), rate (its rate limit)', labelNames: ['reason'], registers }),
    revoked: new Counter({ name: 'tributary_gateway_sessions_revoked_total', help: 'live sessions closed after a registry change', registers }),
    pubackLatency: new Histogram({
      name: 'tributary_gateway_puback_latency_seconds',
      help: 'PUBLISH received to PUBACK released (Kafka acks=all included)',
      buckets: [0.001, 0.002, 0.005, 0.01, 0.02, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
      registers,
    }),
  };
}
