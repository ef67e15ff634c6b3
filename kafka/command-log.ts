/**
 * The commands on Kafka as a log any process can write and question: submit a command (the record
 * on `iot.commands`, then its `accepted` event on `iot.command-events`), follow one command's events
 * into its status, and list a device's latest commands. Reads touch only the partition a key maps
 * to, computed with the producer's own partitioner (kafka/key-partitioner.ts), through range
 * readers outside any consumer group's offsets (nothing is committed).
 */
import { commandReached, foldCommandEvents, type CommandStatus, type CommandWaitTarget } from '../core/command-status.ts';
import { commandWireVersion, decodeCommandEvent, decodeDeviceCommand, encodeCommandEvent, encodeDeviceCommand, type CommandEvent, type DeviceCommand } from '../core/device-command.ts';
import type { ConsumedRecord, KafkaAdminPort, KafkaClientFactory, KafkaProducerPort, PartitionRange } from '../core/kafka-port.ts';
import { falseOnTimeout, waitFor } from '../core/wait-for.ts';
import { partitionForKey } from './key-partitioner.ts';

/** A submitter's or gateway's clock may be behind the one that wrote a command: events are looked for this long before it. */
const clockSkewMarginMs = 5 * 60_000;
/** Records of `iot.commands` read per step while looking backwards for a device's commands; doubles each step. */
const defaultFirstWindowRecords = 4096;

export interface CommandTopics {
  commands: string;
  commandEvents: string;
}

/** Follows one command: each `refresh` reads the events that arrived since the last one and folds them all. */
export interface CommandFollower {
  /** The status so far, null while the events topic holds no event of the command. */
  refresh(): Promise<CommandStatus | null>;
}

export interface DeviceCommandEntry {
  command: DeviceCommand;
  /** Null when no event of the command was found. */
  status: CommandStatus | null;
}

export interface CommandLog {
  /**
   * Produces `command` on the commands topic (key = device id), then its `accepted` event (key =
   * command id, carrying the command); resolves once Kafka acknowledged both (acks=all). Rejects
   * with a CommandSubmitError saying which record was not acknowledged.
   */
  submit(command: DeviceCommand): Promise<void>;
  follow(commandId: string): CommandFollower;
  /**
   * The last `limit` distinct commands written for the device (a command written twice counts at
   * its later copy), newest (by issuedAtMs) first, each with its status.
   */
  deviceCommands(deviceId: string, limit: number): Promise<DeviceCommandEntry[]>;
  /** Releases the admin connection; the producer stays the caller's. */
  close(): Promise<void>;
}

/** A command that Kafka did not acknowledge (`stage: 'command'`; it may still have been written) or whose accepted event it did not. */
export class CommandSubmitError extends Error {
  readonly stage: 'command' | 'accepted';
  constructor(stage: 'command' | 'accepted', message: string, cause: unknown) {
    super(message, { cause });
    this.name = 'CommandSubmitError';
    this.stage = stage;
  }
}

/**
 * Builds the log over the product's Kafka clients; no I/O until a method is called. `producer`
 * (started by the caller) is needed only by `submit`.
 */
