/**
 * A command end to end, as an operator and a device see it: `tributary commands send` (a child
 * process) → the commands topic → a real gateway → the device's MQTT session; the device answers on
 * its results topic, and `tributary commands status --wait result` and `list` show the whole chain
 * the gateway recorded.
 */
import { execFile } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { afterEach, describe, expect, inject, it } from 'vitest';
import type { CommandStatus } from '../core/command-status.ts';
import type { DeviceCommand } from '../core/device-command.ts';
import { createCleanups } from './cleanups.ts';
import { collectDeliveries } from './command-probe.ts';
import { startGatewayHarness, type GatewayHarness } from './gateway-harness.ts';
import { eventually } from './helpers.ts';

const run = promisify(execFile);
const entryPoint = fileURLToPath(new URL('../bin/tributary.ts', import.meta.url));
const brokers = inject('kafkaBrokers');
const cleanups = createCleanups();
const secret = 'pipeline-secret';

afterEach(() => cleanups.runAll());

/** `tributary commands <args>` with the harness's topics; rejects (with its output) unless it exits 0. */
async function commands(harness: GatewayHarness, args: readonly string[]): Promise<string> {
  const env = {
    PATH: process.env.PATH ?? '',
    HOME: process.env.HOME ?? '',
    LOG_LEVEL: 'error',
    TRIBUTARY_KAFKA_BROKERS: brokers.join(','),
    TRIBUTARY_TOPIC_DEVICES: harness.topics.devices,
    TRIBUTARY_TOPIC_COMMANDS: harness.topics.commands,
    TRIBUTARY_TOPIC_COMMAND_EVENTS: harness.topics.commandEvents,
  };
  const { stdout } = await run(process.execPath, [entryPoint, 'commands', ...args], { env, timeout: 120_000 });
  return stdout;
}

describe('a command from the command line to a device and back', () => {
  it('is delivered by the gateway, answered by the device, and shown with every step by status and list', async () => {
    const harness = await startGatewayHarness({ brokers });
    cleanups.add(() => harness.close());
    const deviceId = 'pipeline-dev-1';
    await harness.registerDevice(deviceId, secret);
    const client = await eventually(
      () => harness.connect(deviceId, secret, { clean: false }).catch(() => null),
      (connected) => connected !== null,
      30_000,
      `device ${deviceId} in the gateway's registry`,
    );
    cleanups.add(async () => void (await client!.endAsync()));
    await client!.subscribeAsync(`devices/${deviceId}/commands/#`, { qos: 1 });
    const received = collectDeliveries(client!);

    const sent = JSON.parse(await commands(harness, ['send', deviceId, 'set-interval', '--params', '{"intervalS":15}', '--ttl', '5m', '--json'])) as DeviceCommand;
    await eventually(() => Promise.resolve(received.length), (count) => count === 1, 30_000, 'the command at the device');
    expect(received[0]).toMatchObject({ topic: `devices/${deviceId}/commands/set-interval`, commandId: sent.commandId, payload: { name: 'set-interval', params: { intervalS: 15 }, expiresAtMs: sent.expiresAtMs } });
    await client!.publishAsync(`devices/${deviceId}/command-results`, JSON.stringify({ commandId: sent.commandId, status: 'success', intervalS: 15 }), { qos: 1 });

    const status = JSON.parse(await commands(harness, ['status', sent.commandId, '--wait', 'result', '--timeout', '60s', '--json'])) as CommandStatus;
    expect(status).toMatchObject({
      state: 'result',
      terminal: true,
      command: sent,
      deliveryCount: 1,
      result: { status: 'success', payload: { commandId: sent.commandId, status: 'success', intervalS: 15 } },
      anomalies: [],
    });
    expect(status.events.map((event) => event.type)).toEqual(['accepted', 'queued', 'delivered', 'result']);
    expect(status.gatewayIds).toEqual([expect.stringMatching(/^gw-/)]);

    const listed = JSON.parse(await commands(harness, ['list', deviceId, '--json'])) as Array<{ command: DeviceCommand; status: CommandStatus }>;
    expect(listed.map((entry) => [entry.command.commandId, entry.status.state])).toEqual([[sent.commandId, 'result']]);
  }, 300_000);
});
