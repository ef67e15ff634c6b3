/**
 * Large payloads against the real Kafka: batches are capped by the topics' max.message.bytes, so a
 * burst of 60 KB publishes (under the 64 KB packet limit) is acknowledged whole and written once,
 * a publish too large for its topic's limit is refused at the gateway (no PUBACK, counted)
 * while the others pass, and when the topic's limit shrinks after the gateway read it, the batches
 * Kafka refuses as too large are sent again in halves until every record is written once.
 */
import type { MqttClient } from 'mqtt';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { randomBytes } from 'node:crypto';
import { ConfigResourceTypes, Kafka, logLevel } from 'kafkajs';
import { createLogger } from '../core/logger.ts';
import { createKafkajsAdmin } from '../kafka/kafkajs-admin.ts';
import { startGatewayHarness, type GatewayHarness } from './gateway-harness.ts';
import { eventually, uniqueName } from './helpers.ts';
import { deleteTopics } from './kafka-cleanup.ts';

/** A payload of exactly `bytes` bytes that names its device and sequence number. */
function payload(deviceId: string, seq: number, bytes: number): Buffer {
  const head = `${deviceId}:${seq}:`;
  return Buffer.concat([Buffer.from(head), Buffer.alloc(bytes - head.length, 'x')]);
}

async function registered(harness: GatewayHarness, deviceIds: readonly string[]): Promise<void> {
  for (const deviceId of deviceIds) await harness.registerDevice(deviceId, `${deviceId}-secret`);
  await eventually(
    () => harness.connect(deviceIds.at(-1)!, `${deviceIds.at(-1)!}-secret`).then(async (client) => void (await client.endAsync())).then(() => true, () => false),
    (ok) => ok,
    20_000,
    'devices registered',
  );
}

async function refusedTooLarge(harness: GatewayHarness): Promise<number> {
  const metrics = await (await fetch(`${harness.httpUrl}/metrics`)).text();
  return Number(/tributary_gateway_publishes_refused_total\{reason="record_too_large"\} (\d+)/.exec(metrics)?.[1] ?? 0);
}

describe('a burst of 60 KB QoS 1 publishes', () => {
  let harness: GatewayHarness;
  const devices = ['bulky-1', 'bulky-2', 'bulky-3', 'bulky-4'];
  const perDevice = 60;
  const payloadBytes = 60 * 1024;

  beforeAll(async () => {
    harness = await startGatewayHarness({ brokers: inject('kafkaBrokers') });
    await registered(harness, devices);
  });

  afterAll(async () => {
    await harness?.close();
  });

  it('is acknowledged whole and lands in Kafka once per publish', async () => {
    const clients = await Promise.all(devices.map((deviceId) => harness.connect(deviceId, `${deviceId}-secret`)));
    // Every device sends its whole burst at once: 240 × 60 KB = 14 MB, 14 times Kafka's default max.message.bytes.
    const outcomes = await Promise.allSettled(
      clients.flatMap((client, index) => Array.from({ length: perDevice }, (_, seq) => client.publishAsync(`devices/${devices[index]!}/telemetry`, payload(devices[index]!, seq, payloadBytes), { qos: 1 }))),
    );
    await Promise.all(clients.map((client) => client.endAsync()));
    const total = devices.length * perDevice;
    const acknowledged = outcomes.filter((outcome) => outcome.status === 'fulfilled').length;
    expect({ acknowledged, failed: total - acknowledged }).toEqual({ acknowledged: total, failed: 0 });
    const records = await harness.readRecords(harness.topics.telemetry, total);
    const seen = new Set(records.map((record) => record.value.slice(0, record.value.indexOf(':', record.value.indexOf(':') + 1))));
    expect(seen.size).toBe(total);
    expect(records.every((record) => record.value.length === payloadBytes)).toBe(true);
    expect(await harness.recordCount(harness.topics.telemetry)).toBe(total);
    expect(await refusedTooLarge(harness)).toBe(0);
  });
});

