import type { Client } from 'aedes';
import memoryPersistence from 'aedes-persistence';
import { describe, expect, it } from 'vitest';
import { defaultTopicLayout } from './acl.ts';
import { adaptPersistence } from './session-persistence.ts';

interface Persistence {
  addSubscriptions(client: { id: string }, subs: Array<{ topic: string; qos: number }>): Promise<void>;
  subscriptionsByTopic(topic: string): Promise<Array<{ clientId: string; topic: string; qos: number }>>;
  outgoingEnqueueCombi(subs: Array<{ clientId: string }>, packet: object): Promise<void>;
  outgoingUpdate(client: { id: string }, packet: object): Promise<void>;
  outgoingStream(client: { id: string }): AsyncIterable<{ topic: string; dup: boolean; messageId?: number }>;
  cleanSubscriptions(client: Client): Promise<unknown>;
}

function adapted(available = true): { persistence: Persistence; skipped: string[] } {
  const skipped: string[] = [];
  const persistence = adaptPersistence((memoryPersistence as unknown as () => object)(), { layout: defaultTopicLayout, available: () => available, onSkipped: (operation) => skipped.push(operation) });
  return { persistence: persistence as Persistence, skipped };
}

const packet = (topic: string, counter: number): object => ({ cmd: 'publish', topic, payload: Buffer.from('{}'), qos: 1, retain: false, dup: false, brokerId: 'b', brokerCounter: counter });

async function drain(stream: AsyncIterable<{ topic: string; dup: boolean }>): Promise<Array<{ topic: string; dup: boolean }>> {
  const items: Array<{ topic: string; dup: boolean }> = [];
  for await (const item of stream) items.push({ topic: item.topic, dup: item.dup });
  return items;
}

describe('adaptPersistence', () => {
  it("matches a command only against its own device's stored subscriptions, and data topics against nobody", async () => {
    const { persistence } = adapted();
    await persistence.addSubscriptions({ id: 'dev-1' }, [{ topic: 'devices/dev-1/commands/#', qos: 1 }]);
    await persistence.addSubscriptions({ id: 'dev-2' }, [{ topic: 'devices/dev-2/commands/reboot', qos: 1 }]);
    expect(await persistence.subscriptionsByTopic('devices/dev-1/commands/reboot')).toEqual([{ clientId: 'dev-1', topic: 'devices/dev-1/commands/#', qos: 1 }]);
    expect(await persistence.subscriptionsByTopic('devices/dev-2/commands/other')).toEqual([]);
    expect(await persistence.subscriptionsByTopic('devices/dev-1/telemetry')).toEqual([]);
  });

  it('marks a queued message that was written before as DUP', async () => {
    const { persistence } = adapted();
    const client = { id: 'dev-1' };
    await persistence.outgoingEnqueueCombi([{ clientId: 'dev-1' }], packet('devices/dev-1/commands/a', 1));
    await persistence.outgoingEnqueueCombi([{ clientId: 'dev-1' }], packet('devices/dev-1/commands/b', 2));
    // the first one went out once (it has a message id now)
    await persistence.outgoingUpdate(client, { ...packet('devices/dev-1/commands/a', 1), messageId: 7 });
    expect(await drain(persistence.outgoingStream(client))).toEqual([
      { topic: 'devices/dev-1/commands/a', dup: true },
      { topic: 'devices/dev-1/commands/b', dup: false },
    ]);
  });

  it('lets a clean session skip the store while it is unavailable, and only then', async () => {
    const down = adapted(false);
    await down.persistence.cleanSubscriptions({ id: 'dev-1', clean: true } as Client);
    expect(down.skipped).toEqual(['cleanSubscriptions']);
    const up = adapted(true);
    await up.persistence.cleanSubscriptions({ id: 'dev-1', clean: true } as Client);
    expect(up.skipped).toEqual([]);
  });
});
