/**
 * Changing only TRIBUTARY_MQTT_TOPIC_PREFIX keeps publishes flowing: the default mapping rules
 * follow the prefix, so a device's publish under the new prefix lands in Kafka.
 */
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { recordHeaders } from '../core/envelope.ts';
import { startGatewayHarness, type GatewayHarness } from './gateway-harness.ts';
import { eventually } from './helpers.ts';

let harness: GatewayHarness;

beforeAll(async () => {
  // Read through the gateway's settings reader, as `tributary gateway` does; nothing else changes.
  harness = await startGatewayHarness({ brokers: inject('kafkaBrokers'), env: { TRIBUTARY_MQTT_TOPIC_PREFIX: 'acme/devices' } });
  await harness.registerDevice('prefixed-1', 'secret-prefixed');
});

afterAll(async () => {
  await harness?.close();
});

describe('a gateway with another topic prefix', () => {
  it('maps a publish under the prefix to the telemetry topic', async () => {
    const client = await eventually(
      () => harness.connect('prefixed-1', 'secret-prefixed').catch(() => null),
      (connected) => connected !== null,
      20_000,
      'registry loaded',
    );
    const payload = JSON.stringify({ v: 1, ts: Date.now(), seq: 1, metrics: { temperature: 21.5 } });
    await client!.publishAsync('acme/devices/prefixed-1/telemetry', payload, { qos: 1 });
    await client!.endAsync();
    const [record] = await harness.readRecords(harness.topics.telemetry, 1);
    expect(record).toMatchObject({ key: 'prefixed-1', value: payload });
    expect(record?.headers[recordHeaders.mqttTopic]).toBe('acme/devices/prefixed-1/telemetry');
  });
});
