/**
 * What the MQTT fuzzer sends on each connection, decided by a seeded PRNG only (no I/O, no clock):
 * the same seed and connection index always give the same bytes, so a failing run is replayed from
 * its seed. A connection is a CONNECT (the fuzzer's registered device with its secret, a wrong
 * password, an unknown or another device's id, or none) and a few MQTT 3.1.1 packets (PUBLISH at
 * QoS 0/1/2, PUBREL, SUBSCRIBE, UNSUBSCRIBE, PINGREQ, DISCONNECT, a second CONNECT), built valid
 * by mqtt-packet and then, some of them, mutated: bit flips, byte insertions and deletions,
 * remaining-length corruption, truncation, huge remaining lengths, packets spliced together. The
 * bytes are written whole (pipelined) or cut into chunks at random offsets.
 */
import { generate, type Packet } from 'mqtt-packet';

export interface Random {
  /** Uniform in [0, 1). */
  next(): number;
  /** Uniform integer in [0, n). */
  int(n: number): number;
  chance(p: number): boolean;
  pick<T>(items: readonly T[]): T;
  bytes(n: number): Buffer;
}

/** mulberry32: a 32-bit state PRNG, good enough to pick mutations and fast to seed per connection. */
export function createRandom(seed: number): Random {
  let state = seed >>> 0;
  const next = (): number => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
  const int = (n: number): number => Math.floor(next() * n);
  return {
    next,
    int,
    chance: (p) => next() < p,
    pick: (items) => items[int(items.length)]!,
    bytes: (n) => Buffer.from(Array.from({ length: n }, () => int(256))),
  };
}

export interface FuzzDevice {
  deviceId: string;
  secret: string;
}

export const mutationKinds = ['bit_flip', 'insert', 'delete', 'remaining_length', 'truncate', 'huge_length', 'first_byte', 'repeat', 'splice'] as const;
export type MutationKind = (typeof mutationKinds)[number];

export interface ConnectionPlan {
  index: number;
  /** Written in order, one socket write each. */
  writes: Buffer[];
  /** Packets sent (CONNECT included), mutated or not; a repeated packet counts each time. */
  packets: number;
  /** The CONNECT named the fuzzer's device with its secret (before any mutation). */
  validCredentials: boolean;
  mutations: MutationKind[];
}

/** The payload tag of a planned publish: `fz:<seed>:<connection>:` — tells the audit which connection sent it. */
export function payloadTag(seed: number, index: number): string {
  return `fz:${seed}:${index}:`;
}

/** Parses a payload's tag back into its connection index; null when the tag was mutated away. */
export function connectionOfPayload(seed: number, payload: Buffer): number | null {
  const prefix = `fz:${seed}:`;
  if (payload.subarray(0, prefix.length).toString('latin1') !== prefix) return null;
  const end = payload.indexOf(0x3a, prefix.length);
  const index = Number(payload.subarray(prefix.length, end < 0 ? undefined : end).toString('latin1'));
  return end > prefix.length && Number.isSafeInteger(index) ? index : null;
}

/** The remaining-length field of an MQTT fixed header: where it starts and how many bytes it takes. */
function remainingLengthField(packet: Buffer): { start: number; bytes: number } {
  let bytes = 1;
  while (bytes < 4 && 1 + bytes < packet.length && (packet[bytes]! & 0x80) !== 0) bytes += 1;
  return { start: 1, bytes };
}

function encodeVarInt(value: number): Buffer {
  const out: number[] = [];
  let rest = value;
  do {
    let byte = rest % 128;
    rest = Math.floor(rest / 128);
    if (rest > 0) byte |= 0x80;
    out.push(byte);
  } while (rest > 0 && out.length < 4);
  return Buffer.from(out);
}

