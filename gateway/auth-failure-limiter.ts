/**
 * Counts failed authentications per key (a client address, a device id) as a token bucket: a key may
 * fail `burst` times in a row, then once more every `refillMs`. An attempt takes a token before its
 * secret is hashed and gives it back when it succeeds, so concurrent attempts cannot overspend.
 *
 * A key out of tokens only because attempts of its own are still being verified is `busy`, not
 * `limited`: many devices behind one NAT or load balancer reconnecting at once (after a gateway
 * restart) are told to come back (CONNACK 3), not that they are not authorized (CONNACK 5), which
 * some firmware takes as final.
 *
 * Memory is bounded: at most `maxKeys` keys are tracked; the least recently failed is forgotten first,
 * and a key whose bucket has refilled is dropped. In-flight counts are bounded by the verifications
 * that can run or wait at once.
 */
export type AuthAttemptSlot = 'taken' | 'busy' | 'limited';

export interface AuthFailureLimiter {
  /** Takes one attempt from `key`'s bucket (`taken`); nothing is taken otherwise. */
  take(key: string): AuthAttemptSlot;
  /** Ends an attempt `take` let through: a failed one keeps its token, any other gets it back. */
  release(key: string, failed: boolean): void;
  /** Keys currently tracked. */
  size(): number;
}

export function createAuthFailureLimiter(options: { burst: number; refillMs: number; maxKeys: number; now?: () => number }): AuthFailureLimiter {
  const { burst, refillMs, maxKeys } = options;
  const now = options.now ?? Date.now;
  const buckets = new Map<string, { tokens: number; atMs: number }>();
  const inFlight = new Map<string, number>();

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
      if (tokens < 1) return (inFlight.get(key) ?? 0) > 0 ? 'busy' : 'limited';
      store(key, tokens - 1, atMs);
      inFlight.set(key, (inFlight.get(key) ?? 0) + 1);
      return 'taken';
    },
    release(key, failed) {
      const running = (inFlight.get(key) ?? 1) - 1;
      if (running > 0) inFlight.set(key, running);
      else inFlight.delete(key);
      if (failed) return;
      const atMs = now();
      store(key, Math.min(burst, tokensOf(key, atMs) + 1), atMs);
    },
    size: () => buckets.size,
  };
}
