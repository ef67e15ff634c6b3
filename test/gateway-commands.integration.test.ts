/**
 * Commands through one gateway with sessions in its memory, against the real Kafka: delivery to a
 * connected device and to one that comes back, DUP on redelivery, expiry, no session, results, the
 * ACL around commands, and a third-party client (mosquitto_sub).
 */
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import type { MqttClient } from 'mqtt';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { collectDeliveries, startCommandProbe, type CommandProbe } from './command-probe.ts';
import { startGatewayHarness, type GatewayHarness } from './gateway-harness.ts';
import { eventually, uniqueName } from './helpers.ts';

const run = promisify(execFile);
let harness: GatewayHarness;
let probe: CommandProbe;
const secret = 'commands-secret';

beforeAll(async () => {
  harness = await startGatewayHarness({ brokers: inject('kafkaBrokers') });
  probe = await startCommandProbe(harness.kafka, harness.topics);
}, 120_000);

afterAll(async () => {
  await probe?.close();
  await harness?.close();
});

async function device(): Promise<string> {
  const deviceId = uniqueName('dev');
  await harness.registerDevice(deviceId, secret);
  await eventually(
    () => harness.connect(deviceId, secret).then((client) => client.endAsync().then(() => true), () => false),
    (ok) => ok,
    20_000,
    `device ${deviceId} in the registry`,
  );
  return deviceId;
}

/** A persistent session subscribed to the device's commands. */
async function subscribed(deviceId: string): Promise<MqttClient> {
  const client = await harness.connect(deviceId, secret, { clean: false });
  await client.subscribeAsync(`devices/${deviceId}/commands/#`, { qos: 1 });
  return client;
}

