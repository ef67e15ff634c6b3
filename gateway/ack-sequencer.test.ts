import { describe, expect, it } from 'vitest';
import { createAckSequencer } from './ack-sequencer.ts';

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

describe('createAckSequencer', () => {
  it('calls back in arrival order per client although work completes out of order', async () => {
    const sequencer = createAckSequencer<string>({ perClientMax: 100, globalMax: 1000, onThrottle: () => {} });
    const order: string[] = [];
    const works = Array.from({ length: 5 }, () => deferred());
    works.forEach((work, index) => sequencer.submit('a', work.promise, () => order.push(`a${index}`)));
    const other = deferred();
    sequencer.submit('b', other.promise, () => order.push('b0'));
    for (const index of [3, 1, 4, 0, 2]) works[index]!.resolve();
    other.resolve();
    await settle();
    expect(order.filter((id) => id.startsWith('a'))).toEqual(['a0', 'a1', 'a2', 'a3', 'a4']);
    expect(order).toContain('b0');
    expect(sequencer.pendingTotal()).toBe(0);
  });

  it('passes a failure to that publish only, still in order', async () => {
    const sequencer = createAckSequencer<string>({ perClientMax: 100, globalMax: 1000, onThrottle: () => {} });
    const results: Array<string | null> = [];
    const first = deferred();
    const second = deferred();
    sequencer.submit('a', first.promise, (error) => results.push(error?.message ?? null));
    sequencer.submit('a', second.promise, (error) => results.push(error?.message ?? null));
    second.resolve();
    first.reject(new Error('kafka down'));
    await settle();
    expect(results).toEqual(['kafka down', null]);
  });

  it('throttles a client at its cap and everyone past the global cap, resuming at half', async () => {
    const events: string[] = [];
    const sequencer = createAckSequencer<string>({ perClientMax: 4, globalMax: 6, onThrottle: (client, reason, on) => events.push(`${client}:${reason}:${on ? 'stop' : 'go'}`) });
    const works = Array.from({ length: 4 }, () => deferred());
    for (const work of works) sequencer.submit('a', work.promise, () => {});
    expect(events).toEqual(['a:client:stop']);
    const more = Array.from({ length: 2 }, () => deferred());
    for (const work of more) sequencer.submit('b', work.promise, () => {});
    expect(events).toEqual(['a:client:stop', 'b:global:stop']);
    works[0]!.resolve();
    works[1]!.resolve();
    await settle();
    expect(events).toContain('a:client:go');
    works[2]!.resolve();
    await settle();
    expect(events.at(-1)).toBe('b:global:go');
    expect(sequencer.pendingTotal()).toBe(3);
  });
});
