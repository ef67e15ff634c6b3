/**
 * Sends commands to devices the way a submitter does (a record on the commands topic, acks=all) and
 * collects every event on the command-events topic, for tests of the gateway's command path.
 */
import { randomUUID } from 'node:crypto';
import type { Consumer, Kafka, Producer } from 'kafkajs';
import type { MqttClient } from 'mqtt';
import { decodeCommandEvent, encodeDeviceCommand, type CommandEvent, type DeviceCommand } from '../core/device-command.ts';
import { eventually, uniqueName } from './helpers.ts';

export interface CommandProbe {
  /** Produces a command (default: QoS 1, 60 s to live) and returns it. */
  send(deviceId: string, name: string, overrides?: Partial<DeviceCommand>): Promise<DeviceCommand>;
  events(commandId: string): CommandEvent[];
  /** Waits until the command has an event of `type`, and returns its events. */
  waitFor(commandId: string, type: CommandEvent['type'], timeoutMs?: number): Promise<CommandEvent[]>;
  close(): Promise<void>;
}

export async function startCommandProbe(kafka: Kafka, topics: { commands: string; commandEvents: string }): Promise<CommandProbe> {
  const producer: Producer = kafka.producer({ idempotent: true });
  const consumer: Consumer = kafka.consumer({ groupId: uniqueName('command-events'), maxWaitTimeInMs: 100 });
  const seen: CommandEvent[] = [];
  await producer.connect();
  await consumer.connect();
  await consumer.subscribe({ topic: topics.commandEvents, fromBeginning: true });
  await consumer.run({
    eachMessage: async ({ message }) => {
      const decoded = decodeCommandEvent(message.value ?? Buffer.alloc(0));
      if (!decoded.ok) throw new Error(`undecodable command event: ${decoded.detail ?? decoded.reason}`);
      seen.push(decoded.value);
      await Promise.resolve();
    },
  });
  const events = (commandId: string): CommandEvent[] => seen.filter((event) => event.commandId === commandId);
  return {
    async send(deviceId, name, overrides = {}) {
      const now = Date.now();
      const command: DeviceCommand = { v: 1, commandId: randomUUID(), deviceId, name, params: {}, qos: 1, issuedAtMs: now, expiresAtMs: now + 60_000, ...overrides };
      await producer.send({ topic: topics.commands, acks: -1, messages: [{ key: deviceId, value: encodeDeviceCommand(command) }] });
      return command;
    },
    events,
    waitFor: (commandId, type, timeoutMs = 30_000) =>
      eventually(
        () => Promise.resolve(events(commandId)),
        (list) => list.some((event) => event.type === type),
        timeoutMs,
        `a ${type} event of command ${commandId}`,
      ),
    async close() {
      await consumer.disconnect();
      await producer.disconnect();
    },
  };
}

/** Collects the command deliveries a device receives: topic, parsed payload, DUP flag. */
export function collectDeliveries(client: MqttClient): Array<{ topic: string; commandId: string; dup: boolean; payload: Record<string, unknown> }> {
  const received: Array<{ topic: string; commandId: string; dup: boolean; payload: Record<string, unknown> }> = [];
  client.on('message', (topic, payload, packet) => {
    const parsed = JSON.parse(payload.toString()) as Record<string, unknown>;
    received.push({ topic, commandId: String(parsed.commandId), dup: packet.dup, payload: parsed });
  });
  return received;
}
