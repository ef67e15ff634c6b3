import { describe, expect, it } from 'vitest';
import { createAuthFailureLimiter } from './auth-failure-limiter.ts';

describe('createAuthFailureLimiter', () => {
  it('allows a burst of failures, then one attempt per refill period', () => {
    let nowMs = 0;
    const limiter = createAuthFailureLimiter({ burst: 3, refillMs: 1000, maxKeys: 10, now: () => nowMs });
    const failOnce = (key: string): string => {
      const slot = limiter.take(key);
      if (slot === 'taken') limiter.release(key, true);
      return slot;
    };
    expect([1, 2, 3, 4].map(() => failOnce('a'))).toEqual(['taken', 'taken', 'taken', 'limited']);
    nowMs += 999;
    expect(failOnce('a')).toBe('limited');
    nowMs += 1;
    expect(failOnce('a')).toBe('taken');
    expect(failOnce('a')).toBe('limited');
    expect(failOnce('b')).toBe('taken');
  });

  it('gives back what a successful attempt took', () => {
    const limiter = createAuthFailureLimiter({ burst: 1, refillMs: 60_000, maxKeys: 10, now: () => 0 });
    expect(limiter.take('a')).toBe('taken');
    limiter.release('a', false);
    expect(limiter.take('a')).toBe('taken');
    limiter.release('a', true);
    expect(limiter.take('a')).toBe('limited');
  });

  it('says busy, not limited, while the empty bucket is held by attempts still being verified', () => {
    const limiter = createAuthFailureLimiter({ burst: 2, refillMs: 60_000, maxKeys: 10, now: () => 0 });
    expect([limiter.take('nat'), limiter.take('nat'), limiter.take('nat')]).toEqual(['taken', 'taken', 'busy']);
    limiter.release('nat', false);
    expect(limiter.take('nat')).toBe('taken');
    limiter.release('nat', true);
    limiter.release('nat', true);
    // both in-flight attempts failed: now the key is out of attempts for real
    expect(limiter.take('nat')).toBe('limited');
  });

  it('tracks at most maxKeys keys, forgetting the least recently failed, and drops refilled ones', () => {
    let nowMs = 0;
    const limiter = createAuthFailureLimiter({ burst: 1, refillMs: 1000, maxKeys: 2, now: () => nowMs });
    for (const key of ['a', 'b', 'c']) {
      limiter.take(key);
      limiter.release(key, true);
    }
    expect(limiter.size()).toBe(2);
    expect(limiter.take('a')).toBe('taken');
    expect(limiter.take('c')).toBe('limited');
    nowMs += 1000;
    expect(limiter.take('c')).toBe('taken');
    limiter.release('c', false);
    expect(limiter.size()).toBe(1);
  });
});
