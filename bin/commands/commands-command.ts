/**
 * `tributary commands send|status|list`: the operator's side of commands to devices. `send` writes
 * a command to the commands topic for a registered device; `status` and `list` read the command
 * events back (kafka/command-log.ts), so they answer from any machine, whichever gateway delivered.
 */
import { randomUUID } from 'node:crypto';
import { commandReached, commandWaitTargets, type CommandStatus, type CommandWaitTarget } from '../../core/command-status.ts';
import { buildDeviceCommand, isValidCommandId, type CommandEvent, type DeviceCommand } from '../../core/device-command.ts';
import { createDeviceRegistry } from '../../core/device-registry.ts';
import { isValidDeviceId } from '../../core/device-record.ts';
import { formatDuration, parseDuration, type DurationBounds } from '../../core/duration.ts';
import { describeError } from '../../core/errors.ts';
import { createLogger, type Logger } from '../../core/logger.ts';
import { readSettings, settingsHelp, type SettingValues } from '../../core/settings.ts';
import { topicSpecs } from '../../core/topic-specs.ts';
import { CommandSubmitError, createCommandLog, waitForCommand, type DeviceCommandEntry } from '../../kafka/command-log.ts';
import { createKafkaClientFactory } from '../../kafka/kafka-client-factory.ts';
import { parseCommandArgs, rangedIntFlag, UsageError } from '../cli-args.ts';
import { commandSettings, createProcessEnvReader } from '../settings-catalog.ts';

const timeoutBounds: DurationBounds = { minMs: 1000, maxMs: 86_400_000 };
const waitPollIntervalMs = 1000;
const clientId = 'tributary-commands';

const help = `Usage: tributary commands <command> [options]

Commands:
  send <device> <name> [--params <json>] [--ttl <duration>] [--qos 0|1] [--correlation-id <id>] [--json]
                 send a command to a registered, enabled device: it is written to the commands
                 topic (acks=all), then its accepted event; prints the command id (--json: the
                 command). The device receives {commandId, name, params, issuedAtMs, expiresAtMs,
                 correlationId} on <prefix>/<device>/commands/<name> and answers on
                 <prefix>/<device>/command-results.
                   --params          a JSON object [{}] (at most 16 KiB)
                   --ttl             how long the command may wait for the device: 30s, 10m, 2h, 1d
                                     (1s..30d) [1h]; never delivered after that
                   --qos             MQTT QoS of the delivery [1]
                   --correlation-id  your own reference, passed to the device and kept in the events
  status <command id> [--json] [--wait <state>] [--timeout <duration>]
                 where the command is: its state and the timeline of its events
                   --wait            poll until the command reached <state>: accepted, queued,
                                     delivered, result, expired, failed, or terminal (any of the
                                     last three); exit 1 if it ended otherwise or at the timeout
                   --timeout         how long --wait waits (1s..1d) [30s]
  list <device> [--json] [--limit <n>]
                 the device's latest commands, newest first, each with its state [--limit 20, 1..1000]

States: accepted → queued (a gateway holds it for the device's session) → delivered (the device
acknowledged it) → result (the device answered success or failure); or expired, or failed (with a
reason). Delivery is at least once: the status counts deliveries.

Exit status: 0 done; 1 refused by Kafka, an unknown command, or a --wait not met; 2 bad arguments.

${settingsHelp(commandSettings.commands)}`;

type Settings = SettingValues<typeof commandSettings.commands>;

interface Values {
  params?: string;
  ttl: string;
  qos: string;
  'correlation-id'?: string;
  json: boolean;
  wait?: string;
  timeout: string;
  limit?: string;
}

export async function commandsCommand(args: readonly string[]): Promise<number> {
  const parsed = parseCommandArgs(
    args,
    {
      params: { type: 'string' },
      ttl: { type: 'string', default: '1h' },
      qos: { type: 'string', default: '1' },
      'correlation-id': { type: 'string' },
      json: { type: 'boolean', default: false },
      wait: { type: 'string' },
      timeout: { type: 'string', default: '30s' },
      limit: { type: 'string' },
    },
    help,
  );
  if (!parsed) return 0;
  const [action, ...rest] = parsed.positionals;
  const { values } = parsed;
  const expect = (count: number, usage: string): string[] => {
    if (rest.length !== count) throw new UsageError(`usage: tributary commands ${usage}`);
    return rest;
  };
  switch (action) {
    case 'send': {
      const [deviceId = '', name = ''] = expect(2, 'send <device> <name> [options]');
      const command = buildCommand(deviceId, name, values, Date.now());
      return withKafka((settings, logger) => send(command, values.json, settings, logger));
    }
    case 'status': {
      const [commandId = ''] = expect(1, 'status <command id> [--json] [--wait <state>] [--timeout <duration>]');
      if (!isValidCommandId(commandId)) throw new UsageError(`a command id (1-64 of A-Z a-z 0-9 _ . -) is required, got ${JSON.stringify(commandId)}`);
      const wait = values.wait === undefined ? null : waitTarget(values.wait);
      const timeoutMs = duration(values.timeout, '--timeout', timeoutBounds);
      return withKafka((settings, logger) => status(commandId, { json: values.json, wait, timeoutMs }, settings, logger));
    }
    case 'list': {
      const [deviceId = ''] = expect(1, 'list <device> [--json] [--limit <n>]');
      if (!isValidDeviceId(deviceId)) throw new UsageError(`a device id (1-64 of A-Z a-z 0-9 _ . -) is required, got ${JSON.stringify(deviceId)}`);
      const limit = rangedIntFlag(values.limit, 'limit', 20, 1, 1000);
      return withKafka((settings, logger) => list(deviceId, limit, values.json, settings, logger));
    }
    case undefined:
      throw new UsageError(help);
    default:
      throw new UsageError(`unknown commands command ${JSON.stringify(action)}\n\n${help}`);
  }
}

