import { describe, expect, it } from 'vitest';
import { InfraError } from './errors.ts';
import { backoffDelayMs, retry } from './retry.ts';

const transient = (): InfraError => new InfraError('QUESTDB_UNAVAILABLE', 'down', { retriable: true });

describe('backoffDelayMs', () => {
  it('grows exponentially up to the maximum, with full jitter', () => {
    const options = { minDelayMs: 100, maxDelayMs: 1000 };
    expect(backoffDelayMs(0, options, () => 0.999)).toBe(99);
    expect(backoffDelayMs(2, options, () => 0.999)).toBe(399);
    expect(backoffDelayMs(10, options, () => 0.999)).toBe(999);
    expect(backoffDelayMs(3, options, () => 0)).toBe(1);
  });
});

describe('retry', () => {
  it('retries retriable errors until the operation succeeds', async () => {
    let calls = 0;
    const result = await retry(
      async () => {
        calls += 1;
        if (calls < 3) throw transient();
        return 'ok';
      },
      { minDelayMs: 1, maxDelayMs: 2 },
    );
    expect(result).toBe('ok');
    expect(calls).toBe(3);
  });

  it('never retries programming errors', async () => {
    let calls = 0;
    await expect(
      retry(
        async () => {
          calls += 1;
          throw new TypeError('bug');
        },
        { minDelayMs: 1, maxDelayMs: 2 },
      ),
    ).rejects.toThrow('bug');
    expect(calls).toBe(1);
  });

  it('stops after maxAttempts and when the signal aborts', async () => {
    let calls = 0;
    await expect(
      retry(
        async () => {
          calls += 1;
          throw transient();
        },
        { minDelayMs: 1, maxDelayMs: 2, maxAttempts: 4 },
      ),
    ).rejects.toThrow('down');
    expect(calls).toBe(4);

    const controller = new AbortController();
    const pending = retry(
      async () => {
        throw transient();
      },
      { minDelayMs: 10_000, maxDelayMs: 10_000, signal: controller.signal },
    );
    await new Promise((resolve) => setTimeout(resolve, 20)); // let it reach the backoff sleep
    controller.abort(new Error('shutting down'));
    await expect(pending).rejects.toThrow('shutting down');
  });
});
