/**
 * Counts failed authentications per key (a client address, a device id) as a token bucket: a key may
 * fail `burst` times in a row, then once more every `refillMs`. An attempt takes a token before its
 * secret is hashed and gives it back when it succeeds, so concurrent attempts cannot overspend.
 *
 * Memory is bounded: at most `maxKeys` keys are tracked; the least recently failed is forgotten first,
 * and a key whose bucket has refilled is dropped.
 */
export interface AuthFailureLimiter {
  /** Takes one attempt from `key`'s bucket; false (nothing taken) when the key is out of attempts. */
  take(key: string): boolean;
  /** Gives back what `take` took: the attempt did not fail. */
  refund(key: string): void;
  /** Keys currently tracked. */
  size(): number;
}

export function createAuthFailureLimiter(options: { burst: number; refillMs: number; maxKeys: number; now?: () => number }): AuthFailureLimiter {
  const { burst, refillMs, maxKeys } = options;
  const now = options.now ?? Date.now;
  const buckets = new Map<string, { tokens: number; atMs: number }>();

  const tokensOf = (key: string, atMs: number): number => {
    const bucket = buckets.get(key);
    if (!bucket) return burst;
    return Math.min(burst, bucket.tokens + (atMs - bucket.atMs) / refillMs);
  };

  const store = (key: string, tokens: number, atMs: number): void => {
    // re-inserting moves the key to the end: the Map's first key is the least recently failed
    buckets.delete(key);
    if (tokens >= burst) return;
    buckets.set(key, { tokens, atMs });
    if (buckets.size > maxKeys) buckets.delete(buckets.keys().next().value!);
  };

  return {
    take(key) {
      const atMs = now();
      const tokens = tokensOf(key, atMs);
      if (tokens < 1) return false;
      store(key, tokens - 1, atMs);
      return true;
    },
    refund(key) {
      const atMs = now();
      store(key, Math.min(burst, tokensOf(key, atMs) + 1), atMs);
    },
    size: () => buckets.size,
  };
}
