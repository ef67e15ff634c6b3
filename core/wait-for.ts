/**
 * The one way to wait for a condition: readiness checks, drains and tests poll through `waitFor`
 * instead of writing their own loop.
 */
import { setTimeout as delay } from 'node:timers/promises';
import { describeError } from './errors.ts';

export interface WaitForOptions {
  /** What is awaited, for the timeout message: "timed out after 5000 ms waiting for <description>". */
  description: string;
  timeoutMs: number;
  /** Pause between two checks. */
  intervalMs: number;
  /** Ends the wait early: `waitFor` rejects with the signal's reason. */
  signal?: AbortSignal;
  /** What was last seen, appended to the timeout message ("last value 3"). */
  lastSeen?: () => string;
  /** Asked before each check: a reason ends the wait at once (a server that exited will never be ready). */
  hopeless?: () => string | null;
}

/** The condition did not hold within `timeoutMs`; the message says what was awaited and last seen. */
export class WaitTimeoutError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'WaitTimeoutError';
  }
}

/**
 * Checks `condition` at once, then every `intervalMs`, until it returns true. Resolves with the
 * milliseconds waited. Rejects with a WaitTimeoutError once `timeoutMs` passed without success, with
 * `signal.reason` when the signal aborts, or at once when `hopeless` gives a reason. A condition that throws counts as not met yet (a
 * server still starting refuses connections); the last such error is quoted in the timeout message.
 * A condition that never settles is not cut short: give its I/O its own timeout.
 */
export async function waitFor(condition: () => boolean | Promise<boolean>, options: WaitForOptions): Promise<number> {
  const { signal } = options;
  const started = performance.now();
  let lastError: unknown = null;
  for (;;) {
    signal?.throwIfAborted();
    const hopeless = options.hopeless?.() ?? null;
    if (hopeless !== null) throw new Error(`gave up waiting for ${options.description}: ${hopeless}`);
    try {
      if (await condition()) return Math.round(performance.now() - started);
    } catch (error) {
      lastError = error;
    }
    signal?.throwIfAborted();
    const remainingMs = options.timeoutMs - (performance.now() - started);
    if (remainingMs <= 0) {
      const seen = [options.lastSeen?.(), lastError === null ? undefined : `last error: ${describeError(lastError)}`].filter((part) => part !== undefined);
      throw new WaitTimeoutError(`timed out after ${options.timeoutMs} ms waiting for ${options.description}${seen.length > 0 ? ` (${seen.join('; ')})` : ''}`);
    }
    try {
      await delay(Math.min(options.intervalMs, remainingMs), undefined, { signal });
    } catch (error) {
      // delay() rejects with its own AbortError; the caller expects the reason it gave.
      signal?.throwIfAborted();
      throw error;
    }
  }
}

/** For waits whose timeout is an outcome rather than a failure: `waitFor(...).then(() => true, falseOnTimeout)`. */
export function falseOnTimeout(error: unknown): false {
  if (error instanceof WaitTimeoutError) return false;
  throw error;
}
