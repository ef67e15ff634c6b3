/**
 * The gateway against the real Kafka: records, headers and keys; ordering; authorization
 * negatives that must leave nothing in Kafka; live registry changes; bad packets; transports.
 */
import { execFile } from 'node:child_process';
import { connect as connectTcp } from 'node:net';
import { promisify } from 'node:util';
import mqtt from 'mqtt';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { recordHeaders } from '../core/envelope.ts';
import { startGatewayHarness, type GatewayHarness } from './gateway-harness.ts';
import { eventually } from './helpers.ts';

const run = promisify(execFile);
let harness: GatewayHarness;

function telemetry(seq: number): string {
  return JSON.stringify({ v: 1, ts: Date.now(), seq, metrics: { temperature: 20 + (seq % 10) } });
}

/** Resolves with the CONNACK return code of a refused connection (0 when it was accepted). */
async function connackCode(deviceId: string, secret: string, options: mqtt.IClientOptions = {}): Promise<number> {
  try {
    const client = await harness.connect(deviceId, secret, options);
    await client.endAsync();
    return 0;
  } catch (error) {
    return (error as { code?: number }).code ?? -1;
  }
}

/** Resolves when the client's connection closes. */
function closed(client: mqtt.MqttClient): Promise<void> {
  return new Promise((resolve) => {
    if (!client.connected) resolve();
    client.once('close', () => resolve());
  });
}

/** Writes raw bytes on a new TCP connection; resolves with everything received once the gateway closes it. */
async function rawExchange(bytes: Buffer): Promise<Buffer> {
  const port = Number(new URL(harness.mqttUrl).port);
  return new Promise((resolve, reject) => {
    const received: Buffer[] = [];
    const socket = connectTcp(port, '127.0.0.1', () => socket.write(bytes));
    const timer = setTimeout(() => {
      socket.destroy();
      reject(new Error('the gateway kept the connection open'));
    }, 10_000);
    socket.on('data', (chunk) => received.push(chunk));
    socket.on('error', () => undefined);
    socket.on('close', () => {
      clearTimeout(timer);
      resolve(Buffer.concat(received));
    });
  });
}

beforeAll(async () => {
  harness = await startGatewayHarness({ brokers: inject('kafkaBrokers'), env: { TRIBUTARY_MQTT_MAX_PACKET_BYTES: '4096' } });
  await harness.registerDevice('sensor-1', 'secret-one', { site: 'plant-a' });
  await harness.registerDevice('sensor-2', 'secret-two');
  await harness.registerDevice('sensor-off', 'secret-off', { enabled: false });
  // The registry follows the topic; wait until the gateway accepts the first device.
  await eventually(() => connackCode('sensor-1', 'secret-one'), (code) => code === 0, 20_000, 'registry loaded');
});

afterAll(async () => {
  await harness?.close();
});

