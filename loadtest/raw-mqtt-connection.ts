/**
 * A bare MQTT 3.1.1 client connection for the load generator: CONNECT with credentials, PUBLISH
 * at QoS 0 or 1 with PUBACK matching, PINGREQ keepalive, nothing else (no subscriptions, no
 * session store, no reconnect: the fleet does that itself). It exists because mqtt.js cost the
 * generator about as much CPU per message as the gateway it measures (BENCHMARKS.md): here a
 * PUBLISH is one buffer built straight from the pre-encoded topic, the writes of one tick go out
 * in one syscall (cork/uncork), and incoming packets are read by a loop over a few fixed shapes.
 * Every PUBACK is still matched to its packet id, so the accounting is as strict as before.
 */
import { connect as connectTcp, type Socket } from 'node:net';
import { connect as connectTls } from 'node:tls';

export interface RawConnectionOptions {
  /** mqtt://host:port or mqtts://host:port. */
  url: URL;
  clientId: string;
  username: string;
  password: string;
  keepaliveS: number;
  connectTimeoutMs: number;
  tls?: { ca?: Buffer; rejectUnauthorized: boolean };
  /** CONNACK with return code 0. */
  onConnect: () => void;
  /** The connection is gone (refused, timed out, dropped or ended); called once. */
  onClose: () => void;
}

export interface RawConnection {
  /** Sends one PUBLISH; `done` runs on its PUBACK (QoS 1) or once written (QoS 0), never after close. */
  publish(topic: Buffer, payload: string, qos: 0 | 1, done: () => void): void;
  /** Sends DISCONNECT and closes; resolves once the socket is closed. */
  end(): Promise<void>;
}

/** A topic in the form a PUBLISH carries it: two length bytes, then UTF-8. */
export function encodeTopic(topic: string): Buffer {
  const bytes = Buffer.from(topic, 'utf8');
  const encoded = Buffer.allocUnsafe(2 + bytes.length);
  encoded.writeUInt16BE(bytes.length, 0);
  bytes.copy(encoded, 2);
  return encoded;
}

/** Bytes of MQTT's variable-length "remaining length" for `length`. */
function remainingLengthBytes(length: number): number {
  return length < 128 ? 1 : length < 16_384 ? 2 : length < 2_097_152 ? 3 : 4;
}

function writeRemainingLength(buffer: Buffer, offset: number, length: number): number {
  let value = length;
  do {
    let byte = value % 128;
    value = Math.floor(value / 128);
    if (value > 0) byte |= 0x80;
    buffer[offset] = byte;
    offset += 1;
  } while (value > 0);
  return offset;
}

/** A PUBLISH packet (no DUP, no retain); `packetId` is ignored at QoS 0. */
export function encodePublish(topic: Buffer, payload: string, qos: 0 | 1, packetId: number): Buffer {
  const payloadBytes = Buffer.byteLength(payload, 'utf8');
  const remaining = topic.length + (qos === 1 ? 2 : 0) + payloadBytes;
  const packet = Buffer.allocUnsafe(1 + remainingLengthBytes(remaining) + remaining);
  packet[0] = 0x30 | (qos << 1);
  let offset = writeRemainingLength(packet, 1, remaining);
  offset += topic.copy(packet, offset);
  if (qos === 1) offset = packet.writeUInt16BE(packetId, offset);
  packet.write(payload, offset, payloadBytes, 'utf8');
  return packet;
}

/** CONNECT: protocol level 4, clean session, username and password. */
export function encodeConnect(options: { clientId: string; username: string; password: string; keepaliveS: number }): Buffer {
  const field = (text: string): Buffer => encodeTopic(text);
  const variable = Buffer.from([0, 4, 0x4d, 0x51, 0x54, 0x54, 4, 0xc2, (options.keepaliveS >> 8) & 0xff, options.keepaliveS & 0xff]);
  const body = Buffer.concat([variable, field(options.clientId), field(options.username), field(options.password)]);
  const packet = Buffer.allocUnsafe(1 + remainingLengthBytes(body.length) + body.length);
  packet[0] = 0x10;
  body.copy(packet, writeRemainingLength(packet, 1, body.length));
  return packet;
}

/** One packet read off the stream: its type (high nibble of the first byte) and body. */
export interface IncomingPacket {
  type: number;
  body: Buffer;
}

/**
 * Splits `buffer` into whole packets; returns them and the bytes of an unfinished one. Throws on a
 * malformed remaining length (more than four bytes).
 */
