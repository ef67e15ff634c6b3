/**
 * Retries kafkajs calls that fail for transient broker states kafkajs itself gives up on too
 * early, e.g. "not the leader for that topic-partition" or "unknown topic" for a few seconds
 * after a topic was created on a busy broker.
 */
import { retry } from '../core/retry.ts';

function isTransient(error: unknown): boolean {
  if (typeof error !== 'object' || error === null) return false;
  const { retriable, name } = error as { retriable?: unknown; name?: unknown };
  return retriable === true || name === 'KafkaJSNumberOfRetriesExceeded' || name === 'KafkaJSConnectionError';
}

export function retryTransient<T>(operation: () => Promise<T>, options: { signal?: AbortSignal; maxAttempts?: number } = {}): Promise<T> {
  return retry(operation, { minDelayMs: 100, maxDelayMs: 2000, maxAttempts: options.maxAttempts ?? 25, shouldRetry: isTransient, signal: options.signal });
}