describe('gateway → Kafka', () => {
  it('forwards a QoS 1 publish from mqtt.js only once Kafka has it, with key = device id and the envelope headers', async () => {
    const client = await harness.connect('sensor-1', 'secret-one');
    const before = await harness.recordCount(harness.topics.telemetry);
    const payload = telemetry(1);
    await client.publishAsync('devices/sensor-1/telemetry', payload, { qos: 1 });
    // The PUBACK arrived, so the record must already be in Kafka (no waiting).
    expect(await harness.recordCount(harness.topics.telemetry)).toBe(before + 1);
    await client.endAsync();
    const [record] = await harness.readRecords(harness.topics.telemetry, 1);
    expect(record?.key).toBe('sensor-1');
    expect(record?.value).toBe(payload);
    expect(record?.headers).toMatchObject({
      [recordHeaders.mqttTopic]: 'devices/sensor-1/telemetry',
      [recordHeaders.mqttQos]: '1',
      [recordHeaders.mqttRetain]: 'false',
      [recordHeaders.contentType]: 'application/json',
      [recordHeaders.schemaVersion]: '1',
    });
    expect(Number(record?.headers[recordHeaders.receivedAtMs])).toBeGreaterThan(Date.now() - 60_000);
    expect(record?.headers[recordHeaders.gatewayId]).toMatch(/^gw-/);
  });

  it('forwards a QoS 1 publish from mosquitto_pub, a client we did not write', async () => {
    const before = await harness.recordCount(harness.topics.events);
    const port = new URL(harness.mqttUrl).port;
    await run('mosquitto_pub', ['-h', '127.0.0.1', '-p', port, '-i', 'sensor-2', '-u', 'sensor-2', '-P', 'secret-two', '-q', '1', '-t', 'devices/sensor-2/events', '-m', '{"event":"door_open"}']);
    expect(await harness.recordCount(harness.topics.events)).toBe(before + 1);
  });

  it('keeps each device in order: 1,000 messages from 50 devices', async () => {
    const devices = Array.from({ length: 50 }, (_, i) => `order-${i}`);
    await Promise.all(devices.map((id) => harness.registerDevice(id, `secret-${id}`)));
    await eventually(() => connackCode('order-49', 'secret-order-49'), (code) => code === 0, 20_000, 'devices registered');
    const topic = harness.topics.telemetry;
    const before = await harness.recordCount(topic);
    const clients = await Promise.all(devices.map((id) => harness.connect(id, `secret-${id}`)));
    // Each device pipelines its 20 messages without waiting for acknowledgements.
    await Promise.all(clients.map((client, index) => Promise.all(Array.from({ length: 20 }, (_, seq) => client.publishAsync(`devices/${devices[index]}/telemetry`, telemetry(seq), { qos: 1 })))));
    await Promise.all(clients.map((client) => client.endAsync()));
    expect(await harness.recordCount(topic)).toBe(before + 1000);
    const records = (await harness.readRecords(topic, before + 1000)).filter((r) => r.key.startsWith('order-'));
    expect(records).toHaveLength(1000);
    const seqsByDevice = new Map<string, number[]>();
    const partitions = new Map<string, Set<number>>();
    for (const record of records.sort((a, b) => a.partition - b.partition || a.offset - b.offset)) {
      seqsByDevice.set(record.key, [...(seqsByDevice.get(record.key) ?? []), (JSON.parse(record.value) as { seq: number }).seq]);
      partitions.set(record.key, (partitions.get(record.key) ?? new Set()).add(record.partition));
    }
    for (const id of devices) {
      expect(seqsByDevice.get(id), id).toEqual(Array.from({ length: 20 }, (_, seq) => seq));
      expect(partitions.get(id)?.size, id).toBe(1);
    }
  });

  it('forwards QoS 0 and QoS 2 publishes, and MQTT over WebSocket', async () => {
    const before = await harness.recordCount(harness.topics.telemetry);
    const tcp = await harness.connect('sensor-1', 'secret-one');
    await tcp.publishAsync('devices/sensor-1/telemetry', telemetry(100), { qos: 2 });
    await tcp.publishAsync('devices/sensor-1/telemetry', telemetry(101), { qos: 0 });
    await tcp.endAsync();
    const ws = await harness.connect('sensor-2', 'secret-two', { protocol: 'ws', path: '/mqtt' });
    await ws.publishAsync('devices/sensor-2/telemetry', telemetry(1), { qos: 1 });
    await ws.endAsync();
    await eventually(() => harness.recordCount(harness.topics.telemetry), (count) => count === before + 3, 10_000, 'QoS 0 record');
  });
});

describe('authorization', () => {
  it('refuses bad credentials, unknown and disabled devices, and empty client ids with the right CONNACK codes', async () => {
    expect(await connackCode('sensor-1', 'wrong-secret')).toBe(4);
    expect(await connackCode('ghost', 'whatever-secret')).toBe(4);
    expect(await connackCode('sensor-off', 'secret-off')).toBe(5);
    expect(await connackCode('sensor-1', 'secret-one', { username: 'sensor-2' })).toBe(4);
    // [MQTT-3.1.3-8] zero-length client id with clean session false: identifier rejected. mqtt.js
    // refuses to send such a CONNECT, so it is written by hand.
    const username = Buffer.from('sensor-1');
    const password = Buffer.from('secret-one');
    const body = Buffer.concat([
      Buffer.from([0x00, 0x04, 0x4d, 0x51, 0x54, 0x54, 0x04, 0xc0, 0x00, 0x3c, 0x00, 0x00]),
      Buffer.from([0x00, username.length]),
      username,
      Buffer.from([0x00, password.length]),
      password,
    ]);
    const reply = await rawExchange(Buffer.concat([Buffer.from([0x10, body.length]), body]));
    expect([...reply.subarray(0, 4)]).toEqual([0x20, 0x02, 0x00, 0x02]);
  });

  it('closes the connection on publishes to foreign, $SYS or unmapped topics and writes nothing to Kafka', async () => {
    const topics = [harness.topics.telemetry, harness.topics.events];
    const count = async (): Promise<number> => (await Promise.all(topics.map((t) => harness.recordCount(t)))).reduce((a, b) => a + b, 0);
    const before = await count();
    for (const topic of ['devices/sensor-2/telemetry', '$SYS/broker/x', 'devices/sensor-1/secrets', 'elsewhere/sensor-1']) {
      const client = await harness.connect('sensor-1', 'secret-one');
      const gone = closed(client);
      client.publish(topic, telemetry(7), { qos: 1 });
      await gone;
      client.end(true);
    }
    // A will aimed at another device's topic is refused at CONNECT (another replica may publish it later): CONNACK 5.
    expect(await connackCode('sensor-1', 'secret-one', { will: { topic: 'devices/sensor-2/events', payload: Buffer.from('{"will":true}'), qos: 1, retain: false } })).toBe(5);
    // A legitimate publish acknowledged afterwards proves the pipeline is flowing; only it may have landed.
    const client = await harness.connect('sensor-1', 'secret-one');
    await client.publishAsync('devices/sensor-1/telemetry', telemetry(8), { qos: 1 });
    await client.endAsync();
    expect(await count()).toBe(before + 1);
  });

  it('refuses subscriptions outside the device own command topics', async () => {
    const client = await harness.connect('sensor-1', 'secret-one');
    const grants: number[] = [];
    for (const filter of ['devices/sensor-1/commands/#', 'devices/sensor-2/commands/#', '#', 'devices/+/commands/#']) {
      // mqtt.js rejects a SUBACK that refuses the filter (return code 0x80).
      grants.push(await client.subscribeAsync(filter, { qos: 1 }).then((granted) => granted[0]?.qos ?? -1, () => 128));
    }
    expect(grants).toEqual([1, 128, 128, 128]);
    expect(client.connected).toBe(true);
    await client.endAsync();
  });
});