export function splitPackets(buffer: Buffer): { packets: IncomingPacket[]; rest: Buffer } {
  const packets: IncomingPacket[] = [];
  let offset = 0;
  for (;;) {
    if (buffer.length - offset < 2) break;
    let length = 0;
    let multiplier = 1;
    let cursor = offset + 1;
    let complete = false;
    for (let i = 0; i < 4 && cursor < buffer.length; i += 1) {
      const byte = buffer[cursor]!;
      cursor += 1;
      length += (byte & 0x7f) * multiplier;
      multiplier *= 128;
      if ((byte & 0x80) === 0) {
        complete = true;
        break;
      }
      if (i === 3) throw new Error('malformed remaining length');
    }
    if (!complete || buffer.length - cursor < length) break;
    packets.push({ type: buffer[offset]! >> 4, body: buffer.subarray(cursor, cursor + length) });
    offset = cursor + length;
  }
  return { packets, rest: offset === buffer.length ? Buffer.alloc(0) : buffer.subarray(offset) };
}

const pingreq = Buffer.from([0xc0, 0x00]);
const disconnect = Buffer.from([0xe0, 0x00]);
const connack = 2;
const puback = 4;

/** Opens the connection and sends CONNECT at once. */
export function openRawConnection(options: RawConnectionOptions): RawConnection {
  const port = Number(options.url.port) || (options.url.protocol === 'mqtts:' ? 8883 : 1883);
  const host = options.url.hostname;
  const socket: Socket = options.tls
    ? connectTls({ host, port, servername: host, ...(options.tls.ca && { ca: options.tls.ca }), rejectUnauthorized: options.tls.rejectUnauthorized })
    : connectTcp({ host, port });
  socket.setNoDelay(true);
  const awaitingAck = new Map<number, () => void>();
  let nextPacketId = 1;
  let pending: Buffer = Buffer.alloc(0);
  let connected = false;
  let closed = false;
  let corked = false;
  let wroteSinceTick = false;
  let keepaliveTimer: NodeJS.Timeout | undefined;
  const connectTimer = setTimeout(() => socket.destroy(), options.connectTimeoutMs);

  // The publishes of one event-loop turn leave in one write.
  const write = (packet: Buffer, written?: () => void): void => {
    if (!corked) {
      corked = true;
      socket.cork();
      process.nextTick(() => {
        corked = false;
        socket.uncork();
      });
    }
    wroteSinceTick = true;
    socket.write(packet, written && (() => void (closed || written())));
  };

  const handle = (packet: IncomingPacket): void => {
    if (packet.type === puback && packet.body.length >= 2) {
      const id = packet.body.readUInt16BE(0);
      const done = awaitingAck.get(id);
      if (done) {
        awaitingAck.delete(id);
        done();
      }
    } else if (packet.type === connack && !connected) {
      clearTimeout(connectTimer);
      if (packet.body[1] !== 0) {
        socket.destroy();
        return;
      }
      connected = true;
      if (options.keepaliveS > 0) {
        // PINGREQ only when nothing else was written for most of a keepalive period.
        keepaliveTimer = setInterval(() => {
          if (!wroteSinceTick) write(pingreq);
          wroteSinceTick = false;
        }, options.keepaliveS * 500);
        keepaliveTimer.unref();
      }
      options.onConnect();
    }
  };

  socket.on(options.tls ? 'secureConnect' : 'connect', () => write(encodeConnect(options)));
  socket.on('data', (chunk: Buffer) => {
    try {
      const { packets, rest } = splitPackets(pending.length === 0 ? chunk : Buffer.concat([pending, chunk]));
      pending = rest;
      for (const packet of packets) handle(packet);
    } catch {
      socket.destroy();
    }
  });
  socket.on('error', () => undefined);
  socket.on('close', () => {
    if (closed) return;
    closed = true;
    clearTimeout(connectTimer);
    clearInterval(keepaliveTimer);
    awaitingAck.clear();
    options.onClose();
  });

  return {
    publish(topic, payload, qos, done) {
      if (closed) return;
      if (qos === 0) {
        write(encodePublish(topic, payload, 0, 0), done);
        return;
      }
      // Packet ids 1..65535, skipping ones still awaiting their PUBACK.
      while (awaitingAck.has(nextPacketId)) nextPacketId = nextPacketId === 65_535 ? 1 : nextPacketId + 1;
      const id = nextPacketId;
      nextPacketId = nextPacketId === 65_535 ? 1 : nextPacketId + 1;
      awaitingAck.set(id, done);
      write(encodePublish(topic, payload, 1, id));
    },
    end: () =>
      new Promise((resolve) => {
        if (closed) return resolve();
        socket.once('close', () => resolve());
        if (connected) socket.end(disconnect);
        else socket.destroy();
        // A peer that never closes its side: do not wait forever.
        setTimeout(() => socket.destroy(), 5000).unref();
      }),
  };
}
