/**
 * A device's publish rate limit: two token buckets, messages per second and payload bytes per
 * second, refilled continuously and holding `burstS` seconds of their rate (a rate of 0 is no limit).
 * A publish that may be dropped (QoS 0) is admitted only when both buckets hold its cost; one that
 * must not be (QoS 1/2, already read from the socket) is always admitted and may leave them in debt.
 * Either way `pauseMs` says how long the device should not be read: until a refused publish would
 * fit, or until the debt is repaid. No I/O, no timers: the caller passes the time.
 */

export interface RateLimits {
  messagesPerS: number;
  bytesPerS: number;
  burstS: number;
}

export interface RateVerdict {
  admitted: boolean;
  /** 0 when the device may be read on at once. */
  pauseMs: number;
  /** The bucket that was short, when one was. */
  limitedBy: 'messages' | 'bytes' | null;
}

export interface RateLimit {
  admit(payloadBytes: number, options: { mayDrop: boolean; nowMs: number }): RateVerdict;
}

interface Bucket {
  readonly ratePerS: number;
  readonly capacity: number;
  level: number;
}

const admittedAtOnce: RateVerdict = Object.freeze({ admitted: true, pauseMs: 0, limitedBy: null });

export function createRateLimit(limits: RateLimits, nowMs: number): RateLimit {
  const bucket = (ratePerS: number): Bucket => ({ ratePerS, capacity: ratePerS * limits.burstS, level: ratePerS * limits.burstS });
  const messages = bucket(limits.messagesPerS);
  const bytes = bucket(limits.bytesPerS);
  let refilledAtMs = nowMs;

  const refill = (at: number): void => {
    const elapsedS = Math.max(0, at - refilledAtMs) / 1000;
    refilledAtMs = at;
    messages.level = Math.min(messages.capacity, messages.level + messages.ratePerS * elapsedS);
    bytes.level = Math.min(bytes.capacity, bytes.level + bytes.ratePerS * elapsedS);
  };
  // How long until `bucket` holds `need` tokens; 0 for no limit.
  const waitMs = (one: Bucket, need: number): number => (one.ratePerS === 0 || one.level >= need ? 0 : Math.ceil(((need - one.level) / one.ratePerS) * 1000));

  return {
    admit(payloadBytes, { mayDrop, nowMs: at }) {
      refill(at);
      const messagesWait = waitMs(messages, 1);
      const bytesWait = waitMs(bytes, payloadBytes);
      const limitedBy = messagesWait > 0 ? 'messages' : bytesWait > 0 ? 'bytes' : null;
      if (mayDrop && limitedBy !== null) return { admitted: false, pauseMs: Math.max(messagesWait, bytesWait), limitedBy };
      if (messages.ratePerS > 0) messages.level -= 1;
      if (bytes.ratePerS > 0) bytes.level -= payloadBytes;
      const pauseMs = Math.max(waitMs(messages, 0), waitMs(bytes, 0));
      // The verdict of nearly every publish, shared rather than allocated per message.
      return pauseMs === 0 && limitedBy === null ? admittedAtOnce : { admitted: true, pauseMs, limitedBy };
    },
  };
}
