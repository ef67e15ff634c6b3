/**
 * The gateway's fast lane (ADR 0025): QoS 1 telemetry read and acknowledged without Aedes, beside
 * everything Aedes still answers, on one raw MQTT connection whose every byte the test controls.
 */
import { connect as connectTcp, type Socket } from 'node:net';
import { generate, parser, type Packet } from 'mqtt-packet';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { startGatewayHarness, type GatewayHarness } from './gateway-harness.ts';
import { eventually } from './helpers.ts';

let harness: GatewayHarness;

async function fastLaneCount(): Promise<number> {
  const text = await (await fetch(`${harness.httpUrl}/metrics`)).text();
  return Number(/^tributary_gateway_fast_lane_publishes_total (\d+)/m.exec(text)?.[1] ?? Number.NaN);
}

/** A device on a raw TCP connection: what it sends is exactly what the test writes, one chunk per write. */
async function rawDevice(deviceId: string, secret: string, keepalive: number): Promise<{ socket: Socket; received: Packet[]; closed: () => boolean }> {
  const port = Number(new URL(harness.mqttUrl).port);
  const socket = connectTcp(port, '127.0.0.1');
  // Each write leaves as its own segment (no Nagle), so the gateway reads the chunks the test wrote.
  socket.setNoDelay(true);
  const received: Packet[] = [];
  const reader = parser({ protocolVersion: 4 });
  reader.on('packet', (packet) => received.push(packet));
  socket.on('data', (chunk) => reader.parse(chunk));
  socket.on('error', () => undefined);
  let isClosed = false;
  socket.on('close', () => (isClosed = true));
  socket.write(generate({ cmd: 'connect', protocolId: 'MQTT', protocolVersion: 4, clientId: deviceId, clean: true, keepalive, username: deviceId, password: Buffer.from(secret) }));
  await eventually(async () => received[0], (packet) => packet?.cmd === 'connack', 10_000, 'CONNACK');
  expect(received[0]).toMatchObject({ cmd: 'connack', returnCode: 0 });
  return { socket, received, closed: () => isClosed };
}

const telemetry = (deviceId: string, messageId: number): Buffer =>
  generate({ cmd: 'publish', topic: `devices/${deviceId}/telemetry`, payload: JSON.stringify({ v: 1, ts: Date.now(), seq: messageId, metrics: { t: 1 } }), qos: 1, messageId, retain: false, dup: false });

const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

beforeAll(async () => {
  harness = await startGatewayHarness({ brokers: inject('kafkaBrokers') });
  await harness.registerDevice('lane-1', 'secret-lane-1');
  await harness.registerDevice('lane-2', 'secret-lane-2');
  await harness.waitUntilAccepted('lane-2', 'secret-lane-2');
});

afterAll(async () => {
  await harness?.close();
});

describe('gateway fast lane', () => {
  it('acknowledges telemetry after Kafka without Aedes, and keeps a device that only publishes past its keepalive', async () => {
    const before = { lane: await fastLaneCount(), records: await harness.recordCount(harness.topics.telemetry) };
    // keepalive 1 s: without a packet for 1.5 s the gateway closes the connection
    const device = await rawDevice('lane-1', 'secret-lane-1', 1);
    for (let messageId = 1; messageId <= 10; messageId++) {
      device.socket.write(telemetry('lane-1', messageId));
      await sleep(400);
    }
    await eventually(async () => device.received.filter((packet) => packet.cmd === 'puback').length, (count) => count === 10, 10_000, 'PUBACKs');
    expect(device.closed()).toBe(false);
    expect(device.received.filter((packet) => packet.cmd === 'puback').map((packet) => (packet as { messageId: number }).messageId)).toEqual([1, 2, 3, 4, 5, 6, 7, 8, 9, 10]);
    expect(await harness.recordCount(harness.topics.telemetry)).toBe(before.records + 10);
    expect(await fastLaneCount()).toBe(before.lane + 10);
    device.socket.destroy();
  });

  it('keeps PUBACKs in arrival order when Aedes answers some publishes of a device and the fast lane others (QoS 0 and 2 beside them)', async () => {
    const before = { lane: await fastLaneCount(), records: await harness.recordCount(harness.topics.telemetry) };
    const device = await rawDevice('lane-2', 'secret-lane-2', 60);
    // One chunk each, written back to back: whole publishes go to the fast lane; a publish sharing its
    // chunk with a PINGREQ, or one cut across two chunks, goes to Aedes.
    const cut = telemetry('lane-2', 4);
    const chunks = [
      telemetry('lane-2', 1),
      Buffer.concat([telemetry('lane-2', 2), generate({ cmd: 'pingreq' })]),
      telemetry('lane-2', 3),
      cut.subarray(0, 10),
      cut.subarray(10),
      Buffer.concat([telemetry('lane-2', 5), telemetry('lane-2', 6)]),
      generate({ cmd: 'publish', topic: 'devices/lane-2/telemetry', payload: '{"v":1,"qos":0}', qos: 0, retain: false, dup: false }),
      generate({ cmd: 'publish', topic: 'devices/lane-2/telemetry', payload: '{"v":1,"qos":2}', qos: 2, messageId: 7, retain: false, dup: false }),
    ];
    for (const chunk of chunks) {
      device.socket.write(chunk);
      await sleep(20);
    }
    await eventually(async () => device.received.filter((packet) => packet.cmd === 'puback').length, (count) => count === 6, 10_000, 'PUBACKs');
    expect(device.received.filter((packet) => packet.cmd === 'puback').map((packet) => (packet as { messageId: number }).messageId)).toEqual([1, 2, 3, 4, 5, 6]);
    expect(device.received.some((packet) => packet.cmd === 'pingresp')).toBe(true);
    await eventually(async () => device.received.some((packet) => packet.cmd === 'pubrec'), (seen) => seen, 10_000, 'PUBREC of the QoS 2 publish');
    expect(await harness.recordCount(harness.topics.telemetry)).toBe(before.records + 8);
    // 1, 3, 5, 6 and the QoS 0 one in the fast lane; 2 (beside a PINGREQ), 4 (cut) and the QoS 2 one through Aedes
    expect(await fastLaneCount()).toBe(before.lane + 5);
    device.socket.destroy();
  });
});
