/**
 * Graceful shutdown of the gateway against the real Kafka: it stops accepting connections,
 * finishes the publishes in flight (each acknowledged one is in Kafka), then disconnects clients.
 */
import mqtt from 'mqtt';
import { describe, expect, inject, it } from 'vitest';
import { startGatewayHarness } from './gateway-harness.ts';
import { eventually } from './helpers.ts';

describe('gateway shutdown', () => {
  it('drains in-flight publishes before disconnecting, and refuses new connections meanwhile', async () => {
    const harness = await startGatewayHarness({ brokers: inject('kafkaBrokers') });
    try {
      await harness.registerDevice('drain-1', 'drain-secret');
      const client = await eventually(
        () => harness.connect('drain-1', 'drain-secret').catch(() => null),
        (connected) => connected !== null,
        20_000,
        'device accepted',
      );
      let acknowledged = 0;
      const publishes = Array.from({ length: 3000 }, (_, seq) =>
        client!.publishAsync('devices/drain-1/telemetry', JSON.stringify({ v: 1, ts: Date.now(), seq, metrics: { x: seq } }), { qos: 1 }).then(
          () => void (acknowledged += 1),
          () => undefined,
        ),
      );
      const closed = new Promise<void>((resolve) => client!.once('close', () => resolve()));
      // Stop while the stream is under way: some acknowledged, the rest read or still in flight.
      await eventually(async () => acknowledged, (count) => count >= 20, 20_000, 'first acknowledgements');
      const stopping = harness.gateway.stop();
      // Once stop began, a new device connection is not served.
      const late = await mqtt
        .connectAsync(harness.mqttUrl, { clientId: 'drain-1', username: 'drain-1', password: 'drain-secret', reconnectPeriod: 0, connectTimeout: 3000 })
        .then(async (c) => {
          await c.endAsync();
          return 'accepted';
        }, () => 'refused');
      await stopping;
      await closed;
      // Publishes the gateway never read stay pending in mqtt.js until the client is ended.
      client!.end(true);
      await Promise.all(publishes);
      expect(late).toBe('refused');
      expect(acknowledged).toBeGreaterThan(0);
      // Every record that reached Kafka was acknowledged before the disconnect: nothing was cut off
      // between Kafka's ack and the PUBACK.
      expect(await harness.recordCount(harness.topics.telemetry)).toBe(acknowledged);
    } finally {
      await harness.close();
    }
  });
});
