import { describe, expect, it } from 'vitest';
import { createShutdown } from './lifecycle.ts';

describe('createShutdown', () => {
  it('runs every step in order, reports all failures, and is memoised', async () => {
    const ran: string[] = [];
    const stop = createShutdown(() => [
      { name: 'listener', stop: () => void ran.push('listener') },
      {
        name: 'producer',
        stop: () => {
          ran.push('producer');
          throw new Error('flush failed');
        },
      },
      {
        name: 'consumer',
        stop: async () => {
          ran.push('consumer');
          await Promise.reject(new Error('close failed'));
        },
      },
      { name: 'http', stop: () => void ran.push('http') },
    ]);
    const first = stop();
    expect(stop()).toBe(first);
    await expect(first).rejects.toThrow(/producer: flush failed.*consumer: close failed/);
    expect(ran).toEqual(['listener', 'producer', 'consumer', 'http']);
  });
});
