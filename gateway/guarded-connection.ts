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
 * It is not a stream of its own (ADR 0025): Aedes reads in paused mode (`'readable'`, then `read()`),
 * so `read()` here reads the device's stream, scans what it got and hands it on, or returns nothing
 * while a throttle holds; the bytes then stay in the stream's buffer, which stops reading from the
 * socket once full. Writes, corks and `destroy` go straight to the device's stream. A second Duplex
 * in between cost 14 % of the gateway's CPU at 10,000 msg/s together with the socket's own
 * (docs/benchmarks/profiles.md).
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

// The events of the device's stream that Aedes and `finished` listen for.
const forwardedEvents = ['readable', 'end', 'finish', 'close', 'error', 'drain'] as const;

export function guardConnection(
  source: Duplex,
  options: { maxPacketBytes: number; preConnectMaxBytes: number; onRefused: (verdict: Exclude<GuardVerdict, { ok: true }>) => void },
): GuardedConnection {
  const guard = createPacketSizeGuard(options);
  const reasons = new Set<ThrottleReason | 'connect'>();
  // Aedes asked for bytes while a throttle held: it waits for 'readable' before asking again.
  let starved = false;
  // The CONNACK's bytes (mqtt-packet writes them as four one-byte writes in one call) until all four are here.
  let connack: Buffer[] | null = [];
  let markSessionPresent = false;

  const stream = new EventEmitter() as DeviceStream;
  Object.defineProperties(stream, {
    destroyed: { get: () => source.destroyed },
    writable: { get: () => source.writable },
  });
  for (const event of forwardedEvents) source.on(event, (...args: unknown[]) => stream.emit(event, ...args));

  const resumeReading = (): void => {
    if (reasons.size > 0 || !starved) return;
    starved = false;
    // Bytes already buffered: tell Aedes. None: read(0) starts the socket reading again (its next
    // bytes emit 'readable'), or emits 'end' if the device already closed its side.
    if (source.readableLength > 0) stream.emit('readable');
    else source.read(0);
  };

  stream.read = () => {
    if (reasons.size > 0) {
      starved = true;
      return null;
    }
    const chunk = source.read() as Buffer | null;
    if (chunk === null) return null;
    const verdict = guard.scan(chunk);
    if (!verdict.ok) {
      options.onRefused(verdict);
      source.destroy();
      return null;
    }
    if (guard.awaitingAcceptance()) reasons.add('connect');
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

  stream.write = (chunk, callback) => {
    if (source.destroyed) {
      if (callback) process.nextTick(callback, new Error('connection closed'));
      return false;
    }
    if (connack !== null && chunk.length > 0) return writeConnack(chunk, callback);
    return source.write(chunk, callback);
  };
  // mqtt-packet corks per packet: the packets written in one tick (e.g. every PUBACK a Kafka batch
  // released for this device) leave in one socket write.
  stream.cork = () => source.cork();
  stream.uncork = () => source.uncork();
  stream.end = () => source.end();
  stream.destroy = (error) => source.destroy(error);

  return {
    stream,
    throttle(reason, on) {
      if (reasons.has(reason) === on) return false;
      if (on) reasons.add(reason);
      else reasons.delete(reason);
      resumeReading();
      return true;
    },
    connectAccepted() {
      guard.accept();
      reasons.delete('connect');
      resumeReading();
    },
    sessionPresent() {
      markSessionPresent = true;
    },
    flushed() {
      // An empty write completes after everything written before it reached the kernel, corked bytes too.
      return new Promise((resolve) => {
        if (source.writable) source.write(Buffer.alloc(0), () => resolve());
        else resolve();
      });
    },
  };
}