function mutate(random: Random, packet: Buffer, other: Buffer, kind: MutationKind): Buffer[] {
  const at = (extra = 0): number => random.int(packet.length + extra);
  switch (kind) {
    case 'bit_flip': {
      const copy = Buffer.from(packet);
      for (let flips = 1 + random.int(4); flips > 0 && copy.length > 0; flips -= 1) copy[random.int(copy.length)]! ^= 1 << random.int(8);
      return [copy];
    }
    case 'insert': {
      const position = at(1);
      return [Buffer.concat([packet.subarray(0, position), random.bytes(1 + random.int(8)), packet.subarray(position)])];
    }
    case 'delete': {
      const position = at();
      return [Buffer.concat([packet.subarray(0, position), packet.subarray(position + 1 + random.int(8))])];
    }
    case 'remaining_length': {
      const field = remainingLengthField(packet);
      // Shorter, longer, or any length up to the 4-byte maximum of 268,435,455.
      const length = random.pick([0, 1, 2, 127, 128, 16_383, 16_384, random.int(packet.length * 2 + 2), random.int(268_435_456)]);
      return [Buffer.concat([packet.subarray(0, field.start), encodeVarInt(length), packet.subarray(field.start + field.bytes)])];
    }
    case 'truncate':
      return [packet.subarray(0, at())];
    case 'huge_length': {
      // The largest remaining length MQTT can express, or a 5-byte varint it forbids, and a little of the body.
      const header = random.chance(0.5) ? Buffer.from([0xff, 0xff, 0xff, 0x7f]) : Buffer.from([0xff, 0xff, 0xff, 0xff, 0x7f]);
      return [Buffer.concat([packet.subarray(0, 1), header, random.bytes(random.int(64))])];
    }
    case 'first_byte': {
      const copy = Buffer.from(packet);
      if (copy.length > 0) copy[0] = random.int(256);
      return [copy];
    }
    case 'repeat':
      return Array.from({ length: 2 + random.int(30) }, () => packet);
    case 'splice':
      return [Buffer.concat([packet.subarray(0, at()), other.subarray(random.int(other.length + 1))])];
  }
}

function connectPacket(random: Random, seed: number, index: number, device: FuzzDevice, otherDeviceIds: readonly string[]): { packet: Packet; valid: boolean } {
  const roll = random.next();
  const own = roll < 0.5;
  const deviceId = own || roll < 0.8 ? device.deviceId : roll < 0.9 ? random.pick(otherDeviceIds) : `ghost-${random.int(1000)}`;
  const password = own ? device.secret : roll < 0.95 ? `wrong-${random.int(1_000_000)}` : undefined;
  const protocolVersion = random.pick([4, 4, 4, 4, 4, 4, 3, 5]);
  const clean = random.chance(0.7);
  const packet: Packet = {
    cmd: 'connect',
    protocolId: protocolVersion === 3 ? 'MQIsdp' : 'MQTT',
    protocolVersion: protocolVersion as 3 | 4 | 5,
    clean,
    // mqtt-packet builds an empty client id only for 3.1.1 with a clean session ([MQTT-3.1.3-7]); a mutation may still make others.
    clientId: clean && protocolVersion === 4 && random.chance(0.1) ? '' : deviceId,
    keepalive: random.pick([0, 1, 30, 60, 120]),
    ...(password === undefined ? {} : { username: deviceId, password: Buffer.from(password) }),
    ...(random.chance(0.15)
      ? { will: { topic: `devices/${deviceId}/telemetry`, payload: Buffer.from(`${payloadTag(seed, index)}will`), qos: random.pick([0, 1, 2] as const), retain: false } }
      : {}),
  };
  return { packet, valid: own && protocolVersion !== 5 };
}

