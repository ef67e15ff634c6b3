import { describe, expect, it } from 'vitest';
import { createRateLimit } from './rate-limit.ts';

const qos0 = (nowMs: number) => ({ mayDrop: true, nowMs });
const qos1 = (nowMs: number) => ({ mayDrop: false, nowMs });

describe('createRateLimit', () => {
  it('admits a burst of burstS seconds of messages, then drops what may be dropped and says how long to pause', () => {
    const limit = createRateLimit({ messagesPerS: 10, bytesPerS: 0, burstS: 2 }, 0);
    const verdicts = Array.from({ length: 21 }, () => limit.admit(100, qos0(0)));
    expect(verdicts.filter((verdict) => verdict.admitted)).toHaveLength(20);
    expect(verdicts.at(-1)).toEqual({ admitted: false, pauseMs: 100, limitedBy: 'messages' });
    // A tenth of a second later one message fits again.
    expect(limit.admit(100, qos0(100))).toEqual({ admitted: true, pauseMs: 0, limitedBy: null });
    expect(limit.admit(100, qos0(100)).admitted).toBe(false);
  });

  it('admits a publish that must not be dropped into debt, and pauses until the debt is repaid', () => {
    const limit = createRateLimit({ messagesPerS: 10, bytesPerS: 0, burstS: 1 }, 0);
    for (let i = 0; i < 10; i += 1) limit.admit(1, qos1(0));
    expect(limit.admit(1, qos1(0))).toEqual({ admitted: true, pauseMs: 100, limitedBy: 'messages' });
    expect(limit.admit(1, qos1(0))).toEqual({ admitted: true, pauseMs: 200, limitedBy: 'messages' });
    // While in debt a QoS 0 message is refused until the debt is repaid and one message fits.
    expect(limit.admit(1, qos0(150))).toEqual({ admitted: false, pauseMs: 150, limitedBy: 'messages' });
    expect(limit.admit(1, qos0(300)).admitted).toBe(true);
  });

  it('limits payload bytes per second as well, whichever bucket is short first', () => {
    const limit = createRateLimit({ messagesPerS: 1000, bytesPerS: 1000, burstS: 1 }, 0);
    expect(limit.admit(600, qos0(0)).admitted).toBe(true);
    expect(limit.admit(600, qos0(0))).toEqual({ admitted: false, pauseMs: 200, limitedBy: 'bytes' });
    expect(limit.admit(600, qos1(0))).toEqual({ admitted: true, pauseMs: 200, limitedBy: 'bytes' });
  });

  it('refills no further than the burst, and a rate of 0 is no limit', () => {
    const limit = createRateLimit({ messagesPerS: 1, bytesPerS: 0, burstS: 1 }, 0);
    expect(limit.admit(1_000_000, qos0(60_000)).admitted).toBe(true);
    expect(limit.admit(1, qos0(60_000)).admitted).toBe(false);
    const unlimited = createRateLimit({ messagesPerS: 0, bytesPerS: 0, burstS: 1 }, 0);
    expect(Array.from({ length: 10_000 }, () => unlimited.admit(65_536, qos0(0))).every((verdict) => verdict.admitted && verdict.pauseMs === 0)).toBe(true);
  });
});
