/**
 * Retained publishes against the real Kafka: the record says what the device sent (mqtt.retain=true),
 * while the broker keeps no payload, since no device may subscribe to a data topic to receive it.
 */
import aedesPersistence, { type AedesMemoryPersistence } from 'aedes-persistence';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { recordHeaders } from '../core/envelope.ts';
import { startGatewayHarness, type GatewayHarness } from './gateway-harness.ts';

// A CommonJS factory whose types declare an ES default export: at run time the default import is the factory.
const persistence = (aedesPersistence as unknown as () => AedesMemoryPersistence)();
let harness: GatewayHarness;

beforeAll(async () => {
  harness = await startGatewayHarness({ brokers: inject('kafkaBrokers'), brokerPersistence: persistence });
  await harness.registerDevice('keeper-1', 'keeper-secret');
  await harness.waitUntilAccepted('keeper-1', 'keeper-secret');
});

afterAll(async () => {
  await harness?.close();
});

describe('retained publishes', () => {
  it('land in Kafka with mqtt.retain=true while the broker stores no retained message', async () => {
    const client = await harness.connect('keeper-1', 'keeper-secret');
    await client.publishAsync('devices/keeper-1/telemetry', '{"v":1,"seq":1,"ts":1,"metrics":{"x":1}}', { qos: 1, retain: true });
    await client.publishAsync('devices/keeper-1/events', '{"event":"door_open"}', { qos: 0, retain: true });
    await client.endAsync();
    const [telemetry] = await harness.readRecords(harness.topics.telemetry, 1);
    const [event] = await harness.readRecords(harness.topics.events, 1);
    expect(telemetry?.headers[recordHeaders.mqttRetain]).toBe('true');
    expect(event?.headers[recordHeaders.mqttRetain]).toBe('true');
    // The publish callbacks ran after Aedes' retained step, so anything it stored would be here by now.
    const retained = (await persistence.createRetainedStream('#').toArray()) as Array<{ topic: string }>;
    expect(retained.map((packet) => packet.topic)).toEqual([]);
  });
});
