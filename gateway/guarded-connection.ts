/**
 * A Duplex placed between a device's transport stream and Aedes. It
 *  - refuses oversized or malformed packets before their bodies are buffered (packet-size-guard), and
 *  - lets the gateway stop reading from the device (throttle) while too many of its publishes wait
 *    for Kafka, so TCP backpressure reaches the device instead of the gateway buffering without bound.
 * Aedes reads in paused mode and keeps reading while packets are pending; pausing the source
 * socket here is what actually stops the bytes.
 */
import { Duplex } from 'node:stream';
import { createPacketSizeGuard, type GuardVerdict } from './packet-size-guard.ts';

export type ThrottleReason = 'client' | 'global' | 'shutdown';

export interface GuardedConnection {
  stream: Duplex;
  /** Stop (true) or resume (false) reading from the device for this reason; reading resumes when no reason holds. */
  throttle(reason: ThrottleReason, on: boolean): void;
  isThrottled(): boolean;
}

export function guardConnection(
  source: Duplex,
  options: { maxPacketBytes: number; onRefused: (verdict: Exclude<GuardVerdict, { ok: true }>) => void },
): GuardedConnection {
  const guard = createPacketSizeGuard(options.maxPacketBytes);
  const reasons = new Set<ThrottleReason>();
  let wantsData = true;

  const updateFlow = (): void => {
    if (reasons.size === 0 && wantsData) source.resume();
    else source.pause();
  };

  const stream = new Duplex({
    read() {
      wantsData = true;
      updateFlow();
    },
    write(chunk: Buffer, _encoding, callback) {
      if (source.destroyed) callback(new Error('connection closed'));
      else source.write(chunk, callback);
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

  source.on('data', (chunk: Buffer) => {
    const verdict = guard.scan(chunk);
    if (!verdict.ok) {
      options.onRefused(verdict);
      source.destroy();
      return;
    }
    if (!stream.push(chunk)) {
      wantsData = false;
      updateFlow();
    }
  });
  source.on('end', () => stream.push(null));
  source.on('close', () => {
    if (!stream.destroyed) stream.destroy();
  });
  source.on('error', (error) => stream.destroy(error));

  return {
    stream,
    throttle(reason, on) {
      if (on) reasons.add(reason);
      else reasons.delete(reason);
      updateFlow();
    },
    isThrottled: () => reasons.size > 0,
  };
}
