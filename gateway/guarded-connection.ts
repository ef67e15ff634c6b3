/**
 * A Duplex placed between a device's transport stream and Aedes. It
 *  - refuses oversized or malformed packets before their bodies are buffered (packet-size-guard),
 *  - closes a socket that sends more than its pre-CONNECT byte budget, and stops reading once the
 *    CONNECT arrived until it is accepted: publishes pipelined behind it wait in the device's socket, and
 *  - lets the gateway stop reading from the device (throttle) while too many of its publishes wait
 *    for Kafka, so TCP backpressure reaches the device instead of the gateway buffering without bound,
 *  - sets the session-present flag of an accepting CONNACK when the gateway knows the device's session
 *    was stored: Aedes reports a session only when it has subscriptions (README, "Persistent sessions"),
 *  - offers each chunk of whole packets to `takeChunk` once the CONNECT was accepted and Aedes has read
 *    everything before it, so the gateway can answer telemetry without Aedes (ADR 0025); bytes it
 *    writes with `write` leave after everything Aedes wrote before, and a device that does not read
 *    them is not read either.
 * Aedes reads in paused mode and keeps reading while packets are pending; pausing the source
 * socket here is what actually stops the bytes.
 */
import { Duplex } from 'node:stream';
import { createPacketSizeGuard, type GuardVerdict } from './packet-size-guard.ts';

export type ThrottleReason = 'client' | 'global' | 'rate' | 'shutdown' | 'unread_acks';

export interface GuardedConnection {
  stream: Duplex;
  /**
   * Stop (true) or resume (false) reading from the device for this reason; reading resumes when no reason holds.
   * True when this changed whether the reason holds.
   */
  throttle(reason: ThrottleReason, on: boolean): boolean;
  /** The device's CONNECT was accepted: the pre-CONNECT budget ends and reading resumes. */
  connectAccepted(): void;
  /** The CONNACK about to be written accepts a CONNECT whose session was stored: it says so ([MQTT-3.2.2-2]). */
  sessionPresent(): void;
  /** Resolves once every byte written so far (corked ones too) was handed to the device's socket, or the stream is gone. */
  flushed(): Promise<void>;
  /** Writes bytes to the device after everything written before; stops reading from it while they wait. */
  write(bytes: Buffer): void;
}

export function guardConnection(
  source: Duplex,
  options: {
    maxPacketBytes: number;
    preConnectMaxBytes: number;
    onRefused: (verdict: Exclude<GuardVerdict, { ok: true }>) => void;
    /** Given a chunk of whole packets that Aedes would read next; true when it took the chunk, which Aedes then never sees. */
    takeChunk?: (chunk: Buffer) => boolean;
  },
): GuardedConnection {
  const guard = createPacketSizeGuard(options);
  const reasons = new Set<ThrottleReason | 'connect'>();
  let wantsData = true;

  const updateFlow = (): void => {
    if (reasons.size === 0 && wantsData) source.resume();
    else source.pause();
  };

  let connackWritten = false;
  let markSessionPresent = false;

  /**
   * Hands bytes to the device's socket. The callback fires as soon as the socket took them, or on
   * 'drain' when its buffer is full: waiting for each write to reach the kernel would serialise
   * every packet (mqtt-packet writes a PUBACK as two chunks) behind an event-loop turn.
   */
  const forward = (bytes: Buffer, callback: (error?: Error | null) => void): void => {
    let data = bytes;
    if (!connackWritten && data.length > 0) {
      connackWritten = true;
      // mqtt-packet writes the 4 bytes of a CONNACK corked, so they arrive here together: 0x20, 2, flags, return code.
      if (markSessionPresent && data.length >= 4 && data[0] === 0x20 && data[1] === 0x02 && data[3] === 0x00) data = Buffer.concat([data.subarray(0, 2), Buffer.from([data[2]! | 0x01]), data.subarray(3)]);
    }
    if (source.destroyed) callback(new Error('connection closed'));
    else if (source.write(data)) callback();
    else source.once('drain', () => callback());
  };

  const stream = new Duplex({
    read() {
      wantsData = true;
      updateFlow();
    },
    write(chunk: Buffer, _encoding, callback) {
      forward(chunk, callback);
    },
    // mqtt-packet corks the stream per packet: the packets written in one tick (e.g. every PUBACK a
    // Kafka batch released for this device) leave in one socket write.
    writev(chunks, callback) {
      forward(chunks.length === 1 ? (chunks[0]!.chunk as Buffer) : Buffer.concat(chunks.map(({ chunk }) => chunk as Buffer)), callback);
    },
    final(callback) {
      source.end();
      callback();
    },
    destroy(error, callback) {
      source.destroy(error ?? undefined);
      callback(error);
    },
  });

  const { takeChunk } = options;

  source.on('data', (chunk: Buffer) => {
    const startsPacket = guard.atPacketBoundary();
    const verdict = guard.scan(chunk);
    if (!verdict.ok) {
      options.onRefused(verdict);
      source.destroy();
      return;
    }
    if (guard.awaitingAcceptance()) reasons.add('connect');
    // Aedes has parsed every byte before this chunk (none waits in its buffer or its parser), so taking it keeps the order.
    if (takeChunk && guard.isAccepted() && startsPacket && stream.readableLength === 0 && guard.atPacketBoundary() && takeChunk(chunk)) return;
    if (!stream.push(chunk)) wantsData = false;
    updateFlow();
  });
  source.on('end', () => stream.push(null));
  source.on('close', () => {
    if (!stream.destroyed) stream.destroy();
  });
  source.on('error', (error) => stream.destroy(error));

  return {
    stream,
    throttle(reason, on) {
      if (reasons.has(reason) === on) return false;
      if (on) reasons.add(reason);
      else reasons.delete(reason);
      updateFlow();
      return true;
    },
    connectAccepted() {
      guard.accept();
      reasons.delete('connect');
      updateFlow();
    },
    sessionPresent() {
      markSessionPresent = true;
    },
    flushed() {
      // An empty write completes after everything written before it: the socket took those bytes.
      return new Promise((resolve) => {
        if (stream.writable) stream.write(Buffer.alloc(0), () => resolve());
        else resolve();
      });
    },
    write(bytes) {
      if (!stream.writable) return;
      // Nothing of Aedes' waits in the guard (no corked or unsent bytes): straight to the socket, in
      // order, without a second stream layer per PUBACK. Otherwise behind what waits.
      const direct = connackWritten && stream.writableLength === 0 && !source.destroyed;
      const target = direct ? source : stream;
      if (target.write(bytes) || reasons.has('unread_acks')) return;
      reasons.add('unread_acks');
      updateFlow();
      target.once('drain', () => {
        reasons.delete('unread_acks');
        updateFlow();
      });
    },
  };
}