function bodyPacket(random: Random, seed: number, index: number, device: FuzzDevice, otherDeviceIds: readonly string[], sequence: number): Packet {
  const messageId = 1 + random.int(65_535);
  const topic = (): string =>
    random.pick([
      `devices/${device.deviceId}/telemetry`,
      `devices/${device.deviceId}/telemetry`,
      `devices/${device.deviceId}/telemetry`,
      `devices/${device.deviceId}/telemetry`,
      `devices/${random.pick(otherDeviceIds)}/telemetry`,
      `devices/${device.deviceId}/commands`,
      `devices/${device.deviceId}/nothing`,
      'devices/+/telemetry',
      '#',
      '',
    ]);
  const roll = random.next();
  if (roll < 0.5) {
    const qos = random.pick([0, 1, 2] as const);
    const body = random.chance(0.5) ? JSON.stringify({ v: 1, ts: 1_700_000_000_000 + sequence, seq: sequence, metrics: { t: random.int(100) } }) : 'x'.repeat(random.int(120));
    return { cmd: 'publish', topic: topic(), payload: Buffer.from(`${payloadTag(seed, index)}${sequence}:${body}`), qos, messageId, retain: random.chance(0.1), dup: false };
  }
  if (roll < 0.58) return { cmd: 'pubrel', messageId };
  if (roll < 0.68) return { cmd: 'subscribe', messageId, subscriptions: [{ topic: topic() || 'a', qos: random.pick([0, 1, 2] as const) }] };
  if (roll < 0.75) return { cmd: 'unsubscribe', messageId, unsubscriptions: [topic() || 'a'] };
  if (roll < 0.88) return { cmd: 'pingreq' };
  if (roll < 0.95) return { cmd: 'disconnect' };
  return connectPacket(random, seed, index, device, otherDeviceIds).packet;
}

/** Cuts `bytes` at 1–5 random offsets: a packet split across reads, wherever the cut falls. */
function chunked(random: Random, bytes: Buffer): Buffer[] {
  const cuts = [...new Set(Array.from({ length: 1 + random.int(5) }, () => random.int(bytes.length)))].sort((a, b) => a - b);
  return [0, ...cuts].map((start, position) => bytes.subarray(start, cuts[position] ?? bytes.length)).filter((chunk) => chunk.length > 0);
}

/** Groups whole packets into at most `writes` writes. */
function grouped(random: Random, pieces: readonly Buffer[], writes: number): Buffer[] {
  const groups: Buffer[][] = [];
  for (const piece of pieces) {
    if (piece.length === 0) continue;
    if (groups.length === 0 || (groups.length < writes && random.chance(0.5))) groups.push([piece]);
    else groups.at(-1)!.push(piece);
  }
  return groups.map((group) => Buffer.concat(group));
}

/**
 * The bytes of connection `index` of the run `seed`. `mutationRate` is the share of packets mutated;
 * `otherDeviceIds` are ids the fuzzer may pretend to be (e.g. the legitimate device's), never with their secret.
 */
export function planConnection(options: { seed: number; index: number; device: FuzzDevice; otherDeviceIds: readonly string[]; mutationRate?: number }): ConnectionPlan {
  const { seed, index, device, otherDeviceIds } = options;
  const mutationRate = options.mutationRate ?? 0.3;
  // Mixing the index into the seed keeps connections independent of the order they run in.
  const random = createRandom(Math.imul(seed ^ 0x9e3779b9, 0x85ebca6b) ^ Math.imul(index + 1, 0xc2b2ae35));
  const connect = connectPacket(random, seed, index, device, otherDeviceIds);
  const packets: Packet[] = [connect.packet];
  for (let count = random.int(12); count > 0; count -= 1) packets.push(bodyPacket(random, seed, index, device, otherDeviceIds, packets.length));
  const valid = packets.map((packet) => generate(packet));
  const mutations: MutationKind[] = [];
  const pieces = valid.flatMap((packet, position) => {
    if (!random.chance(mutationRate)) return [packet];
    const kind = random.pick(mutationKinds);
    mutations.push(kind);
    return mutate(random, packet, valid[(position + 1) % valid.length]!, kind);
  });
  const stream = Buffer.concat(pieces);
  const style = random.next();
  // Pipelined in one write, a few writes of whole packets, or cut anywhere (a packet split across reads).
  const writes = style < 0.4 ? [stream] : style < 0.7 ? grouped(random, pieces, 6) : chunked(random, stream);
  return { index, writes, packets: pieces.length, validCredentials: connect.valid, mutations };
}
