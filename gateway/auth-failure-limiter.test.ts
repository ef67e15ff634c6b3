import { describe, expect, it } from 'vitest';
import { createAuthFailureLimiter } from './auth-failure-limiter.ts';

describe('createAuthFailureLimiter', () => {
  it('allows a burst, then one attempt per refill period', () => {
    let nowMs = 0;
    const limiter = createAuthFailureLimiter({ burst: 3, refillMs: 1000, maxKeys: 10, now: () => nowMs });
    expect([1, 2, 3, 4].map(() => limiter.take('a'))).toEqual([true, true, true, false]);
    nowMs += 999;
    expect(limiter.take('a')).toBe(false);
    nowMs += 1;
    expect(limiter.take('a')).toBe(true);
    expect(limiter.take('a')).toBe(false);
    expect(limiter.take('b')).toBe(true);
  });

  it('gives back what a successful attempt took', () => {
    const limiter = createAuthFailureLimiter({ burst: 1, refillMs: 60_000, maxKeys: 10, now: () => 0 });
    expect(limiter.take('a')).toBe(true);
    limiter.refund('a');
    expect(limiter.take('a')).toBe(true);
    expect(limiter.take('a')).toBe(false);
  });

  it('tracks at most maxKeys keys, forgetting the least recently failed, and drops refilled ones', () => {
    let nowMs = 0;
    const limiter = createAuthFailureLimiter({ burst: 1, refillMs: 1000, maxKeys: 2, now: () => nowMs });
    limiter.take('a');
    limiter.take('b');
    limiter.take('c');
    expect(limiter.size()).toBe(2);
    expect(limiter.take('a')).toBe(true);
    expect(limiter.take('c')).toBe(false);
    nowMs += 1000;
    limiter.refund('c');
    expect(limiter.size()).toBe(1);
  });
});
