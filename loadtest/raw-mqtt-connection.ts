/**
 * A bare MQTT 3.1.1 client connection for the load generator: CONNECT with credentials (clean or
 * persistent session), PUBLISH at QoS 0 or 1 with PUBACK matching, SUBSCRIBE, incoming PUBLISH
 * (acknowledged at once), PINGREQ keepalive, nothing else (no session store, no reconnect: the
 * fleet and the commands bench do that themselves). It exists because mqtt.js cost the
 * generator about as much CPU per message as the gateway it measures (BENCHMARKS.md): here a
 * PUBLISH is one buffer built straight from the pre-encoded topic and payload bytes and written at
 * once, and incoming packets are read into a fixed buffer (`onread`, no stream, no allocation per
 * read) and scanned in place. Every PUBACK is still matched to its packet id, so the accounting is
 * as strict as before.
 */
import { connect as connectTcp, type OnReadOpts, type Socket } from 'node:net';
import { connect as connectTls, type ConnectionOptions } from 'node:tls';

export interface RawConnectionOptions {
  /** mqtt://host:port or mqtts://host:port. */
  url: URL;
  clientId: string;
  username: string;
  password: string;
  keepaliveS: number;
  connectTimeoutMs: number;
  /** Clean session (default true); false keeps the session, its subscriptions and queued messages, across connections. */
  cleanSession?: boolean;
  tls?: { ca?: Buffer; rejectUnauthorized: boolean };
  /** CONNACK with return code 0; `sessionPresent` is its session-present flag. */
  onConnect: (sessionPresent: boolean) => void;
  /** An incoming PUBLISH, before its PUBACK (QoS 1) is written; `topic` and `payload` are only valid during the call. */
  onPublish?: (topic: Buffer, payload: Buffer, flags: { qos: number; dup: boolean }) => void;
  /** The connection is gone (refused, timed out, dropped or ended); called once. */
  onClose: () => void;
}