describe('persistent sessions', () => {
  /** The CONNACK's session-present flag of one mqtt.js connection of sensor-2, which subscribes to `subscribe` if given. */
  async function sessionPresent(clean: boolean, subscribe?: string): Promise<boolean> {
    const client = mqtt.connect(harness.mqttUrl, { clientId: 'sensor-2', username: 'sensor-2', password: 'secret-two', clean, reconnectPeriod: 0 });
    const connack = await new Promise<mqtt.IConnackPacket>((resolve, reject) => {
      client.once('connect', resolve);
      client.once('error', reject);
    });
    if (subscribe) await client.subscribeAsync(subscribe, { qos: 1 });
    await client.endAsync();
    return connack.sessionPresent;
  }

  // [MQTT-3.2.2-2]: a session exists even when the rest of its state (subscriptions, messages) is empty.
  it('reports a stored session on reconnect, with or without subscriptions, until a clean session discards it', async () => {
    expect(await sessionPresent(true)).toBe(false);
    expect(await sessionPresent(false)).toBe(false);
    expect(await sessionPresent(false)).toBe(true);
    expect(await sessionPresent(false, 'devices/sensor-2/commands/#')).toBe(true);
    expect(await sessionPresent(false)).toBe(true);
    expect(await sessionPresent(true)).toBe(false);
    expect(await sessionPresent(false)).toBe(false);
    expect(await sessionPresent(false)).toBe(true);
  });
});

describe('live device registry', () => {
  it('applies add, disable, enable, rotate and remove within seconds, closing revoked sessions', async () => {
    expect(await connackCode('late-1', 'late-secret')).toBe(4);
    await harness.registerDevice('late-1', 'late-secret');
    await eventually(() => connackCode('late-1', 'late-secret'), (code) => code === 0, 10_000, 'added device accepted');

    const live = await harness.connect('late-1', 'late-secret');
    const revoked = closed(live);
    await harness.registerDevice('late-1', 'late-secret', { enabled: false });
    await revoked;
    expect(await connackCode('late-1', 'late-secret')).toBe(5);

    await harness.registerDevice('late-1', 'rotated-secret');
    await eventually(() => connackCode('late-1', 'rotated-secret'), (code) => code === 0, 10_000, 'rotated secret accepted');
    expect(await connackCode('late-1', 'late-secret')).toBe(4);

    await harness.removeDevice('late-1');
    await eventually(() => connackCode('late-1', 'rotated-secret'), (code) => code === 4, 10_000, 'removed device refused');
  });
});

describe('bad input', () => {
  it('closes connections that send oversized or malformed packets and keeps serving other devices', async () => {
    const healthy = await harness.connect('sensor-2', 'secret-two');
    const oversized = await harness.connect('sensor-1', 'secret-one');
    const gone = closed(oversized);
    oversized.publish('devices/sensor-1/telemetry', Buffer.alloc(10_000, 0x41), { qos: 1 });
    await gone;
    oversized.end(true);
    // Garbage before CONNECT, and a CONNECT with a broken Remaining Length.
    expect(await rawExchange(Buffer.from('GET / HTTP/1.1\r\nHost: x\r\n\r\n'))).toHaveLength(0);
    expect(await rawExchange(Buffer.from([0x10, 0xff, 0xff, 0xff, 0xff, 0x7f]))).toHaveLength(0);
    await healthy.publishAsync('devices/sensor-2/telemetry', telemetry(9), { qos: 1 });
    await healthy.endAsync();
    const metrics = await (await fetch(`${harness.httpUrl}/metrics`)).text();
    expect(metrics).toMatch(/tributary_gateway_packets_refused_total\{reason="oversized"\} [1-9]/);
    expect(metrics).toMatch(/tributary_gateway_packets_refused_total\{reason="malformed_length"\} [1-9]/);
  });
});
