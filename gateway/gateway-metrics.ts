/** Prometheus metrics of the MQTT gateway. */
import { Counter, Gauge, Histogram, type Registry } from 'prom-client';
import type { ProduceRequestTotals } from '../core/kafka-port.ts';
import { totalCounter } from '../core/total-counter.ts';

export function createGatewayMetrics(
  registry: Registry,
  state: {
    connections: () => number;
    pending: () => number;
    pendingBytes: () => number;
    rateLimited: () => number;
    sendQueue: () => { records: number; bytes: number };
    produceRequests: () => ProduceRequestTotals | null;
    commandsPending: () => Promise<number>;
    sessionStoreAvailable: () => boolean;
  },
) {
  const registers = [registry];
  return {
    connections: new Gauge({ name: 'tributary_gateway_connections', help: 'MQTT connections currently authenticated', registers, collect() { this.set(state.connections()); } }),
    pending: new Gauge({ name: 'tributary_gateway_pending_publishes', help: 'QoS 1/2 publishes waiting for Kafka', registers, collect() { this.set(state.pending()); } }),
    pendingBytes: new Gauge({ name: 'tributary_gateway_pending_publish_bytes', help: 'payload bytes of the QoS 1/2 publishes waiting for Kafka', registers, collect() { this.set(state.pendingBytes()); } }),
    sendQueueRecords: new Gauge({ name: 'tributary_gateway_send_queue_records', help: "records in the Kafka producer's send queue (queued, in flight, waiting for room), QoS 0 included", registers, collect() { this.set(state.sendQueue().records); } }),
    produceRequests: totalCounter(registry, 'tributary_gateway_kafka_produce_requests_total', 'Kafka produce requests sent (one in flight at a time)', () => state.produceRequests()?.count),
    produceRequestRecords: totalCounter(registry, 'tributary_gateway_kafka_produce_request_records_total', 'records those requests carried; ÷ requests = batch size', () => state.produceRequests()?.records),
    produceRequestSeconds: totalCounter(registry, 'tributary_gateway_kafka_produce_request_seconds_total', 'their summed time from being sent until their records were settled; ÷ requests = request cycle', () => state.produceRequests()?.seconds),
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
    fastLane: new Counter({ name: 'tributary_gateway_fast_lane_publishes_total', help: 'QoS 0 and 1 publishes to data topics the gateway read without Aedes (ADR 0025); the rest of the received ones went through Aedes', registers }),
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
    commandsConsumed: new Counter({ name: 'tributary_gateway_commands_consumed_total', help: 'commands taken from Kafka, by outcome: queued (in the session), expired, invalid, no_session', labelNames: ['outcome'], registers }),
    commandsPending: new Gauge({
      name: 'tributary_gateway_commands_pending',
      help: 'QoS 1 commands queued in sessions and not yet acknowledged by their device (shared across replicas with Redis)',
      registers,
      async collect() {
        this.set(await state.commandsPending().catch(() => Number.NaN));
      },
    }),
    commandsDelivered: new Counter({ name: 'tributary_gateway_commands_delivered_total', help: 'command PUBACKs received from devices', registers }),
    commandsExpired: new Counter({ name: 'tributary_gateway_commands_expired_total', help: 'commands reported expired: before_delivery (expired when consumed), in_session (no PUBACK before expiry)', labelNames: ['where'], registers }),
    commandDeliveryLatency: new Histogram({
      name: 'tributary_gateway_command_delivery_latency_seconds',
      help: 'command issued to its PUBACK from the device',
      buckets: [0.01, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 300, 3600],
      registers,
    }),
    commandResults: new Counter({ name: 'tributary_gateway_command_results_total', help: 'command results received from devices, by status', labelNames: ['status'], registers }),
    forwardsRefused: new Counter({ name: 'tributary_gateway_forwards_refused_total', help: 'messages not forwarded to a device: not_own_commands (never expected), expired', labelNames: ['reason'], registers }),
    sessionStoreAvailable: new Gauge({ name: 'tributary_gateway_session_store_available', help: '1 while the session store (Redis, or memory) answers', registers, collect() { this.set(state.sessionStoreAvailable() ? 1 : 0); } }),
    sessionStoreSkipped: new Counter({ name: 'tributary_gateway_session_store_skipped_total', help: 'session-store operations a clean-session CONNECT skipped while the store was unavailable', labelNames: ['operation'], registers }),
    brokerErrors: new Counter({ name: 'tributary_gateway_broker_errors_total', help: 'errors Aedes reported (session store lookups, will sweeps)', registers }),
    pubackLatency: new Histogram({
      name: 'tributary_gateway_puback_latency_seconds',
      help: 'PUBLISH received to PUBACK released (Kafka acks=all included)',
      buckets: [0.001, 0.002, 0.005, 0.01, 0.02, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
      registers,
    }),
  };
}
