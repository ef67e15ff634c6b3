/**
 * `tributary commands` against the real Kafka, run as an operator runs it (a child process): `send`
 * writes the command to the commands topic (key = device id) and its accepted event (key = command
 * id); the gateway's later events are produced here directly, the way a gateway writes them, with
 * another client's partitioner; `status`, `status --wait` and `list` read them back.
 */
import type { Producer } from 'kafkajs';
import { afterEach, describe, expect, inject, it } from 'vitest';
import type { CommandStatus } from '../core/command-status.ts';
import { decodeCommandEvent, decodeDeviceCommand, encodeCommandEvent, type CommandEvent, type DeviceCommand } from '../core/device-command.ts';
import { topicResource } from '../kafka/kafkajs-admin.ts';
import { partitionForKey } from '../kafka/key-partitioner.ts';
import { explain, startEnrichHarness, type EnrichChild, type EnrichHarness } from './enrich-harness.ts';
import { eventually, uniqueName } from './helpers.ts';
import { deleteTopics } from './kafka-cleanup.ts';

const brokers = inject('kafkaBrokers');
const questdbHttpUrl = inject('questdbHttpUrl');
const cleanups: Array<() => Promise<void>> = [];
const partitions = 3;

afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

interface CommandsFixture {
  h: EnrichHarness;
  topics: { commands: string; commandEvents: string };
  /** Starts `tributary commands <args>`. */
  spawn: (args: readonly string[]) => EnrichChild;
  /** Waits for the child's end; fails with its output unless it exits with `expectedCode`. */
  finished: (child: EnrichChild, expectedCode?: number) => Promise<{ stdout: string; output: string }>;
  /** Runs `tributary commands <args>` to its end, as `finished` does. */
  cli: (args: readonly string[], expectedCode?: number) => Promise<{ stdout: string; output: string }>;
  /** Log end offsets of one of the commands topics, by partition. */
  endOffsets: (topic: string) => Promise<number[]>;
  /** Makes Kafka refuse every record of the topic (max.message.bytes 100: MESSAGE_TOO_LARGE), or take them again. */
  refuseWrites: (topic: string, refuse: boolean) => Promise<void>;
  /** Writes an event the way a gateway does (key = command id). */
  event: (event: Omit<CommandEvent, 'v' | 'deviceId'> & { deviceId?: string }) => Promise<void>;
}

async function commandsFixture(): Promise<CommandsFixture> {
  const h = await startEnrichHarness({ brokers, questdbHttpUrl, telemetryPartitions: 1 });
  const suffix = uniqueName('c');
  const topics = { commands: `iot.commands.${suffix}`, commandEvents: `iot.command-events.${suffix}` };
  // Its own admin for these topics: a kafkajs admin that looked at a topic fails once another deletes it.
  const admin = h.kafka.admin();
  await admin.connect();
  cleanups.push(async () => {
    await deleteTopics(admin, Object.values(topics));
    await admin.disconnect();
  });
  cleanups.push(() => h.close());
  // created by the first `send` (TRIBUTARY_KAFKA_PARTITIONS), so the test sees what an operator's first command creates
  const env = { LOG_LEVEL: 'error', TRIBUTARY_TOPIC_COMMANDS: topics.commands, TRIBUTARY_TOPIC_COMMAND_EVENTS: topics.commandEvents, TRIBUTARY_KAFKA_PARTITIONS: String(partitions) };
  const producer: Producer = h.kafka.producer({ idempotent: true });
  await producer.connect();
  cleanups.push(() => producer.disconnect());
  const spawn = (args: readonly string[]): EnrichChild => h.spawnCli(['commands', ...args], env);
  const finished = async (child: EnrichChild, expectedCode = 0): Promise<{ stdout: string; output: string }> => {
    const hung = setTimeout(() => child.process.kill('SIGKILL'), 120_000);
    const { code } = await child.exited;
    clearTimeout(hung);
    if (code !== expectedCode) return explain(child)(new Error(`tributary commands ${child.process.spawnargs.slice(3).join(' ')} exited with ${code}, expected ${expectedCode}`));
    return { stdout: child.stdout(), output: child.output() };
  };
  return {
    h,
    topics,
    spawn,
    finished,
    cli: (args, expectedCode) => finished(spawn(args), expectedCode),
    endOffsets: async (topic) => (await admin.fetchTopicOffsets(topic)).sort((a, b) => a.partition - b.partition).map(({ high }) => Number(high)),
    refuseWrites: async (topic, refuse) => {
      await admin.alterConfigs({ validateOnly: false, resources: [{ type: topicResource, name: topic, configEntries: [{ name: 'max.message.bytes', value: refuse ? '100' : '1048588' }] }] });
    },
    event: async (event) => {
      const value = encodeCommandEvent({ v: 1, deviceId: 'cmd-dev-1', ...event });
      await producer.send({ topic: topics.commandEvents, acks: -1, messages: [{ key: event.commandId, value }] });
    },
  };
}