async function withKafka(run: (settings: Settings, logger: Logger) => Promise<number>): Promise<number> {
  const env = createProcessEnvReader();
  const settings = readSettings(env, commandSettings.commands);
  env.finish();
  return run(settings, createLogger({ level: settings.logLevel, name: clientId, to: 'stderr' }));
}

function duration(text: string, flag: string, bounds: DurationBounds): number {
  const parsed = parseDuration(text, bounds);
  if (!parsed.ok) throw new UsageError(`${flag} ${parsed.detail ?? parsed.reason}`);
  return parsed.value;
}

function waitTarget(text: string): CommandWaitTarget {
  const target = commandWaitTargets.find((candidate) => candidate === text);
  if (target === undefined) throw new UsageError(`--wait expects one of ${commandWaitTargets.join(', ')}, got ${JSON.stringify(text)}`);
  return target;
}

/** The command as it will be written, checked before any connection (a bad one costs nothing); every problem is listed. */
function buildCommand(deviceId: string, name: string, values: Values, nowMs: number): DeviceCommand {
  const problems: string[] = [];
  let params: unknown = {};
  if (values.params !== undefined) {
    try {
      params = JSON.parse(values.params);
    } catch (error) {
      problems.push(`--params is not valid JSON: ${describeError(error)}`);
    }
  }
  if (values.qos !== '0' && values.qos !== '1') problems.push(`--qos expects 0 or 1, got ${JSON.stringify(values.qos)}`);
  const request = { deviceId, name, params, qos: values.qos === '0' ? 0 : 1, ttl: values.ttl, ...(values['correlation-id'] !== undefined && { correlationId: values['correlation-id'] }) };
  const built = buildDeviceCommand(request, { commandId: randomUUID(), nowMs });
  if (!built.ok) {
    // The request's fields, named as the argument or flag the operator gave; qos was reported above.
    const renamed: Record<string, string> = { deviceId: 'device', params: '--params', correlationId: '--correlation-id' };
    for (const { field, detail } of built.problems) {
      if (field === 'ttl') problems.push(`--ttl ${detail}`);
      else if (field !== 'qos') problems.push(`${field === null ? 'command' : (renamed[field] ?? field)}: ${detail}`);
    }
  }
  if (problems.length > 0 || !built.ok) throw new UsageError(`the command is not valid:\n${problems.map((problem) => `  ${problem}`).join('\n')}`);
  return built.value;
}

async function send(command: DeviceCommand, json: boolean, settings: Settings, logger: Logger): Promise<number> {
  const kafka = createKafkaClientFactory({ brokers: settings.kafkaBrokers, logger });
  const topics = { commands: settings.commands, commandEvents: settings.commandEvents };
  const admin = kafka.admin({ clientId });
  try {
    await admin.ensureTopics(topicSpecs({ devices: settings.devices, ...topics }, { partitions: settings.kafkaPartitions, replicationFactor: settings.replicationFactor }));
  } finally {
    await admin.close();
  }
  const registry = createDeviceRegistry({ follower: kafka.follower({ clientId, topic: settings.devices }), logger });
  const producer = kafka.producer({ clientId, sendTimeoutMs: 15_000, lingerMs: 0, maxBatchRecords: 1, compression: 'none' });
  const log = createCommandLog({ kafka, clientId, topics, producer });
  try {
    await Promise.all([registry.start(), producer.start()]);
    const device = registry.get(command.deviceId);
    if (!device) throw new UsageError(`no device ${JSON.stringify(command.deviceId)} in the registry (${settings.devices}); add it with tributary devices add`);
    if (!device.enabled) throw new UsageError(`device ${command.deviceId} is disabled: it cannot connect, so the command could only expire (tributary devices enable ${command.deviceId})`);
    try {
      await log.submit(command);
    } catch (error) {
      if (!(error instanceof CommandSubmitError)) throw error;
      // The command will still be delivered: its id lets the operator follow it.
      if (error.stage === 'accepted') process.stdout.write(`${command.commandId}\n`);
      process.stderr.write(`tributary commands: ${error.message}: ${describeError(error.cause)}\n`);
      return 1;
    }
    process.stdout.write(json ? `${JSON.stringify(command, null, 2)}\n` : `${command.commandId}\n`);
    return 0;
  } finally {
    await Promise.allSettled([registry.stop(), producer.stop(), log.close()]);
  }
}

