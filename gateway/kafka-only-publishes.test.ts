import { Aedes, type PublishPacket } from 'aedes';
import { afterEach, describe, expect, it } from 'vitest';
import { skipAedesFanOut } from './kafka-only-publishes.ts';

const packet = (topic: string): PublishPacket => ({ cmd: 'publish', topic, payload: Buffer.from('{}'), qos: 1, retain: false, dup: false });

let broker: Aedes | null = null;

afterEach(async () => {
  await new Promise<void>((resolve) => (broker ? broker.close(() => resolve()) : resolve()));
  broker = null;
});

/** A broker (no listener: Aedes alone) whose subscription to every topic records what reached it. */
async function brokerWithSubscriber(): Promise<{ broker: Aedes; received: string[] }> {
  broker = await Aedes.createBroker({});
  const received: string[] = [];
  await new Promise<void>((resolve) =>
    broker!.subscribe(
      '#',
      (delivered, done) => {
        received.push(delivered.topic);
        done();
      },
      resolve,
    ),
  );
  return { broker, received };
}

const publish = (target: Aedes, one: PublishPacket): Promise<void> => new Promise((resolve, reject) => target.publish(one, (error) => (error ? reject(error) : resolve())));

/** Marks one telemetry packet, publishes that same object `times` times, then a command; what the subscriber received. */
async function publishMarkedTelemetry(times: number): Promise<string[]> {
  const { broker: target, received } = await brokerWithSubscriber();
  const { markKafkaOnly } = skipAedesFanOut(target);
  const telemetry = packet('devices/d1/telemetry');
  markKafkaOnly(telemetry);
  for (let sent = 0; sent < times; sent += 1) await publish(target, telemetry);
  await publish(target, packet('devices/d1/commands/reboot'));
  return received;
}

describe('skipAedesFanOut', () => {
  it('completes a marked packet without fanning it out, and publishes unmarked ones as before', async () => {
    expect(await publishMarkedTelemetry(1)).toEqual(['devices/d1/commands/reboot']);
  });

  it('skips a marked packet once: the same object published again goes through', async () => {
    expect(await publishMarkedTelemetry(2)).toEqual(['devices/d1/telemetry', 'devices/d1/commands/reboot']);
  });
});
