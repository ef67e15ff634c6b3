import { describe, expect, it, vi } from 'vitest';
import { createDeviceConnections, type DeviceConnectionsOptions } from './device-connections.ts';
import type { ThrottleReason } from './guarded-connection.ts';

function deferred(): { promise: Promise<void>; resolve: () => void; reject: (error: Error) => void } {
  let resolve!: () => void;
  let reject!: (error: Error) => void;
  const promise = new Promise<void>((res, rej) => {
    resolve = res;
    reject = rej;
  });
  return { promise, resolve, reject };
}

const settle = (): Promise<void> => new Promise((resolve) => setImmediate(resolve));

/** A table whose connections record every throttle change as `client:reason:stop|go`. */
function table(options: Partial<DeviceConnectionsOptions> = {}, clients: readonly string[] = ['a', 'b']) {
  const events: string[] = [];
  const connections = createDeviceConnections<string>({ perClientMax: 100, globalMax: 1000, globalMaxBytes: 1e9, rateLimits: { messagesPerS: 0, bytesPerS: 0, burstS: 1 }, onThrottled: () => {}, ...options });
  for (const client of clients) {
    const reasons = new Set<ThrottleReason>();
    const throttle = (reason: ThrottleReason, on: boolean): boolean => {
      if (reasons.has(reason) === on) return false;
      if (on) reasons.add(reason);
      else reasons.delete(reason);
      events.push(`${client}:${reason}:${on ? 'stop' : 'go'}`);
      return true;
    };
    connections.open(client, { guard: { throttle, flushed: () => Promise.resolve(), connectAccepted: () => undefined, sessionPresent: () => undefined }, certificateSubject: undefined });
  }
  return { connections, events };
}

describe('createDeviceConnections', () => {
  it('calls back in arrival order per client although work completes out of order', async () => {
    const { connections } = table();
    const order: string[] = [];
    const works = Array.from({ length: 5 }, () => deferred());
    works.forEach((work, index) => connections.submit('a', work.promise, () => order.push(`a${index}`)));
    const other = deferred();
    connections.submit('b', other.promise, () => order.push('b0'));
    for (const index of [3, 1, 4, 0, 2]) works[index]!.resolve();
    other.resolve();
    await settle();
    expect(order.filter((id) => id.startsWith('a'))).toEqual(['a0', 'a1', 'a2', 'a3', 'a4']);
    expect(order).toContain('b0');
    expect(connections.pendingTotal()).toBe(0);
  });

  it('passes a failure to that publish only, still in order', async () => {
    const { connections } = table();
    const results: Array<string | null> = [];
    const first = deferred();
    const second = deferred();
    connections.submit('a', first.promise, (error) => results.push(error?.message ?? null));
    connections.submit('a', second.promise, (error) => results.push(error?.message ?? null));
    second.resolve();
    first.reject(new Error('kafka down'));
    await settle();
    expect(results).toEqual(['kafka down', null]);
  });

  it('throttles a client at its cap and everyone past the global cap, resuming at half', async () => {
    const throttled: string[] = [];
    const { connections, events } = table({ perClientMax: 4, globalMax: 6, onThrottled: (reason) => throttled.push(reason) });
    const works = Array.from({ length: 4 }, () => deferred());
    for (const work of works) connections.submit('a', work.promise, () => {});
    expect(events).toEqual(['a:client:stop']);
    const more = Array.from({ length: 2 }, () => deferred());
    for (const work of more) connections.submit('b', work.promise, () => {});
    expect(events).toEqual(['a:client:stop', 'b:global:stop']);
    expect(throttled).toEqual(['client', 'global']);
    works[0]!.resolve();
    works[1]!.resolve();
    await settle();
    expect(events).toContain('a:client:go');
    works[2]!.resolve();
    await settle();
    expect(events.at(-1)).toBe('b:global:go');
    expect(connections.pendingTotal()).toBe(3);
  });

  it('throttles whoever publishes past the global byte cap and resumes once half the bytes settled', async () => {
    const { connections, events } = table({ globalMaxBytes: 1000 });
    const big = deferred();
    const small = deferred();
    connections.submit('a', big.promise, () => {}, 600);
    expect(connections.overloaded()).toBe(false);
    connections.submit('b', small.promise, () => {}, 400);
    expect(events).toEqual(['b:global:stop']);
    expect(connections.pendingBytes()).toBe(1000);
    expect(connections.overloaded()).toBe(true);
    small.resolve();
    await settle();
    expect(events).toEqual(['b:global:stop']);
    big.resolve();
    await settle();
    expect(events).toEqual(['b:global:stop', 'b:global:go']);
    expect(connections.pendingBytes()).toBe(0);
  });

  it('resolves idle() when the last pending publish settles, at once when none is pending', async () => {
    const { connections } = table();
    await connections.idle();
    const works = [deferred(), deferred()];
    connections.submit('a', works[0]!.promise, () => {});
    connections.submit('b', works[1]!.promise, () => {});
    let idle = false;
    void connections.idle().then(() => (idle = true));
    works[0]!.resolve();
    await settle();
    expect(idle).toBe(false);
    works[1]!.reject(new Error('kafka down'));
    await settle();
    expect(idle).toBe(true);
  });

  it('keeps a closed connection until its pending callbacks ran, and lists open ones only', async () => {
    const { connections } = table();
    const work = deferred();
    const called: string[] = [];
    connections.submit('a', work.promise, () => called.push('a0'));
    connections.close('a');
    expect(connections.get('a')).toBeUndefined();
    expect([...connections.all()].map(([client]) => client)).toEqual(['b']);
    expect(connections.pendingTotal()).toBe(1);
    work.resolve();
    await settle();
    expect(called).toEqual(['a0']);
    expect(connections.pendingTotal()).toBe(0);
  });

  it('pauses a connection for its rate limit, extends a longer pause, resumes when it ends, and forgets it on close', () => {
    vi.useFakeTimers();
    try {
      const throttled: string[] = [];
      const { connections, events } = table({ onThrottled: (reason) => throttled.push(reason) });
      connections.pauseForRate('a', 100);
      connections.pauseForRate('a', 50);
      expect(connections.rateLimited()).toBe(1);
      vi.advanceTimersByTime(99);
      connections.pauseForRate('a', 200);
      vi.advanceTimersByTime(100);
      expect(events).toEqual(['a:rate:stop']);
      vi.advanceTimersByTime(100);
      expect(events).toEqual(['a:rate:stop', 'a:rate:go']);
      expect(throttled).toEqual(['rate']);
      expect(connections.rateLimited()).toBe(0);
      connections.pauseForRate('b', 100);
      connections.close('b');
      expect(connections.rateLimited()).toBe(0);
      expect(vi.getTimerCount()).toBe(0);
    } finally {
      vi.useRealTimers();
    }
  });

  it('accepts a publish from a client no longer in the table (a will sent on close)', async () => {
    const { connections } = table();
    const called: string[] = [];
    connections.submit('gone', Promise.resolve(), () => called.push('will'));
    await settle();
    expect(called).toEqual(['will']);
    expect([...connections.all()].map(([client]) => client)).toEqual(['a', 'b']);
  });
});
