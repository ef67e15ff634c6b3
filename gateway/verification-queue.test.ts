import { describe, expect, it } from 'vitest';
import { createVerificationQueue } from './verification-queue.ts';

describe('createVerificationQueue', () => {
  it('runs up to the concurrency, queues up to queueMax, and refuses the rest without running them', async () => {
    const queue = createVerificationQueue({ concurrency: 2, queueMax: 1 });
    const started: number[] = [];
    const finish: Array<() => void> = [];
    const task = (n: number) => (): Promise<number> => {
      started.push(n);
      return new Promise((resolve) => finish.push(() => resolve(n)));
    };
    const runs = [1, 2, 3].map((n) => queue.tryRun(task(n))!);
    expect(queue.tryRun(task(4))).toBeUndefined();
    await Promise.resolve();
    expect(started).toEqual([1, 2]);
    finish.shift()!();
    expect(await runs[0]).toBe(1);
    await Promise.resolve();
    expect(started).toEqual([1, 2, 3]);
    for (const done of finish.splice(0)) done();
    expect(await Promise.all(runs)).toEqual([1, 2, 3]);
    expect(await queue.tryRun(() => Promise.resolve(5))).toBe(5);
  });

  it('frees the slot of a task that fails', async () => {
    const queue = createVerificationQueue({ concurrency: 1, queueMax: 0 });
    await expect(queue.tryRun(() => Promise.reject(new Error('boom')))).rejects.toThrow('boom');
    expect(await queue.tryRun(() => Promise.resolve('next'))).toBe('next');
  });
});
