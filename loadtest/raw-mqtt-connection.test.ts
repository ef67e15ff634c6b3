import mqttPacket from 'mqtt-packet';
import { describe, expect, it } from 'vitest';
import { encodeConnect, encodePublish, encodeSubscribe, encodeTopic, scanPackets } from './raw-mqtt-connection.ts';

// mqtt-packet (the codec mqtt.js and Aedes use) is the oracle for what a packet must look like.
const generate = (packet: object): Buffer => mqttPacket.generate(packet as mqttPacket.Packet);

describe('encodePublish', () => {
  it('builds the same QoS 1 PUBLISH as mqtt-packet, for short and multi-byte lengths', () => {
    for (const payload of ['{"v":1}', 'x'.repeat(200), 'é'.repeat(9000)]) {
      const topic = 'devices/dev-0001/telemetry';
      expect(encodePublish(encodeTopic(topic), payload, 1, 513)).toEqual(
        generate({ cmd: 'publish', topic, payload: Buffer.from(payload), qos: 1, messageId: 513, dup: false, retain: false }),
      );
    }
  });

  it('builds a QoS 0 PUBLISH without a packet id', () => {
    expect(encodePublish(encodeTopic('a/b'), 'hi', 0, 7)).toEqual(generate({ cmd: 'publish', topic: 'a/b', payload: Buffer.from('hi'), qos: 0, dup: false, retain: false }));
  });
});

describe('encodeConnect', () => {
  it('builds the CONNECT mqtt-packet parses back with the same fields', () => {
    const parser = mqttPacket.parser({ protocolVersion: 4 });
    const seen: mqttPacket.Packet[] = [];
    parser.on('packet', (packet) => seen.push(packet));
    parser.parse(encodeConnect({ clientId: 'dev-1', username: 'dev-1', password: 's3cret', keepaliveS: 120 }));
    expect(seen).toHaveLength(1);
    expect(seen[0]).toMatchObject({ cmd: 'connect', protocolId: 'MQTT', protocolVersion: 4, clean: true, keepalive: 120, clientId: 'dev-1', username: 'dev-1' });
    expect(String((seen[0] as mqttPacket.IConnectPacket).password)).toBe('s3cret');
  });

  it('asks for a persistent session when cleanSession is false', () => {
    const parser = mqttPacket.parser({ protocolVersion: 4 });
    const seen: mqttPacket.Packet[] = [];
    parser.on('packet', (packet) => seen.push(packet));
    parser.parse(encodeConnect({ clientId: 'dev-1', username: 'dev-1', password: 's3cret', keepaliveS: 60, cleanSession: false }));
    expect(seen[0]).toMatchObject({ cmd: 'connect', clean: false, clientId: 'dev-1' });
  });
});

describe('encodeSubscribe', () => {
  it('builds the same one-filter SUBSCRIBE as mqtt-packet', () => {
    const filter = 'devices/dev-000001/commands/#';
    expect(encodeSubscribe(filter, 1, 42)).toEqual(generate({ cmd: 'subscribe', messageId: 42, subscriptions: [{ topic: filter, qos: 1 }] }));
  });
});

describe('scanPackets', () => {
  const connack = Buffer.from([0x20, 0x02, 0x00, 0x00]);
  const puback = (id: number): Buffer => generate({ cmd: 'puback', messageId: id });
  const big = generate({ cmd: 'publish', topic: 't', payload: Buffer.alloc(300, 1), qos: 0, dup: false, retain: false });
  const split = (buffer: Buffer): { packets: Array<{ type: number; body: Buffer }>; rest: Buffer } => {
    const packets: Array<{ type: number; body: Buffer }> = [];
    const used = scanPackets(buffer, buffer.length, (type, bytes, bodyStart, bodyEnd) => packets.push({ type, body: Buffer.from(bytes.subarray(bodyStart, bodyEnd)) }));
    return { packets, rest: buffer.subarray(used) };
  };

  it('visits every whole packet and keeps the unfinished tail', () => {
    const stream = Buffer.concat([connack, puback(1), big, puback(65_535)]);
    for (let cut = 0; cut <= stream.length; cut += 1) {
      const first = split(stream.subarray(0, cut));
      const second = split(Buffer.concat([first.rest, stream.subarray(cut)]));
      const packets = [...first.packets, ...second.packets];
      expect(packets.map((p) => p.type)).toEqual([2, 4, 3, 4]);
      expect(packets[3]!.body.readUInt16BE(0)).toBe(65_535);
      expect(packets[2]!.body.length).toBe(big.length - 3);
      expect(second.rest.length).toBe(0);
    }
  });

  it('reads only up to the given end of a larger buffer', () => {
    const buffer = Buffer.concat([puback(7), puback(8)]);
    const ids: number[] = [];
    expect(scanPackets(buffer, 6, (_type, bytes, bodyStart) => ids.push(bytes.readUInt16BE(bodyStart)))).toBe(4);
    expect(ids).toEqual([7]);
  });

  it('refuses a remaining length longer than four bytes', () => {
    const malformed = Buffer.from([0x30, 0xff, 0xff, 0xff, 0xff, 0x01]);
    expect(() => scanPackets(malformed, malformed.length, () => undefined)).toThrow(/remaining length/);
  });
});
