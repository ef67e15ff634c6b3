import { afterEach, describe, expect, it, vi } from 'vitest';
import type { OutgoingRecord } from '../core/kafka-port.ts';
import { InfraError } from '../core/errors.ts';
import { createSendQueue, type QueuedRecord, type SendQueue } from './send-queue.ts';

function record(name: string): OutgoingRecord {
  return { topic: 't', key: name, value: Buffer.from(name), headers: {} };
}

function deferred(): { promise: Promise<void>; resolve: () => void } {
  let resolve!: () => void;
  const promise = new Promise<void>((done) => (resolve = done));
  return { promise, resolve };
}

type Handler = (batch: QueuedRecord[], requeue: (entries: readonly QueuedRecord[]) => void) => Promise<void>;

/** A queue whose sends are recorded (by key) and handled by `handle`; by default every record is acknowledged at once. */
function queueWith(options: { maxBatchRecords?: number; sendTimeoutMs?: number; handle?: Handler } = {}): { queue: SendQueue; batches: string[][] } {
  const batches: string[][] = [];
  const acknowledgeAll: Handler = async (batch) => {
    for (const entry of batch) entry.resolve();
    await Promise.resolve();
  };
  const handle = options.handle ?? acknowledgeAll;
  const queue = createSendQueue<QueuedRecord>({
    sendTimeoutMs: options.sendTimeoutMs ?? 10_000,
    lingerMs: 0,
    maxBatchRecords: options.maxBatchRecords ?? 100,
    entry: (base) => base,
    sendBatch: (batch, requeue) => {
      batches.push(batch.map((entry) => entry.record.key ?? ''));
      return handle(batch, requeue);
    },
  });
  return { queue, batches };
}

/** Lets the queue's setImmediate-scheduled pump and the promise callbacks run. */
const settle = (): Promise<void> => new Promise((resolve) => setImmediate(resolve));

const codeOf = (error: unknown): string | undefined => (error instanceof InfraError ? error.code : undefined);

afterEach(() => {
  vi.useRealTimers();
});

describe('createSendQueue', () => {
  it('sends at most maxBatchRecords records per request, in the order they came', async () => {
    const { queue, batches } = queueWith({ maxBatchRecords: 3 });
    await Promise.all(['a', 'b', 'c', 'd', 'e', 'f', 'g'].map((name) => queue.enqueue(record(name))));
    expect(batches).toEqual([
      ['a', 'b', 'c'],
      ['d', 'e', 'f'],
      ['g'],
    ]);
  });

  it('keeps one request in flight; records arriving meanwhile go out together in the next', async () => {
    const first = deferred();
    let calls = 0;
    const { queue, batches } = queueWith({
      handle: async (batch) => {
        calls += 1;
        if (calls === 1) await first.promise;
        for (const entry of batch) entry.resolve();
      },
    });
    const sent = [queue.enqueue(record('a'))];
    await settle();
    sent.push(queue.enqueue(record('b')), queue.enqueue(record('c')));
    await settle();
    expect(batches).toEqual([['a']]);
    expect(queue.pending()).toBe(3);

    first.resolve();
    await Promise.all(sent);
    expect(batches).toEqual([['a'], ['b', 'c']]);
    expect(queue.pending()).toBe(0);
  });

  it('fails a record that waited longer than the send timeout without sending it', async () => {
    vi.useFakeTimers({ toFake: ['Date'] });
    const first = deferred();
    let calls = 0;
    const { queue, batches } = queueWith({
      sendTimeoutMs: 1000,
      handle: async (batch) => {
        calls += 1;
        if (calls === 1) await first.promise;
        for (const entry of batch) entry.resolve();
      },
    });
    const sentFirst = queue.enqueue(record('a'));
    await settle();
    const expired = queue.enqueue(record('b')).then(
      () => 'acknowledged',
      (error: unknown) => codeOf(error),
    );
    vi.advanceTimersByTime(999);
    const fresh = queue.enqueue(record('c'));
    vi.advanceTimersByTime(1);

    first.resolve();
    await sentFirst;
    await fresh;
    expect(await expired).toBe('KAFKA_SEND_TIMEOUT');
    expect(batches).toEqual([['a'], ['c']]);
    expect(queue.pending()).toBe(0);
  });

  it('puts requeued entries back at the front, in order, before records that arrived meanwhile', async () => {
    let calls = 0;
    let enqueueLater: () => void = () => undefined;
    const { queue, batches } = queueWith({
      handle: async (batch, requeue) => {
        calls += 1;
        if (calls === 1) {
          enqueueLater();
          batch[2]!.resolve();
          requeue([batch[0]!, batch[1]!]);
          return;
        }
        for (const entry of batch) entry.resolve();
        await Promise.resolve();
      },
    });
    const later: Array<Promise<void>> = [];
    enqueueLater = () => later.push(queue.enqueue(record('d')), queue.enqueue(record('e')));
    await Promise.all([queue.enqueue(record('a')), queue.enqueue(record('b')), queue.enqueue(record('c'))]);
    await Promise.all(later);
    expect(batches).toEqual([
      ['a', 'b', 'c'],
      ['a', 'b', 'd', 'e'],
    ]);
  });

  it('drain resolves at once when nothing is pending, and refuses records afterwards', async () => {
    const { queue, batches } = queueWith();
    await queue.drain();
    expect(queue.isDraining()).toBe(true);
    await expect(queue.enqueue(record('a'))).rejects.toMatchObject({ code: 'KAFKA_PRODUCER_STOPPED', retriable: true });
    expect(batches).toEqual([]);
  });

  it('drain resolves only once every queued and in-flight record is settled', async () => {
    const first = deferred();
    let calls = 0;
    const { queue, batches } = queueWith({
      handle: async (batch) => {
        calls += 1;
        if (calls === 1) await first.promise;
        for (const entry of batch) entry.resolve();
      },
    });
    const sent = [queue.enqueue(record('a'))];
    await settle();
    sent.push(queue.enqueue(record('b')));
    let drained = false;
    const draining = queue.drain().then(() => (drained = true));
    await expect(queue.enqueue(record('c'))).rejects.toMatchObject({ code: 'KAFKA_PRODUCER_STOPPED' });
    await settle();
    expect(drained).toBe(false);

    first.resolve();
    await draining;
    await Promise.all(sent);
    expect(batches).toEqual([['a'], ['b']]);
    expect(queue.pending()).toBe(0);
  });
});