describe('a topic whose max.message.bytes is small', () => {
  const maxMessageBytes = 4096;
  const topic = `iot.telemetry.${uniqueName('small')}`;
  const kafka = new Kafka({ clientId: 'large-payloads-test', brokers: inject('kafkaBrokers'), logLevel: logLevel.NOTHING });
  const admin = kafka.admin();
  let harness: GatewayHarness;

  beforeAll(async () => {
    await admin.connect();
    // The product's admin path waits until every partition answers.
    const creator = createKafkajsAdmin(kafka);
    await creator.ensureTopics([{ topic, partitions: 3, replicationFactor: 1, config: { 'max.message.bytes': String(maxMessageBytes) } }]);
    await creator.close();
    harness = await startGatewayHarness({ brokers: inject('kafkaBrokers'), env: { TRIBUTARY_TOPIC_TELEMETRY: topic } });
    await registered(harness, ['tight-1']);
  });

  afterAll(async () => {
    await harness?.close();
    await deleteTopics(admin, [topic]);
    await admin.disconnect();
  });

  it('refuses a publish that can never fit, with the reason counted and no PUBACK, while smaller ones pass', async () => {
    const client = await harness.connect('tight-1', 'tight-1-secret');
    // 20 publishes of 1.5 KB need several batches under a 4 KB limit: all are acknowledged.
    await Promise.all(Array.from({ length: 20 }, (_, seq) => client.publishAsync('devices/tight-1/telemetry', payload('tight-1', seq, 1500), { qos: 1 })));
    expect(await harness.recordCount(topic)).toBe(20);

    const closed = new Promise<void>((resolve) => client.once('close', () => resolve()));
    let acknowledged = false;
    client.publishAsync('devices/tight-1/telemetry', payload('tight-1', 100, maxMessageBytes), { qos: 1 }).then(
      () => (acknowledged = true),
      () => undefined,
    );
    await closed;
    expect(acknowledged).toBe(false);
    expect(await refusedTooLarge(harness)).toBe(1);

    // The device comes back: small publishes pass, and a too large QoS 0 one is refused and counted too.
    const again: MqttClient = await harness.connect('tight-1', 'tight-1-secret');
    await again.publishAsync('devices/tight-1/telemetry', payload('tight-1', 101, maxMessageBytes * 2), { qos: 0 });
    await again.publishAsync('devices/tight-1/telemetry', payload('tight-1', 102, 200), { qos: 1 });
    await eventually(() => refusedTooLarge(harness), (count) => count === 2, 10_000, 'QoS 0 refusal counted');
    await again.endAsync();
    const records = await harness.readRecords(topic, 21);
    expect(records.map((record) => record.value.split(':')[1]).sort((a, b) => Number(a) - Number(b))).toEqual([...Array.from({ length: 20 }, (_, seq) => String(seq)), '102']);
    expect(await harness.recordCount(topic)).toBe(21);
  });
});

describe('a topic whose max.message.bytes shrinks after the gateway read it', () => {
  const shrunkBytes = 8192;
  const devices = ['shrunk-1', 'shrunk-2', 'shrunk-3'];
  const perDevice = 12;
  const warnings: string[] = [];
  let harness: GatewayHarness;

  beforeAll(async () => {
    const logger = createLogger({ level: 'warn', destination: { write: (line: string) => void warnings.push(String((JSON.parse(line) as { msg?: unknown }).msg)) } });
    harness = await startGatewayHarness({ brokers: inject('kafkaBrokers'), logger });
    await registered(harness, devices);
  });

  afterAll(async () => {
    await harness?.close();
  });

  it('splits the batches Kafka refuses as too large and writes every record exactly once', async () => {
    const topic = harness.topics.telemetry;
    const admin = harness.kafka.admin();
    const probe = harness.kafka.producer();
    await Promise.all([admin.connect(), probe.connect()]);
    try {
      // The gateway read the default limit (1 MiB) at start; from now on Kafka refuses any batch over 8 KiB.
      await admin.alterConfigs({ validateOnly: false, resources: [{ type: ConfigResourceTypes.TOPIC, name: topic, configEntries: [{ name: 'max.message.bytes', value: String(shrunkBytes) }] }] });
      // The broker applies the change a moment later: wait until it refuses a 9 KiB record.
      let probesWritten = 0;
      await eventually(
        () => probe.send({ topic, acks: -1, messages: [{ key: 'probe', value: Buffer.alloc(shrunkBytes + 1024, 'p') }] }).then(() => (probesWritten += 1) < 0, () => true),
        (refused) => refused,
        30_000,
        'Kafka refusing a 9 KiB record',
      );

      const clients = await Promise.all(devices.map((deviceId) => harness.connect(deviceId, `${deviceId}-secret`)));
      // 36 records of 2 KB, incompressible, sent at once: the first batches are several times the new limit.
      const sent = devices.flatMap((deviceId) => Array.from({ length: perDevice }, (_, seq) => `${deviceId}:${seq}:${randomBytes(1000).toString('hex')}`));
      const outcomes = await Promise.allSettled(sent.map((value) => clients[devices.indexOf(value.split(':')[0]!)]!.publishAsync(`devices/${value.split(':')[0]!}/telemetry`, value, { qos: 1 })));
      await Promise.all(clients.map((client) => client.endAsync()));
      expect(outcomes.filter((outcome) => outcome.status === 'rejected')).toEqual([]);
      expect(warnings).toContain('Kafka refused a batch as too large; sending it again in halves');

      const total = await harness.recordCount(topic);
      const records = await harness.readRecords(topic, total);
      // device:seq of each record, so a failure lists what was lost or written twice, not 2 KB values
      const written = records.filter((record) => record.key !== 'probe').map((record) => record.value.slice(0, record.value.lastIndexOf(':')));
      const expected = sent.map((value) => value.slice(0, value.lastIndexOf(':')));
      expect({ duplicates: written.filter((id, index) => written.indexOf(id) !== index), missing: expected.filter((id) => !written.includes(id)) }).toEqual({ duplicates: [], missing: [] });
      expect(total).toBe(sent.length + probesWritten);
      expect(new Set(records.map((record) => record.value))).toEqual(new Set([...sent, ...records.filter((record) => record.key === 'probe').map((record) => record.value)]));
    } finally {
      await Promise.all([admin.disconnect(), probe.disconnect()]);
    }
  });
});
