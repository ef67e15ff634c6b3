import { generate, parser, type IPublishPacket, type Packet } from 'mqtt-packet';
import { describe, expect, it } from 'vitest';
import { pubackBytes, readWholePublishes } from './whole-publishes.ts';

const publish = (topic: string, payload: Buffer | string, options: Partial<IPublishPacket> = {}): Buffer =>
  generate({ cmd: 'publish', topic, payload, qos: 1, messageId: 7, retain: false, dup: false, ...options });

/** What mqtt-packet, Aedes' parser, reads from the same bytes (it throws on what it refuses), and the bytes it left unparsed. */
function parsedByMqttPacket(bytes: Buffer): { packets: IPublishPacket[]; unparsed: number } {
  const packets: IPublishPacket[] = [];
  const reader = parser({ protocolVersion: 4 });
  reader.on('packet', (packet: Packet) => packets.push(packet as IPublishPacket));
  reader.on('error', (error: Error) => {
    throw new Error(`mqtt-packet refused ${bytes.toString('hex')}: ${error.message}`);
  });
  const unparsed = reader.parse(bytes);
  return { packets, unparsed };
}

/** A publish as both readers can be compared: copies of the payload, packet id 0 for none. */
const fields = ({ topic, qos, messageId, payload, retain }: { topic: string; qos: number; messageId?: number; payload: Buffer | string; retain: boolean }) => ({
  topic,
  qos,
  messageId: messageId ?? 0,
  payload: Buffer.from(payload),
  retain,
});

describe('readWholePublishes', () => {
  it('reads every publish of a chunk as mqtt-packet does: topic, QoS, packet id, payload, retain', () => {
    const payloads = [Buffer.alloc(0), Buffer.from('{"v":1}'), Buffer.alloc(127, 1), Buffer.alloc(128, 2), Buffer.alloc(20_000, 3), Buffer.from('x'), Buffer.alloc(0)];
    const chunk = Buffer.concat(
      payloads.map((payload, index) =>
        index >= 5
          ? publish(`devices/d-${index}/telemetry`, payload, { qos: 0, messageId: undefined, retain: index === 6 })
          : publish(`devices/d-${index}/telemetry`, payload, { messageId: 65_535 - index, retain: index % 2 === 1, dup: index === 2 }),
      ),
    );
    const ours = readWholePublishes(chunk);
    expect(ours).toHaveLength(payloads.length);
    expect(ours!.map(fields)).toEqual(parsedByMqttPacket(chunk).packets.map(fields));
  });

  it('reads UTF-8 topics as mqtt-packet does', () => {
    const chunk = publish('devices/größe-✓/telemetry', 'x');
    expect(readWholePublishes(chunk)![0]!.topic).toBe(parsedByMqttPacket(chunk).packets[0]!.topic);
  });

  it('leaves every chunk that is not only whole QoS 0 and 1 publishes to Aedes', () => {
    const one = publish('devices/d/telemetry', 'abc');
    const cases: Record<string, Buffer> = {
      empty: Buffer.alloc(0),
      'QoS 0 without a topic byte': Buffer.from([0x30, 0x02, 0x00, 0x00]),
      'QoS 0 of length 0': Buffer.from([0x30, 0x00]),
      'QoS 1 of length 1': Buffer.from([0x32, 0x01, 0x00]),
      'QoS 1 without a packet id': Buffer.from([0x32, 0x03, 0x00, 0x01, 0x61]),
      'QoS 2': publish('devices/d/telemetry', 'abc', { qos: 2 }),
      'QoS 3 (malformed)': Buffer.from([0x36, ...one.subarray(1)]),
      'a publish then a PINGREQ': Buffer.concat([one, generate({ cmd: 'pingreq' })]),
      'a PUBACK': generate({ cmd: 'puback', messageId: 3 }),
      'cut in its body': one.subarray(0, one.length - 1),
      'cut in its length': Buffer.concat([one, Buffer.from([0x32])]),
      'a length of five bytes': Buffer.from([0x32, 0x80, 0x80, 0x80, 0x80, 0x01]),
      'an empty topic': Buffer.from([0x32, 0x05, 0x00, 0x00, 0x00, 0x01, 0x61]),
      'a topic longer than its packet': Buffer.from([0x32, 0x05, 0x00, 0x09, 0x61, 0x00, 0x01]),
      'packet id 0': publish('devices/d/telemetry', 'abc', { messageId: 0 }),
    };
    for (const [name, chunk] of Object.entries(cases)) expect(readWholePublishes(chunk), name).toBeNull();
  });

  it('reads any chunk it takes as mqtt-packet does, whole: 3,000 mutated and cut chunks', () => {
    // A seeded generator (xorshift): the same chunks every run.
    let seed = 0x2545f491;
    const random = (below: number): number => {
      seed ^= seed << 13;
      seed ^= seed >>> 17;
      seed ^= seed << 5;
      return (seed >>> 0) % below;
    };
    let taken = 0;
    for (let round = 0; round < 3_000; round++) {
      const packets = Array.from({ length: 1 + random(3) }, () =>
        random(2) === 0
          ? publish(`devices/d${random(100)}/telemetry`, Buffer.alloc(random(200), 0x61), { messageId: 1 + random(65_535), retain: random(2) === 1 })
          : publish(`devices/d${random(100)}/events`, 'x'.repeat(random(20)), { qos: 0, messageId: undefined }),
      );
      let chunk = Buffer.concat(packets);
      for (let flips = random(3); flips > 0; flips--) chunk[random(chunk.length)]! ^= 1 << random(8);
      if (random(4) === 0) chunk = chunk.subarray(0, random(chunk.length));
      const ours = readWholePublishes(chunk);
      if (ours === null) continue;
      taken += 1;
      const theirs = parsedByMqttPacket(chunk);
      expect(theirs.unparsed, 'bytes mqtt-packet left unparsed').toBe(0);
      expect(ours.map(fields)).toEqual(theirs.packets.map(fields));
    }
    // Most chunks stay whole publishes; the mutated and cut ones exercise the refusals.
    expect(taken).toBeGreaterThan(1_000);
  });

  it('gives payloads as views into the chunk, not copies', () => {
    const chunk = publish('devices/d/telemetry', 'abc');
    expect(readWholePublishes(chunk)![0]!.payload.buffer).toBe(chunk.buffer);
  });
});

describe('pubackBytes', () => {
  it('is the PUBACK mqtt-packet writes', () => {
    for (const messageId of [1, 255, 256, 65_535]) expect(pubackBytes(messageId)).toEqual(generate({ cmd: 'puback', messageId }));
  });
});