export function createCommandLog(options: { kafka: KafkaClientFactory; clientId: string; topics: CommandTopics; producer?: KafkaProducerPort; firstWindowRecords?: number }): CommandLog {
  const { kafka, clientId, topics } = options;
  const admin: KafkaAdminPort = kafka.admin({ clientId });

  const partitionBounds = async (topic: string, key: string): Promise<{ partition: number; low: bigint; high: bigint } | null> => {
    if (!(await admin.topicExists(topic))) return null;
    const [lows, highs] = await Promise.all([admin.startOffsets(topic), admin.endOffsets(topic)]);
    const partition = partitionForKey(key, highs.length);
    const high = BigInt(highs.find((entry) => entry.partition === partition)?.offset ?? '0');
    const low = BigInt(lows.find((entry) => entry.partition === partition)?.offset ?? '0');
    return { partition, low, high };
  };

  /** Reads the ranges (one range reader, so one consumer group join) and hands on each record whose key is one of `keys`. */
  const readKeyed = async (topic: string, ranges: readonly PartitionRange[], keys: ReadonlySet<string>, onRecord: (record: ConsumedRecord) => void): Promise<void> => {
    const wanted = ranges.filter((range) => BigInt(range.fromOffset) < BigInt(range.toOffset));
    if (wanted.length === 0) return;
    const reader = kafka.rangeReader({ clientId, topic, ranges: wanted, partitionsConcurrently: wanted.length });
    await reader.read((batch) => {
      for (const record of batch.records) if (record.key !== null && keys.has(record.key.toString('utf8'))) onRecord(record);
      return Promise.resolve();
    });
  };

  /** Decodes events, counting the records of these keys that are not events. */
  const eventCollector = (): { events: CommandEvent[]; undecodable: Map<string, number>; add: (record: ConsumedRecord) => void } => {
    const events: CommandEvent[] = [];
    const undecodable = new Map<string, number>();
    return {
      events,
      undecodable,
      add(record) {
        const decoded = record.value === null ? null : decodeCommandEvent(record.value);
        if (decoded?.ok) {
          events.push(decoded.value);
        } else {
          const key = record.key?.toString('utf8') ?? '';
          undecodable.set(key, (undecodable.get(key) ?? 0) + 1);
        }
      },
    };
  };

  const statusOf = (commandId: string, events: readonly CommandEvent[], undecodable: number): CommandStatus | null => {
    const status = foldCommandEvents(commandId, events);
    if (status && undecodable > 0) status.anomalies.push(`${undecodable} record(s) of this command on ${topics.commandEvents} are not valid events and were skipped`);
    return status;
  };

  return {
    async submit(command) {
      const { producer } = options;
      if (!producer) throw new Error('the command log was built without a producer');
      try {
        await producer.send({ topic: topics.commands, key: command.deviceId, value: encodeDeviceCommand(command), headers: {} });
      } catch (error) {
        throw new CommandSubmitError('command', `Kafka did not acknowledge command ${command.commandId} on ${topics.commands} (it may or may not have been written)`, error);
      }
      // Stamped once Kafka has the command: accepted means on Kafka.
      const accepted: CommandEvent = { v: commandWireVersion, type: 'accepted', commandId: command.commandId, deviceId: command.deviceId, atMs: Date.now(), command };
      try {
        await producer.send({ topic: topics.commandEvents, key: command.commandId, value: encodeCommandEvent(accepted), headers: {} });
      } catch (error) {
        throw new CommandSubmitError('accepted', `command ${command.commandId} is on ${topics.commands} and will be delivered, but Kafka did not acknowledge its accepted event on ${topics.commandEvents}`, error);
      }
    },

    follow(commandId) {
      const collected = eventCollector();
      let cursor: { partition: number; next: bigint } | null = null;
      return {
        async refresh() {
          const bounds = await partitionBounds(topics.commandEvents, commandId);
          if (bounds === null) return null;
          // A partition emptied by retention (or a topic recreated) starts again at its low offset.
          const from: bigint = cursor === null || cursor.partition !== bounds.partition || cursor.next < bounds.low || cursor.next > bounds.high ? bounds.low : cursor.next;
          await readKeyed(topics.commandEvents, [{ partition: bounds.partition, fromOffset: String(from), toOffset: String(bounds.high) }], new Set([commandId]), collected.add);
          cursor = { partition: bounds.partition, next: bounds.high };
          return statusOf(commandId, collected.events, collected.undecodable.get(commandId) ?? 0);
        },
      };
    },

    async deviceCommands(deviceId, limit) {
      const bounds = await partitionBounds(topics.commands, deviceId);
      if (bounds === null) return [];
      const commands = new Map<string, DeviceCommand>();
      // Backwards from the log end in growing windows, until `limit` distinct commands or the log start.
      let to = bounds.high;
      let window = BigInt(options.firstWindowRecords ?? defaultFirstWindowRecords);
      while (commands.size < limit && to > bounds.low) {
        const from = to - window > bounds.low ? to - window : bounds.low;
        const found: DeviceCommand[] = [];
        await readKeyed(topics.commands, [{ partition: bounds.partition, fromOffset: String(from), toOffset: String(to) }], new Set([deviceId]), (record) => {
          const decoded = decodeDeviceCommand(deviceId, record.value);
          if (decoded.ok) found.push(decoded.value);
        });
        // Newest first within the window; a command written twice (a retried send) is listed once.
        for (const command of found.reverse()) if (!commands.has(command.commandId)) commands.set(command.commandId, command);
        to = from;
        window *= 2n;
      }
      const newest = [...commands.values()].sort((a, b) => b.issuedAtMs - a.issuedAtMs).slice(0, limit);
      if (newest.length === 0) return [];

      const collected = eventCollector();
      if (await admin.topicExists(topics.commandEvents)) {
        const sinceMs = Math.min(...newest.map((command) => command.issuedAtMs)) - clockSkewMarginMs;
        const [starts, ends] = await Promise.all([admin.offsetsForTime(topics.commandEvents, Math.max(0, sinceMs)), admin.endOffsets(topics.commandEvents)]);
        const partitions = new Set(newest.map((command) => partitionForKey(command.commandId, ends.length)));
        const ranges = [...partitions].map((partition) => ({
          partition,
          fromOffset: starts.find((entry) => entry.partition === partition)?.offset ?? '0',
          toOffset: ends.find((entry) => entry.partition === partition)?.offset ?? '0',
        }));
        await readKeyed(topics.commandEvents, ranges, new Set(newest.map((command) => command.commandId)), collected.add);
      }
      return newest.map((command) => ({ command, status: statusOf(command.commandId, collected.events, collected.undecodable.get(command.commandId) ?? 0) }));
    },

    close: () => admin.close(),
  };
}

/**
 * Refreshes `follower` every `intervalMs` (default 1 s) until the command reached `target`
 * (commandReached), ended another way (`unreachable`: it expired while a result was awaited), or
 * `timeoutMs` passed (`timeout`); the status is the last one read. A refresh that fails counts as
 * nothing new. `signal` ends the wait early (rejects with its reason).
 */
export async function waitForCommand(
  follower: CommandFollower,
  target: CommandWaitTarget,
  options: { timeoutMs: number; intervalMs?: number; signal?: AbortSignal },
): Promise<{ outcome: 'reached' | 'unreachable' | 'timeout'; status: CommandStatus | null }> {
  let status: CommandStatus | null = null;
  let outcome: 'reached' | 'unreachable' | 'timeout' = 'timeout';
  await waitFor(
    async () => {
      status = (await follower.refresh()) ?? status;
      const reached = commandReached(status, target);
      if (reached !== 'pending') outcome = reached;
      return reached !== 'pending';
    },
    { description: `a command to reach ${target}`, timeoutMs: options.timeoutMs, intervalMs: options.intervalMs ?? 1000, ...(options.signal && { signal: options.signal }) },
  ).catch(falseOnTimeout);
  return { outcome, status };
}