export interface RawConnection {
  /**
   * Sends one PUBLISH; `done` runs on its PUBACK (QoS 1) or once written (QoS 0), never after close.
   * `payload` is copied before this returns, so a caller may reuse its buffer.
   */
  publish(topic: Buffer, payload: Buffer, qos: 0 | 1, done: () => void): void;
  /** Sends SUBSCRIBE for one filter; `done` runs on its SUBACK with the granted QoS (0x80: refused). */
  subscribe(filter: string, qos: 0 | 1, done: (grantedQos: number) => void): void;
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

/** Bytes of a PUBLISH packet with this topic and payload length. */
function publishBytes(topic: Buffer, payloadBytes: number, qos: 0 | 1): number {
  const remaining = topic.length + (qos === 1 ? 2 : 0) + payloadBytes;
  return 1 + remainingLengthBytes(remaining) + remaining;
}

/** Writes a PUBLISH (no DUP, no retain) at the start of `packet`, which is exactly `publishBytes` long; `packetId` is ignored at QoS 0. */
function writePublish(packet: Buffer, topic: Buffer, payload: Buffer, qos: 0 | 1, packetId: number): void {
  packet[0] = 0x30 | (qos << 1);
  let offset = writeRemainingLength(packet, 1, topic.length + (qos === 1 ? 2 : 0) + payload.length);
  packet.set(topic, offset);
  offset += topic.length;
  if (qos === 1) offset = packet.writeUInt16BE(packetId, offset);
  packet.set(payload, offset);
}

/** A PUBLISH packet (no DUP, no retain); `packetId` is ignored at QoS 0. */
export function encodePublish(topic: Buffer, payload: Buffer | string, qos: 0 | 1, packetId: number): Buffer {
  const bytes = typeof payload === 'string' ? Buffer.from(payload, 'utf8') : payload;
  const packet = Buffer.allocUnsafe(publishBytes(topic, bytes.length, qos));
  writePublish(packet, topic, bytes, qos, packetId);
  return packet;
}

/** CONNECT: protocol level 4, username and password, clean session unless `cleanSession` is false. */
export function encodeConnect(options: { clientId: string; username: string; password: string; keepaliveS: number; cleanSession?: boolean }): Buffer {
  const field = (text: string): Buffer => encodeTopic(text);
  const flags = options.cleanSession === false ? 0xc0 : 0xc2;
  const variable = Buffer.from([0, 4, 0x4d, 0x51, 0x54, 0x54, 4, flags, (options.keepaliveS >> 8) & 0xff, options.keepaliveS & 0xff]);
  const body = Buffer.concat([variable, field(options.clientId), field(options.username), field(options.password)]);
  const packet = Buffer.allocUnsafe(1 + remainingLengthBytes(body.length) + body.length);
  packet[0] = 0x10;
  body.copy(packet, writeRemainingLength(packet, 1, body.length));
  return packet;
}

/** SUBSCRIBE for one topic filter. */
export function encodeSubscribe(filter: string, qos: 0 | 1, packetId: number): Buffer {
  const topic = encodeTopic(filter);
  const remaining = 2 + topic.length + 1;
  const packet = Buffer.allocUnsafe(1 + remainingLengthBytes(remaining) + remaining);
  // [MQTT-3.8.1-1] SUBSCRIBE's fixed-header flags are 0010.
  packet[0] = 0x82;
  let offset = writeRemainingLength(packet, 1, remaining);
  offset = packet.writeUInt16BE(packetId, offset);
  packet.set(topic, offset);
  packet[offset + topic.length] = qos;
  return packet;
}

/** Called for each whole packet: its type (high nibble of the first byte) and where its body lies in `buffer`. */
export type PacketVisitor = (type: number, buffer: Buffer, bodyStart: number, bodyEnd: number) => void;

/**
 * Visits every whole packet in `buffer[0, end)` in place; returns the offset where an unfinished
 * one starts (`end` when none). Throws on a malformed remaining length (more than four bytes).
 */
export function scanPackets(buffer: Buffer, end: number, visit: PacketVisitor): number {
  let offset = 0;
  for (;;) {
    if (end - offset < 2) return offset;
    let length = 0;
    let multiplier = 1;
    let cursor = offset + 1;
    let complete = false;
    for (let i = 0; i < 4 && cursor < end; i += 1) {
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
    if (!complete || end - cursor < length) return offset;
    visit(buffer[offset]! >> 4, buffer, cursor, cursor + length);
    offset = cursor + length;
  }
}

const pingreq = Buffer.from([0xc0, 0x00]);
const disconnect = Buffer.from([0xe0, 0x00]);
const connack = 2;
const publishType = 3;
const puback = 4;
const suback = 9;

/** Incoming bytes per read: PUBACKs are 4 bytes, so one read takes hundreds of them. */
const readBufferBytes = 4096;

/** Opens the connection and sends CONNECT at once. */
export function openRawConnection(options: RawConnectionOptions): RawConnection {
  const port = Number(options.url.port) || (options.url.protocol === 'mqtts:' ? 8883 : 1883);
  const host = options.url.hostname;
  // PUBACKs and SUBACKs share the packet id space [MQTT-2.3.1-4].
  const awaitingAck = new Map<number, (code: number) => void>();
  let nextPacketId = 1;
  // The bytes of an unfinished packet, copied out of the read buffer that the next read overwrites.
  let carry: Buffer | null = null;
  let connected = false;
  let closed = false;
  let wroteSinceTick = false;
  let keepaliveTimer: NodeJS.Timeout | undefined;

  /** Packet ids 1..65535, skipping ones still awaiting their acknowledgement. */
  const takePacketId = (): number => {
    while (awaitingAck.has(nextPacketId)) nextPacketId = nextPacketId === 65_535 ? 1 : nextPacketId + 1;
    const id = nextPacketId;
    nextPacketId = nextPacketId === 65_535 ? 1 : nextPacketId + 1;
    return id;
  };

  const write = (packet: Buffer, written?: () => void): void => {
    wroteSinceTick = true;
    socket.write(packet, written && (() => void (closed || written())));
  };

  const handle: PacketVisitor = (type, buffer, bodyStart, bodyEnd) => {
    if ((type === puback || type === suback) && bodyEnd - bodyStart >= 2) {
      const id = buffer.readUInt16BE(bodyStart);
      const done = awaitingAck.get(id);
      if (done) {
        awaitingAck.delete(id);
        done(type === suback ? (buffer[bodyStart + 2] ?? 0x80) : 0);
      }
    } else if (type === publishType && bodyEnd - bodyStart >= 2) {
      const flags = buffer[bodyStart - 1 - remainingLengthBytes(bodyEnd - bodyStart)]!;
      const qos = (flags >> 1) & 3;
      const topicEnd = bodyStart + 2 + buffer.readUInt16BE(bodyStart);
      const payloadStart = qos > 0 ? topicEnd + 2 : topicEnd;
      options.onPublish?.(buffer.subarray(bodyStart + 2, topicEnd), buffer.subarray(payloadStart, bodyEnd), { qos, dup: (flags & 8) !== 0 });
      if (qos === 1) write(Buffer.from([0x40, 2, buffer[topicEnd]!, buffer[topicEnd + 1]!]));
    } else if (type === connack && !connected) {
      clearTimeout(connectTimer);
      if (buffer[bodyStart + 1] !== 0) {
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
      options.onConnect((buffer[bodyStart]! & 1) === 1);
    }
  };

  const readBuffer = Buffer.allocUnsafe(readBufferBytes);
  const onread: OnReadOpts = {
    buffer: readBuffer,
    callback: (bytes) => {
      try {
        let data = readBuffer;
        let end = bytes;
        if (carry) {
          data = Buffer.concat([carry, readBuffer.subarray(0, bytes)]);
          end = data.length;
          carry = null;
        }
        const used = scanPackets(data, end, handle);
        if (used < end) carry = Buffer.from(data.subarray(used, end));
      } catch {
        socket.destroy();
      }
      return true;
    },
  };
  const tlsOptions = (tls: NonNullable<RawConnectionOptions['tls']>): ConnectionOptions & { onread: OnReadOpts } => ({
    host,
    port,
    servername: host,
    // tls.connect honours onread like net.connect; only its type declaration leaves it out.
    onread,
    ...(tls.ca && { ca: tls.ca }),
    rejectUnauthorized: tls.rejectUnauthorized,
  });
  const socket: Socket = options.tls ? connectTls(tlsOptions(options.tls)) : connectTcp({ host, port, onread });
  socket.setNoDelay(true);
  const connectTimer = setTimeout(() => socket.destroy(), options.connectTimeoutMs);

  socket.on(options.tls ? 'secureConnect' : 'connect', () => write(encodeConnect(options)));
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
      const id = takePacketId();
      awaitingAck.set(id, done);
      write(encodePublish(topic, payload, 1, id));
    },
    subscribe(filter, qos, done) {
      if (closed) return;
      const id = takePacketId();
      awaitingAck.set(id, done);
      write(encodeSubscribe(filter, qos, id));
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
