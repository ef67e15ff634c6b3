import { describe, expect, it } from 'vitest';
import { falseOnTimeout, waitFor, WaitTimeoutError } from './wait-for.ts';

describe('waitFor', () => {
  it('resolves once the condition holds, after retrying a condition that threw', async () => {
    let checks = 0;
    const waitedMs = await waitFor(
      () => {
        checks += 1;
        if (checks === 1) throw new Error('connection refused');
        return checks === 3;
      },
      { description: 'the third check', timeoutMs: 5000, intervalMs: 5 },
    );
    expect(checks).toBe(3);
    expect(waitedMs).toBeGreaterThanOrEqual(0);
  });

  it('times out with a message naming what was awaited, what was last seen and the last error', async () => {
    let checks = 0;
    const waiting = waitFor(
      () => {
        checks += 1;
        if (checks % 2 === 0) throw new Error('connection refused');
        return false;
      },
      { description: 'Kafka to be ready', timeoutMs: 60, intervalMs: 10, lastSeen: () => `last value ${checks}` },
    );
    await expect(waiting).rejects.toThrow(WaitTimeoutError);
    await expect(waiting).rejects.toThrow(/^timed out after 60 ms waiting for Kafka to be ready \(last value \d+; last error: connection refused\)$/);
    expect(checks).toBeGreaterThan(2);
  });

  it('stops on abort with the signal’s reason, and checks no more', async () => {
    const abort = new AbortController();
    let checks = 0;
    const waiting = waitFor(() => ++checks < 0, { description: 'never', timeoutMs: 60_000, intervalMs: 10_000, signal: abort.signal });
    setTimeout(() => abort.abort(new Error('shutting down')), 10);
    const started = performance.now();
    await expect(waiting).rejects.toThrow('shutting down');
    expect(performance.now() - started).toBeLessThan(5000);
    expect(checks).toBe(1);
  });

  it('does not check at all when the signal is already aborted', async () => {
    let checks = 0;
    await expect(waitFor(() => ++checks > 0, { description: 'anything', timeoutMs: 1000, intervalMs: 10, signal: AbortSignal.abort(new Error('stopped')) })).rejects.toThrow('stopped');
    expect(checks).toBe(0);
  });

  it('gives up at once, with the reason, when the wait is hopeless', async () => {
    let checks = 0;
    const hopeless = (): string | null => (checks >= 2 ? 'process exited; see kafka.log' : null);
    await expect(waitFor(() => ++checks < 0, { description: 'Kafka to be ready', timeoutMs: 60_000, intervalMs: 5, hopeless })).rejects.toThrow(
      'gave up waiting for Kafka to be ready: process exited; see kafka.log',
    );
    expect(checks).toBe(2);
  });

  it('falseOnTimeout turns only a timeout into false', async () => {
    expect(await waitFor(() => false, { description: 'never', timeoutMs: 0, intervalMs: 10 }).then(() => true, falseOnTimeout)).toBe(false);
    expect(() => falseOnTimeout(new Error('bug'))).toThrow('bug');
  });
});