describe('commands through one gateway', () => {
  it('delivers to a connected device within a second, reports queued, delivered and its result', async () => {
    const deviceId = await device();
    const client = await subscribed(deviceId);
    const received = collectDeliveries(client);
    const command = await probe.send(deviceId, 'set-interval', { params: { seconds: 30 }, correlationId: 'ticket-1' });
    await eventually(() => Promise.resolve(received.length), (n) => n === 1, 10_000, 'the command at the device');
    expect(received[0]).toMatchObject({ topic: `devices/${deviceId}/commands/set-interval`, commandId: command.commandId, dup: false });
    expect(received[0]!.payload).toEqual({ commandId: command.commandId, name: 'set-interval', params: { seconds: 30 }, issuedAtMs: command.issuedAtMs, expiresAtMs: command.expiresAtMs, correlationId: 'ticket-1' });
    const events = await probe.waitFor(command.commandId, 'delivered');
    expect(events.map((event) => event.type)).toEqual(['queued', 'delivered']);
    expect(events[1]!.atMs - command.issuedAtMs).toBeLessThan(10_000);

    await client.publishAsync(`devices/${deviceId}/command-results`, JSON.stringify({ commandId: command.commandId, status: 'success', appliedS: 30 }), { qos: 1 });
    const withResult = await probe.waitFor(command.commandId, 'result');
    expect(withResult.find((event) => event.type === 'result')).toMatchObject({ deviceId, status: 'success', result: { commandId: command.commandId, status: 'success', appliedS: 30 } });
    await client.endAsync();
  });

  it('holds a command for an offline device and delivers it once when it comes back', async () => {
    const deviceId = await device();
    await (await subscribed(deviceId)).endAsync();
    const command = await probe.send(deviceId, 'reboot');
    await probe.waitFor(command.commandId, 'queued');
    const client = await harness.connect(deviceId, secret, { clean: false });
    const received = collectDeliveries(client);
    await probe.waitFor(command.commandId, 'delivered');
    expect(received.map((delivery) => delivery.commandId)).toEqual([command.commandId]);
    await client.endAsync();
  });

  it('sends a command again with DUP set when the device did not acknowledge it', async () => {
    const deviceId = await device();
    const silent = await subscribed(deviceId);
    const unacknowledged: boolean[] = [];
    // never acknowledge: mqtt.js sends the PUBACK only when handleMessage calls back
    silent.handleMessage = (packet) => void unacknowledged.push(packet.dup);
    const command = await probe.send(deviceId, 'fetch-log');
    await eventually(() => Promise.resolve(unacknowledged.length), (n) => n === 1, 10_000, 'the first delivery');
    expect(unacknowledged).toEqual([false]);
    silent.end(true);
    const client = await harness.connect(deviceId, secret, { clean: false });
    const received = collectDeliveries(client);
    await probe.waitFor(command.commandId, 'delivered');
    expect(received).toMatchObject([{ commandId: command.commandId, dup: true }]);
    await client.endAsync();
  });

  it('never delivers an expired command and reports it expired', async () => {
    const deviceId = await device();
    await (await subscribed(deviceId)).endAsync();
    const now = Date.now();
    const stale = await probe.send(deviceId, 'stale', { issuedAtMs: now - 120_000, expiresAtMs: now - 60_000 });
    expect((await probe.waitFor(stale.commandId, 'expired')).map((event) => event.reason)).toEqual(['expired_before_delivery']);
    const short = await probe.send(deviceId, 'short', { expiresAtMs: Date.now() + 1500 });
    await probe.waitFor(short.commandId, 'queued');
    // expiry (1.5 s) + the gateway's grace (5 s) + a sweep
    expect((await probe.waitFor(short.commandId, 'expired', 20_000)).map((event) => event.type)).toEqual(['queued', 'expired']);
    const client = await harness.connect(deviceId, secret, { clean: false });
    const received = collectDeliveries(client);
    // a live command behind them proves the queue was emptied without them
    const live = await probe.send(deviceId, 'live');
    await probe.waitFor(live.commandId, 'delivered');
    expect(received.map((delivery) => delivery.commandId)).toEqual([live.commandId]);
    await client.endAsync();
  });

  it('reports a device without a persistent session as failed: no_session', async () => {
    const deviceId = await device();
    const client = await harness.connect(deviceId, secret, { clean: true });
    await client.subscribeAsync(`devices/${deviceId}/commands/#`, { qos: 1 });
    const command = await probe.send(deviceId, 'reboot');
    const events = await probe.waitFor(command.commandId, 'failed');
    expect(events).toMatchObject([{ type: 'failed', reason: 'no_session' }]);
    await client.endAsync();
  });

  it("keeps commands to their own device: no subscription to another's, no publishing to a commands topic", async () => {
    const owner = await device();
    const other = await device();
    const intruder = await harness.connect(other, secret, { clean: false });
    // SUBACK 0x80: mqtt.js rejects the subscription
    await expect(intruder.subscribeAsync(`devices/${owner}/commands/#`, { qos: 1 })).rejects.toThrow(/Subscribe error/);
    const intruderReceived = collectDeliveries(intruder);
    const ownerClient = await subscribed(owner);
    const command = await probe.send(owner, 'reboot');
    await probe.waitFor(command.commandId, 'delivered');
    expect(intruderReceived).toEqual([]);
    await ownerClient.endAsync();
    // a device may not inject a command, not even to itself: the gateway closes the connection
    const closedAfterInjection = new Promise<void>((resolve) => intruder.once('close', () => resolve()));
    intruder.publish(`devices/${other}/commands/reboot`, '{}', { qos: 1 });
    await closedAfterInjection;
    intruder.end(true);
  });

  it('refuses an answer that is not a command result', async () => {
    const deviceId = await device();
    const client = await harness.connect(deviceId, secret);
    const closed = new Promise<void>((resolve) => client.once('close', () => resolve()));
    client.publish(`devices/${deviceId}/command-results`, '{"status":"success"}', { qos: 1 });
    await closed;
    client.end(true);
  });

  it('delivers to a third-party client (mosquitto_sub with a persistent session)', async () => {
    const deviceId = await device();
    const port = new URL(harness.mqttUrl).port;
    const args = ['-h', '127.0.0.1', '-p', port, '-i', deviceId, '-u', deviceId, '-P', secret, '-c', '-q', '1', '-t', `devices/${deviceId}/commands/#`, '-C', '1', '-W', '30'];
    // subscribe once to create the session, then receive the command on the second run
    await run('mosquitto_sub', [...args.slice(0, -4), '-E']);
    const command = await probe.send(deviceId, 'ping');
    await probe.waitFor(command.commandId, 'queued');
    const { stdout } = await run('mosquitto_sub', args);
    expect(JSON.parse(stdout)).toMatchObject({ commandId: command.commandId, name: 'ping' });
    await probe.waitFor(command.commandId, 'delivered');
  });
});
