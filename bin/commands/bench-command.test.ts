import { describe, expect, it } from 'vitest';
import { UsageError } from '../cli-args.ts';
import { loadOptions, primeOptions } from './bench-command.ts';

describe('primeOptions (bench e2e --prime)', () => {
  it('is off without --prime', () => {
    expect(primeOptions({}, [2000, 20000])).toBeNull();
    expect(primeOptions({ prime: '0' }, [2000])).toBeNull();
  });

  it('primes at the highest measured rate, at most 10,000 msg/s', () => {
    expect(primeOptions({ prime: '30' }, [2000, 5000])).toEqual({ ratePerSec: 5000, durationMs: 30_000 });
    expect(primeOptions({ prime: '30' }, [2000, 5000, 10000, 20000])).toEqual({ ratePerSec: 10_000, durationMs: 30_000 });
    expect(primeOptions({ prime: '5', 'prime-rate': '300' }, [20000])).toEqual({ ratePerSec: 300, durationMs: 5000 });
  });

  it('refuses --prime-rate without --prime, and a bad length', () => {
    expect(() => primeOptions({ 'prime-rate': '300' }, [1000])).toThrow(UsageError);
    expect(() => primeOptions({ prime: 'soon' }, [1000])).toThrow(UsageError);
  });
});

describe('loadOptions (the fleet)', () => {
  it('releases due messages every millisecond unless --tick-ms says otherwise', () => {
    expect(loadOptions({}).tickMs).toBe(1);
    expect(loadOptions({ 'tick-ms': '5' }).tickMs).toBe(5);
  });

  it('refuses a tick of 0 or beyond a second', () => {
    expect(() => loadOptions({ 'tick-ms': '0' })).toThrow(UsageError);
    expect(() => loadOptions({ 'tick-ms': '1001' })).toThrow(UsageError);
  });
});
