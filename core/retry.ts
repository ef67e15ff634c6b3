/**
 * Bounded, jittered retry for infrastructure calls. Only errors the caller marks retriable are
 * retried (programming errors never are); retrying stops when the signal aborts.
 */
import { isRetriable } from './errors.ts';

export interface BackoffOptions {
  minDelayMs: number;
  maxDelayMs: number;
}

/** "Full jitter" exponential backoff: uniform in [0, min(max, min * 2^attempt)], at least 1 ms. */
export function backoffDelayMs(attempt: number, options: BackoffOptions, random: () => number = Math.random): number {
  const ceiling = Math.min(options.maxDelayMs, options.minDelayMs * 2 ** Math.min(attempt, 30));
  return Math.max(1, Math.floor(random() * ceiling));
}

/** Resolves after `ms`, or rejects with the abort reason when the signal aborts first. */
export function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal?.aborted) {
      reject(signal.reason as Error);
      return;
    }
    const onAbort = (): void => {
      clearTimeout(timer);
      reject(signal?.reason as Error);
    };
    const timer = setTimeout(() => {
      signal?.removeEventListener('abort', onAbort);
      resolve();
    }, ms);
    signal?.addEventListener('abort', onAbort, { once: true });
  });
}

export interface RetryOptions extends BackoffOptions {
  signal?: AbortSignal;
  /** Give up after this many attempts (default: unlimited, until the signal aborts). */
  maxAttempts?: number;
  shouldRetry?: (error: unknown) => boolean;
  onRetry?: (error: unknown, attempt: number, delayMs: number) => void;
}

export async function retry<T>(operation: (attempt: number) => Promise<T>, options: RetryOptions): Promise<T> {
  const shouldRetry = options.shouldRetry ?? isRetriable;
  for (let attempt = 0; ; attempt += 1) {
    try {
      return await operation(attempt);
    } catch (error) {
      const attemptsLeft = options.maxAttempts === undefined || attempt + 1 < options.maxAttempts;
      if (!attemptsLeft || !shouldRetry(error) || options.signal?.aborted) throw error;
      const delayMs = backoffDelayMs(attempt, options);
      options.onRetry?.(error, attempt + 1, delayMs);
      await sleep(delayMs, options.signal);
    }
  }
}