describe('tributary commands', () => {
  it('sends a command to a registered device, then follows it through the events a gateway writes', async () => {
    const { h, topics, spawn, finished, cli, event } = await commandsFixture();
    await h.registerDevice({ deviceId: 'cmd-dev-1' });

    const sent = JSON.parse((await cli(['send', 'cmd-dev-1', 'set-interval', '--params', '{"intervalS":30}', '--ttl', '10m', '--correlation-id', 'op-7', '--json'])).stdout) as DeviceCommand;
    expect(sent).toMatchObject({ v: 1, deviceId: 'cmd-dev-1', name: 'set-interval', params: { intervalS: 30 }, qos: 1, correlationId: 'op-7' });
    expect(sent.commandId).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
    expect(sent.expiresAtMs - sent.issuedAtMs).toBe(600_000);

    // the command on the device's partition, keyed by the device; the accepted event on the command's, keyed by the command
    const [record] = await h.readTopic(topics.commands, 1);
    expect(record).toMatchObject({ key: 'cmd-dev-1', partition: partitionForKey('cmd-dev-1', partitions) });
    expect(decodeDeviceCommand(record?.key ?? null, record?.value ?? null)).toEqual({ ok: true, value: sent });
    const [acceptedRecord] = await h.readTopic(topics.commandEvents, 1);
    expect(acceptedRecord).toMatchObject({ key: sent.commandId, partition: partitionForKey(sent.commandId, partitions) });
    const accepted = decodeCommandEvent(acceptedRecord?.value ?? Buffer.alloc(0));
    expect(accepted).toMatchObject({ ok: true, value: { type: 'accepted', commandId: sent.commandId, deviceId: 'cmd-dev-1', command: sent } });

    const id = sent.commandId;
    const t0 = accepted.ok ? accepted.value.atMs : 0;
    await event({ type: 'queued', commandId: id, atMs: t0 + 100, gatewayId: 'gw-a' });
    await event({ type: 'delivered', commandId: id, atMs: t0 + 200, gatewayId: 'gw-a' });
    const delivered = JSON.parse((await cli(['status', id, '--json'])).stdout) as CommandStatus;
    expect(delivered).toMatchObject({ commandId: id, deviceId: 'cmd-dev-1', state: 'delivered', terminal: false, deliveryCount: 1, gatewayIds: ['gw-a'], command: sent });
    expect(delivered.events.map((e) => e.type)).toEqual(['accepted', 'queued', 'delivered']);

    // --wait result follows the events as they come: the device answers (through another replica) while it waits
    const waiting = spawn(['status', id, '--wait', 'result', '--timeout', '90s']);
    await eventually(async () => waiting.output(), (output) => output.includes(`waiting up to 90s for command ${id} to reach result (now delivered)`) || waiting.process.exitCode !== null, 120_000, 'the status --wait child waiting');
    await event({ type: 'result', commandId: id, atMs: t0 + 900, gatewayId: 'gw-b', status: 'success', result: { commandId: id, status: 'success', intervalS: 30 } });
    const { stdout: timeline, output } = await finished(waiting);
    expect(output).toContain(`waiting up to 90s for command ${id} to reach result (now delivered)`);
    expect(timeline).toContain(`command ${id}: set-interval → cmd-dev-1, qos 1`);
    expect(timeline).toContain('state: result (success)');
    expect(timeline).toMatch(new RegExp(`^  ${new Date(t0 + 200).toISOString()}  delivered  gw-a$`, 'm'));
    expect(timeline).toMatch(/^ {2}\S+ {2}result {5}gw-b {2}success {2}\{"commandId":"[^"]+","status":"success","intervalS":30\}$/m);
    expect(timeline).toContain('deliveries: 1; gateways: gw-a, gw-b');

    // a second command that is never delivered: --wait times out, then it expires and a wait for its result gives up at once
    const second = (await cli(['send', 'cmd-dev-1', 'reboot', '--qos', '0', '--ttl', '30s'])).stdout.trim();
    expect(second).toMatch(/^[0-9a-f-]{36}$/);
    const timedOut = await cli(['status', second, '--wait', 'delivered', '--timeout', '2s'], 1);
    expect(timedOut.output).toContain(`command ${second} did not reach delivered within 2s (state accepted)`);
    await event({ type: 'expired', commandId: second, atMs: Date.now(), gatewayId: 'gw-a', reason: 'expired_before_delivery' });
    const gaveUp = await cli(['status', second, '--wait', 'result', '--timeout', '90s'], 1);
    expect(gaveUp.output).toContain(`command ${second} ended expired without reaching result`);
    expect(gaveUp.stdout).toContain('state: expired (expired_before_delivery)');

    const listed = JSON.parse((await cli(['list', 'cmd-dev-1', '--json'])).stdout) as Array<{ command: DeviceCommand; status: CommandStatus | null }>;
    expect(listed.map((entry) => [entry.command.commandId, entry.command.name, entry.status?.state])).toEqual([
      [second, 'reboot', 'expired'],
      [id, 'set-interval', 'result'],
    ]);
    const { stdout: table } = await cli(['list', 'cmd-dev-1', '--limit', '1']);
    expect(table).toMatch(new RegExp(`^\\S+  ${second}  reboot {12}expired\\n1 command\\(s\\) for cmd-dev-1\\n$`));
  }, 600_000); // a dozen CLI runs, each joining a consumer group: tens of seconds each on a busy machine

  it('refuses an unknown or disabled device and a bad command before writing anything, and an unknown command id', async () => {
    const { h, topics, cli, endOffsets } = await commandsFixture();
    await h.registerDevice({ deviceId: 'cmd-dev-1' });
    await h.registerDevice({ deviceId: 'cmd-dev-off', enabled: false });

    const unknown = await cli(['send', 'cmd-nobody', 'reboot'], 2);
    expect(unknown.output).toContain(`no device "cmd-nobody" in the registry (${h.topics.devices})`);
    const disabled = await cli(['send', 'cmd-dev-off', 'reboot'], 2);
    expect(disabled.output).toContain('device cmd-dev-off is disabled');
    const bad = await cli(['send', 'cmd-dev-1', 'a/b', '--params', '[1,2]', '--ttl', '45d'], 2);
    expect(bad.output).toMatch(/^the command is not valid:\n {2}--ttl "45d": must be between 1s and 30d\n {2}name: .+\n {2}--params: .+$/m);
    const notJson = await cli(['send', 'cmd-dev-1', 'reboot', '--params', '{intervalS: 30}'], 2);
    expect(notJson.output).toContain('--params is not valid JSON');

    // the refused sends created the topics (an operator's first send does) but wrote nothing to them
    expect(await endOffsets(topics.commands)).toEqual(Array.from({ length: partitions }, () => 0));
    expect(await endOffsets(topics.commandEvents)).toEqual(Array.from({ length: partitions }, () => 0));
    const noSuch = await cli(['status', 'no-such-command'], 1);
    expect(noSuch.output).toContain(`no command no-such-command: ${topics.commandEvents} holds no event of it`);
    expect((await cli(['list', 'cmd-dev-1'])).stdout).toBe('0 command(s) for cmd-dev-1\n');
  }, 600_000);

  it('exits 1 and says which record Kafka did not acknowledge', async () => {
    const { h, topics, cli, refuseWrites } = await commandsFixture();
    await h.registerDevice({ deviceId: 'cmd-dev-1' });
    // the first send creates the topics, so that their settings can then be changed
    const first = (await cli(['send', 'cmd-dev-1', 'reboot'])).stdout.trim();

    await refuseWrites(topics.commands, true);
    const refused = await cli(['send', 'cmd-dev-1', 'reboot'], 1);
    expect(refused.stdout).toBe('');
    expect(refused.output).toMatch(new RegExp(`Kafka did not acknowledge command [0-9a-f-]{36} on ${topics.commands.replaceAll('.', '\\.')} \\(it may or may not have been written\\): Kafka refused a record of \\d+ bytes`));

    await refuseWrites(topics.commands, false);
    await refuseWrites(topics.commandEvents, true);
    const halfway = await cli(['send', 'cmd-dev-1', 'reboot'], 1);
    const id = halfway.stdout.trim();
    expect(id).toMatch(/^[0-9a-f-]{36}$/);
    expect(halfway.output).toContain(`command ${id} is on ${topics.commands} and will be delivered, but Kafka did not acknowledge its accepted event on ${topics.commandEvents}`);
    const written = await h.readTopic(topics.commands, 2);
    expect(written.map((record) => decodeDeviceCommand(record.key, record.value)).map((decoded) => decoded.ok && decoded.value.commandId)).toEqual([first, id]);
  }, 600_000);
});
