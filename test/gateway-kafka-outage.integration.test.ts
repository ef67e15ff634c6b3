/**
 * The delivery contract under a Kafka outage, on a Kafka of its own that the test stops and
 * starts: a QoS 1 publish gets no PUBACK while Kafka is down and the connection is closed; once
 * Kafka is back the device's resend lands.
 */
import mqtt from 'mqtt';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { startStack, stackDir, stopStack } from '../infra/stack.ts';
import { startGatewayHarness, type GatewayHarness } from './gateway-harness.ts';
import { eventually } from './helpers.ts';
import { faultStackOptions } from './test-stacks.ts';

const stackOptions = faultStackOptions({ suffix: 'outage', brokers: 1, home: inject('stackHome'), kafkaHeapMb: 384 });
const dir = stackDir(stackOptions.home, stackOptions.name);
let harness: GatewayHarness;
let brokers: string[];

beforeAll(async () => {
  brokers = (await startStack(stackOptions)).kafka.bootstrap;
  harness = await startGatewayHarness({ brokers, env: { TRIBUTARY_KAFKA_SEND_TIMEOUT_MS: '3000' } });
  await harness.registerDevice('outage-1', 'outage-secret');
  await eventually(
    () => harness.connect('outage-1', 'outage-secret').then(async (c) => void (await c.endAsync())).then(() => true, () => false),
    (ok) => ok,
    20_000,
    'device registered',
  );
});

afterAll(async () => {
  try {
    await harness?.close();
  } finally {
    await stopStack(dir, () => undefined);
  }
});

describe('Kafka outage', () => {
  it('withholds the PUBACK and closes the connection while Kafka is down; the resend lands after it returns', async () => {
    const client = await mqtt.connectAsync(harness.mqttUrl, {
      clientId: 'outage-1',
      username: 'outage-1',
      password: 'outage-secret',
      reconnectPeriod: 500,
      connectTimeout: 5000,
    });
    await client.publishAsync('devices/outage-1/telemetry', '{"v":1,"seq":1,"ts":1,"metrics":{"x":1}}', { qos: 1 });

    await stopStack(dir, () => undefined);
    const events: string[] = [];
    client.on('close', () => events.push('close'));
    const payload = '{"v":1,"seq":2,"ts":2,"metrics":{"x":2}}';
    const acknowledged = client.publishAsync('devices/outage-1/telemetry', payload, { qos: 1 }).then(() => events.push('puback'));
    await eventually(async () => events, (seen) => seen.includes('close'), 20_000, 'connection closed by the gateway');
    expect(events[0]).toBe('close');
    expect(events).not.toContain('puback');
    const readiness = await (await fetch(`${harness.httpUrl}/readyz`)).json() as { ready: boolean };
    expect(readiness.ready).toBe(false);

    await startStack({ ...stackOptions, fresh: false });
    await acknowledged;
    client.end(true);
    const records = await harness.readRecords(harness.topics.telemetry, 2, 60_000);
    expect(records.map((r) => r.value)).toContain(payload);
    expect(records.every((r) => r.key === 'outage-1')).toBe(true);
  });
});