async function status(commandId: string, options: { json: boolean; wait: CommandWaitTarget | null; timeoutMs: number }, settings: Settings, logger: Logger): Promise<number> {
  const kafka = createKafkaClientFactory({ brokers: settings.kafkaBrokers, logger });
  const log = createCommandLog({ kafka, clientId, topics: { commands: settings.commands, commandEvents: settings.commandEvents } });
  try {
    const follower = log.follow(commandId);
    let current = await follower.refresh();
    if (current === null) {
      process.stderr.write(`tributary commands: no command ${commandId}: ${settings.commandEvents} holds no event of it\n`);
      return 1;
    }
    let outcome: Awaited<ReturnType<typeof waitForCommand>>['outcome'] | null = null;
    const { wait } = options;
    if (wait !== null) {
      if (commandReached(current, wait) === 'pending') process.stderr.write(`waiting up to ${formatDuration(options.timeoutMs)} for command ${commandId} to reach ${wait} (now ${current.state})\n`);
      const waited = await waitForCommand(follower, wait, { timeoutMs: options.timeoutMs, intervalMs: waitPollIntervalMs });
      outcome = waited.outcome;
      current = waited.status ?? current;
    }
    process.stdout.write(options.json ? `${JSON.stringify(current, null, 2)}\n` : describeStatus(current));
    if (outcome === 'timeout') process.stderr.write(`tributary commands: command ${commandId} did not reach ${wait} within ${formatDuration(options.timeoutMs)} (state ${current.state})\n`);
    if (outcome === 'unreachable') process.stderr.write(`tributary commands: command ${commandId} ended ${current.state} without reaching ${wait}\n`);
    return outcome === null || outcome === 'reached' ? 0 : 1;
  } finally {
    await log.close();
  }
}

async function list(deviceId: string, limit: number, json: boolean, settings: Settings, logger: Logger): Promise<number> {
  const kafka = createKafkaClientFactory({ brokers: settings.kafkaBrokers, logger });
  const log = createCommandLog({ kafka, clientId, topics: { commands: settings.commands, commandEvents: settings.commandEvents } });
  try {
    const entries = await log.deviceCommands(deviceId, limit);
    process.stdout.write(json ? `${JSON.stringify(entries, null, 2)}\n` : describeList(deviceId, entries));
    return 0;
  } finally {
    await log.close();
  }
}

function iso(ms: number): string {
  return new Date(ms).toISOString();
}

function stateText(status: CommandStatus | null): string {
  if (status === null) return 'unknown (no event)';
  return status.result !== null && status.state === 'result' ? `result (${status.result.status})` : status.state;
}

function eventText(event: CommandEvent): string {
  const parts = [iso(event.atMs), event.type.padEnd(9), event.gatewayId ?? '-'];
  if (event.type === 'result') parts.push(event.status ?? '?', JSON.stringify(event.result ?? null));
  if (event.reason !== undefined) parts.push(event.reason);
  if (event.detail !== undefined) parts.push(event.detail);
  return `  ${parts.join('  ')}`;
}

/** The status as an operator reads it: what, where now, the timeline, and anything odd. */
function describeStatus(status: CommandStatus): string {
  const { command } = status;
  const what = command
    ? `command ${status.commandId}: ${command.name} → ${command.deviceId}, qos ${command.qos}, issued ${iso(command.issuedAtMs)}, expires ${iso(command.expiresAtMs)}${command.correlationId === undefined ? '' : `, correlation id ${command.correlationId}`}`
    : `command ${status.commandId} → ${status.deviceId ?? '?'} (its accepted event was not found)`;
  const lines = [what, `state: ${stateText(status)}${status.reason === null ? '' : ` (${status.reason}${status.detail === null ? '' : `: ${status.detail}`})`}`, ...status.events.map(eventText)];
  lines.push(`deliveries: ${status.deliveryCount}${status.gatewayIds.length > 0 ? `; gateways: ${status.gatewayIds.join(', ')}` : ''}`);
  for (const anomaly of status.anomalies) lines.push(`anomaly: ${anomaly}`);
  return `${lines.join('\n')}\n`;
}

function describeList(deviceId: string, entries: readonly DeviceCommandEntry[]): string {
  const lines = entries.map(({ command, status }) => `${iso(command.issuedAtMs)}  ${command.commandId.padEnd(36)}  ${command.name.padEnd(16)}  ${stateText(status)}`);
  return `${[...lines, `${entries.length} command(s) for ${deviceId}`].join('\n')}\n`;
}
