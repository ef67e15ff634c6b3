/**
 * The command log against the real Kafka, in process: a device's commands are found by reading its
 * partition backwards in growing windows (here from 2 records, so several windows are read), each
 * listed once however often it was written; one command is followed as its events arrive, through
 * waitForCommand, and records of its key that are not events are reported rather than dropped.
 */
import { Kafka, logLevel } from 'kafkajs';
import { afterEach, describe, expect, inject, it } from 'vitest';
import { encodeCommandEvent, encodeDeviceCommand, type DeviceCommand } from '../core/device-command.ts';
import { silentLogger } from '../core/logger.ts';
import { topicSpecs } from '../core/topic-specs.ts';
import { createCleanups } from '../test/cleanups.ts';
import { uniqueName } from '../test/helpers.ts';
import { deleteGroups, deleteTopics } from '../test/kafka-cleanup.ts';
import { createCommandLog, waitForCommand } from './command-log.ts';
import { createKafkaClientFactory } from './kafka-client-factory.ts';

const brokers = inject('kafkaBrokers');
const cleanups = createCleanups();

afterEach(() => cleanups.runAll());

function command(deviceId: string, name: string, issuedAtMs: number): DeviceCommand {
  return { v: 1, commandId: uniqueName('cmd'), deviceId, name, params: {}, qos: 1, issuedAtMs, expiresAtMs: issuedAtMs + 600_000 };
}

describe('command log', () => {
  it("lists a device's newest commands across read windows, and follows one command's events until it is delivered", async () => {
    const suffix = uniqueName('log');
    const topics = { commands: `iot.commands.${suffix}`, commandEvents: `iot.command-events.${suffix}` };
    const clientId = `command-log-test-${suffix}`;
    const kafka = createKafkaClientFactory({ brokers, logger: silentLogger() });
    const admin = kafka.admin({ clientId });
    const raw = new Kafka({ clientId, brokers, logLevel: logLevel.NOTHING });
    const rawAdmin = raw.admin();
    await rawAdmin.connect();
    cleanups.add(async () => {
      await deleteTopics(rawAdmin, Object.values(topics));
      await rawAdmin.disconnect();
    });
    // every device on one commands partition, so the other device's records fill the windows too
    await admin.ensureTopics([...topicSpecs({ commands: topics.commands }, { partitions: 1, replicationFactor: 1 }), ...topicSpecs({ commandEvents: topics.commandEvents }, { partitions: 2, replicationFactor: 1 })]);
    await admin.close();
    const producer = kafka.producer({ clientId, sendTimeoutMs: 15_000, lingerMs: 0, maxBatchRecords: 10, compression: 'none' });
    await producer.start();
    cleanups.add(() => producer.stop());
    const log = createCommandLog({ kafka, clientId, topics, producer, firstWindowRecords: 2 });
    cleanups.add(() => log.close());

    const t0 = Date.now();
    const mine = Array.from({ length: 5 }, (_, i) => command('dev-a', `step-${i}`, t0 + i * 10));
    for (const [i, own] of mine.entries()) {
      await log.submit(own);
      await log.submit(command('dev-b', `other-${i}`, t0 + i * 10 + 5));
    }
    // the last command written again, as a send retried in a new request may
    await producer.send({ topic: topics.commands, key: 'dev-a', value: encodeDeviceCommand(mine[4]!), headers: {} });

    const newest = await log.deviceCommands('dev-a', 3);
    expect(newest.map((entry) => entry.command.name)).toEqual(['step-4', 'step-3', 'step-2']);
    expect(newest.map((entry) => entry.status?.state)).toEqual(['accepted', 'accepted', 'accepted']);
    const all = await log.deviceCommands('dev-a', 50);
    expect(all.map((entry) => entry.command)).toEqual([...mine].reverse());
    expect(await log.deviceCommands('dev-c', 5)).toEqual([]);

    const followed = mine[4]!;
    const follower = log.follow(followed.commandId);
    await producer.send({ topic: topics.commandEvents, key: followed.commandId, value: Buffer.from('not an event'), headers: {} });
    const accepted = await follower.refresh();
    expect(accepted).toMatchObject({ state: 'accepted', command: followed, anomalies: [`1 record(s) of this command on ${topics.commandEvents} are not valid events and were skipped`] });

    const notYet = await waitForCommand(follower, 'delivered', { timeoutMs: 1500, intervalMs: 200 });
    expect(notYet).toMatchObject({ outcome: 'timeout', status: { state: 'accepted' } });
    const event = { v: 1, commandId: followed.commandId, deviceId: 'dev-a', gatewayId: 'gw-a' } as const;
    const acceptedAtMs = accepted?.steps.accepted?.firstAtMs ?? 0;
    await producer.sendMany([
      { topic: topics.commandEvents, key: followed.commandId, value: encodeCommandEvent({ ...event, type: 'queued', atMs: acceptedAtMs + 100 }), headers: {} },
      { topic: topics.commandEvents, key: followed.commandId, value: encodeCommandEvent({ ...event, type: 'delivered', atMs: acceptedAtMs + 200 }), headers: {} },
    ]);
    const delivered = await waitForCommand(follower, 'delivered', { timeoutMs: 60_000, intervalMs: 200 });
    expect(delivered).toMatchObject({ outcome: 'reached', status: { state: 'delivered', deliveryCount: 1, gatewayIds: ['gw-a'] } });
    expect(delivered.status?.events.map((e) => e.type)).toEqual(['accepted', 'queued', 'delivered']);

    expect(await log.follow('no-such-command').refresh()).toBeNull();
    // the range readers delete their groups; a leftover one would name this client
    const groups = (await rawAdmin.listGroups()).groups.map((group) => group.groupId).filter((groupId) => groupId.startsWith(clientId));
    await deleteGroups(rawAdmin, groups);
    expect(groups).toEqual([]);
  }, 300_000); // a dozen range reads, each joining a consumer group
});
