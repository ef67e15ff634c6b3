/**
 * What Aedes reads from and writes to for one device: a thin stand-in for the device's transport
 * stream (TCP, TLS or WebSocket) that
 *  - refuses oversized or malformed packets before their bodies are buffered (packet-size-guard),
 *  - closes a socket that sends more than its pre-CONNECT byte budget, and stops reading once the
 *    CONNECT arrived until it is accepted: publishes pipelined behind it wait in the device's socket, and
 *  - lets the gateway stop reading from the device (throttle) while too many of its publishes wait
 *    for Kafka, so TCP backpressure reaches the device instead of the gateway buffering without bound,
 *  - sets the session-present flag of an accepting CONNACK when the gateway knows the device's session
 *    was stored: Aedes reports a session only when it has subscriptions (README, "Persistent sessions").
 *
 * It is not a stream of its own (ADR 0025). The device's stream flows: each chunk is scanned as it
 * arrives and kept until Aedes, which reads in paused mode, takes everything kept with one `read()`
 * ('readable' tells it there is something when its last read found nothing). Throttles pause the
 * device's stream, and so does having 64 KiB kept; bytes then wait in the socket and TCP
 * backpressure reaches the device. Writes go to the device's stream, the writes of a corked tick as
 * one buffer. The Duplex this replaces cost, with the socket's own stream layer, 14 % of the
 * gateway's CPU at 10,000 msg/s (docs/benchmarks/profiles.md).
 */
import { EventEmitter } from 'node:events';
import type { Duplex } from 'node:stream';
import { createPacketSizeGuard, type GuardVerdict } from './packet-size-guard.ts';

export type ThrottleReason = 'client' | 'global' | 'rate' | 'shutdown';

/** The part of a Duplex that Aedes (and Node's `finished`, which Aedes calls on it) uses. */
export interface DeviceStream extends EventEmitter {
  read(size?: number | null): Buffer | null;
  write(chunk: Buffer, callback?: (error?: Error | null) => void): boolean;
  cork(): void;
  uncork(): void;
  end(): void;
  destroy(error?: Error): void;
  readonly destroyed: boolean;
  readonly writable: boolean;
}

export interface GuardedConnection {
  /** What to give Aedes' `handle` (a Duplex to its types). */
  stream: DeviceStream;
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
}

// The events of the device's stream that Aedes and `finished` listen for ('end' is passed on once Aedes has every byte).
const forwardedEvents = ['finish', 'close', 'error', 'drain'] as const;
// What the device's stream may hold for Aedes before the gateway stops reading it (a Readable's default).
const highWaterMarkBytes = 64 * 1024;

export function guardConnection(
  source: Duplex,
  options: { maxPacketBytes: number; preConnectMaxBytes: number; onRefused: (verdict: Exclude<GuardVerdict, { ok: true }>) => void },
): GuardedConnection {
  const guard = createPacketSizeGuard(options);
  const reasons = new Set<ThrottleReason | 'connect'>();
  // Bytes read from the device that Aedes has not taken yet; at this many the device is not read further.
  let buffered: Buffer[] = [];
  let bufferedBytes = 0;
  // Aedes' last read found nothing: it reads again on the next 'readable' (else it reads when its batch is done).
  let aedesWaiting = true;
  let ended = false;
  // The CONNACK's bytes (mqtt-packet writes them as four one-byte writes in one call) until all four are here.
  let connack: Buffer[] | null = [];
  let markSessionPresent = false;

  const stream = new EventEmitter() as DeviceStream;
  Object.defineProperties(stream, {
    destroyed: { get: () => source.destroyed },
    writable: { get: () => source.writable },
  });
  for (const event of forwardedEvents) source.on(event, (...args: unknown[]) => stream.emit(event, ...args));

  const updateFlow = (): void => {
    if (reasons.size === 0 && bufferedBytes < highWaterMarkBytes) source.resume();
    else source.pause();
  };

  // The device's stream flows: each chunk is scanned as it arrives and kept until Aedes reads it.
  source.on('data', (chunk: Buffer) => {
    const verdict = guard.scan(chunk);
    if (!verdict.ok) {
      options.onRefused(verdict);
      source.destroy();
      return;
    }
    if (guard.awaitingAcceptance()) reasons.add('connect');
    buffered.push(chunk);
    bufferedBytes += chunk.length;
    updateFlow();
    if (aedesWaiting) {
      aedesWaiting = false;
      stream.emit('readable');
    }
  });
  source.on('end', () => {
    ended = true;
    if (bufferedBytes === 0) stream.emit('end');
  });

  stream.read = () => {
    if (bufferedBytes === 0) {
      aedesWaiting = true;
      return null;
    }
    const chunk = buffered.length === 1 ? buffered[0]! : Buffer.concat(buffered, bufferedBytes);
    buffered = [];
    bufferedBytes = 0;
    updateFlow();
    // The device closed its side after these bytes: Aedes hears of it once it has them.
    if (ended) process.nextTick(() => stream.emit('end'));
    return chunk;
  };

  const writeConnack = (chunk: Buffer, callback?: (error?: Error | null) => void): boolean => {
    const pending = connack!;
    pending.push(chunk);
    const bytes = Buffer.concat(pending);
    if (bytes.length < 4 && bytes[0] === 0x20) {
      callback?.();
      return true;
    }
    connack = null;
    // 0x20, remaining length 2, flags, return code 0 (accepted): an MQTT 3.1.1 CONNACK that accepts.
    if (markSessionPresent && bytes[0] === 0x20 && bytes[1] === 0x02 && bytes[3] === 0x00) bytes[2] = bytes[2]! | 0x01;
    return source.write(bytes, callback);
  };

  // Bytes written while corked, sent as one buffer on uncork: one plain socket write per tick and
  // device (e.g. every PUBACK a Kafka batch released for it), not a writev of 2 chunks per packet.
  let corks = 0;
  let corked: Buffer[] = [];
  let corkedCallbacks: ((error?: Error | null) => void)[] = [];

  const send = (chunk: Buffer, callback?: (error?: Error | null) => void): boolean => {
    if (source.destroyed) {
      if (callback) process.nextTick(callback, new Error('connection closed'));
      return false;
    }
    if (connack !== null && chunk.length > 0) return writeConnack(chunk, callback);
    return source.write(chunk, callback);
  };

  stream.write = (chunk, callback) => {
    if (corks === 0) return send(chunk, callback);
    corked.push(chunk);
    if (callback) corkedCallbacks.push(callback);
    return !source.writableNeedDrain;
  };
  stream.cork = () => {
    corks += 1;
  };
  stream.uncork = () => {
    if (corks === 0 || --corks > 0 || corked.length === 0) return;
    const chunks = corked;
    const callbacks = corkedCallbacks;
    corked = [];
    corkedCallbacks = [];
    send(chunks.length === 1 ? chunks[0]! : Buffer.concat(chunks), callbacks.length === 0 ? undefined : (error) => callbacks.forEach((callback) => callback(error)));
  };
  stream.end = () => source.end();
  stream.destroy = (error) => source.destroy(error);

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
      // An empty write completes after everything written before it reached the kernel, corked bytes too.
      return new Promise((resolve) => {
        if (!source.writable) resolve();
        else if (corks > 0) stream.write(Buffer.alloc(0), () => resolve());
        else source.write(Buffer.alloc(0), () => resolve());
      });
    },
  };
}
