import { parser, type Packet } from 'mqtt-packet';
import { describe, expect, it } from 'vitest';
import { connectionOfPayload, createRandom, mutationKinds, payloadTag, planConnection } from './mqtt-fuzz-plan.ts';

const device = { deviceId: 'fuzz-1', secret: 'fuzz-secret' };
const plan = (seed: number, index: number) => planConnection({ seed, index, device, otherDeviceIds: ['legit-1'] });

describe('planConnection', () => {
  it('gives the same bytes for the same seed and index, whatever was planned before', () => {
    const first = plan(42, 7);
    for (let index = 0; index < 7; index += 1) plan(42, index);
    expect(plan(42, 7)).toEqual(first);
    expect(Buffer.concat(plan(43, 7).writes)).not.toEqual(Buffer.concat(first.writes));
  });

  it('plans thousands of connections without throwing, using every mutation and some valid credentials', () => {
    const kinds = new Set<string>();
    let valid = 0;
    let packets = 0;
    for (let index = 0; index < 1000; index += 1) {
      const planned = plan(7, index);
      planned.mutations.forEach((kind) => kinds.add(kind));
      if (planned.validCredentials) valid += 1;
      packets += planned.packets;
      expect(planned.writes.length).toBeGreaterThan(0);
    }
    expect([...kinds].sort()).toEqual([...mutationKinds].sort());
    expect(valid).toBeGreaterThan(300);
    expect(packets).toBeGreaterThan(1000 * 3);
  }, 30_000);

  it('starts an unmutated connection with a CONNECT mqtt-packet parses back', () => {
    const index = Array.from({ length: 200 }, (_, candidate) => candidate).find((candidate) => plan(9, candidate).mutations.length === 0 && plan(9, candidate).validCredentials)!;
    const packets: Packet[] = [];
    const decoder = parser({ protocolVersion: 4 });
    decoder.on('packet', (packet: Packet) => packets.push(packet));
    decoder.parse(Buffer.concat(plan(9, index).writes));
    expect(packets[0]).toMatchObject({ cmd: 'connect', clientId: 'fuzz-1', username: 'fuzz-1' });
  });
});

describe('payload tags', () => {
  it('name the connection a payload came from, and nothing when mutated away', () => {
    expect(connectionOfPayload(5, Buffer.from(`${payloadTag(5, 1234)}17:{}`))).toBe(1234);
    expect(connectionOfPayload(5, Buffer.from('fz:6:1234:17:'))).toBeNull();
    expect(connectionOfPayload(5, Buffer.from('fz:5:12x4:17:'))).toBeNull();
  });
});

describe('createRandom', () => {
  it('repeats its sequence for a seed and stays in range', () => {
    const a = createRandom(1);
    const b = createRandom(1);
    const values = Array.from({ length: 1000 }, () => a.int(10));
    expect(values).toEqual(Array.from({ length: 1000 }, () => b.int(10)));
    expect(new Set(values)).toEqual(new Set([0, 1, 2, 3, 4, 5, 6, 7, 8, 9]));
  });
});
