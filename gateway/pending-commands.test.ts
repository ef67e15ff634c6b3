import { describe, expect, it } from 'vitest';
import { createMemoryPendingCommands } from './pending-commands.ts';

describe('memory pending commands', () => {
  it('hands each expired command out once and forgets settled ones', async () => {
    const pending = createMemoryPendingCommands();
    await pending.track({ commandId: 'c-1', deviceId: 'd-1', expiresAtMs: 1000 });
    await pending.track({ commandId: 'c-2', deviceId: 'd-1', expiresAtMs: 2000 });
    await pending.track({ commandId: 'c-3', deviceId: 'd-2', expiresAtMs: 1500 });
    await pending.settle('d-2', 'c-3');
    expect(await pending.count()).toBe(2);
    expect(await pending.claimExpired(1500, 10)).toEqual([{ commandId: 'c-1', deviceId: 'd-1', expiresAtMs: 1000 }]);
    expect(await pending.claimExpired(1500, 10)).toEqual([]);
    expect(await pending.claimExpired(5000, 10)).toEqual([{ commandId: 'c-2', deviceId: 'd-1', expiresAtMs: 2000 }]);
    expect(await pending.count()).toBe(0);
  });

  it('claims at most the limit', async () => {
    const pending = createMemoryPendingCommands();
    for (let i = 0; i < 5; i++) await pending.track({ commandId: `c-${i}`, deviceId: 'd', expiresAtMs: i });
    expect(await pending.claimExpired(100, 3)).toHaveLength(3);
    expect(await pending.claimExpired(100, 3)).toHaveLength(2);
  });
});
