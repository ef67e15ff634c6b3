import { afterEach, describe, expect, it, vi } from 'vitest';
import type { OutgoingRecord } from '../core/kafka-port.ts';
import { InfraError } from '../core/errors.ts';
import { createSendQueue, type BatchBytes, type QueuedRecord, type Requeue, type SendQueue } from './send-queue.ts';

function record(name: string, topic = 't'): OutgoingRecord {
  return { topic, key: name, value: Buffer.from(name), headers: {} };
}

/** Byte accounting where a record weighs what its key's number says ('a40' weighs 40) and topics have fixed capacities. */
function weighedBy(capacities: Record<string, number>): BatchBytes {
  return { recordBytes: (one) => Number(one.key?.replace(/^\D+/, '')), capacityBytes: (topic) => capacities[topic] };
}

function deferred(): { promise: Promise<void>; resolve: () => void } {
  let resolve!: () => void;
  const promise = new Promise<void>((done) => (resolve = done));
  return { promise, resolve };
}

type Handler = (batch: QueuedRecord[], requeue: Requeue<QueuedRecord>) => Promise<void>;

/** Acknowledges every record, but sends the first batch only once `gate` resolves (a request in flight). */
function holdingFirstBatch(gate: Promise<void>): Handler {
  let calls = 0;
  return async (batch) => {
    calls += 1;
    if (calls === 1) await gate;
    for (const entry of batch) entry.resolve();
  };
}

/** A queue whose sends are recorded (by key) and handled by `handle`; by default every record is acknowledged at once. */
function queueWith(
  options: { maxBatchRecords?: number; maxQueuedRecords?: number; maxQueuedBytes?: number; sendTimeoutMs?: number; lingerMs?: number; batchBytes?: BatchBytes; handle?: Handler } = {},
): { queue: SendQueue; batches: string[][] } {
  const batches: string[][] = [];
  const acknowledgeAll: Handler = async (batch) => {
    for (const entry of batch) entry.resolve();
    await Promise.resolve();
  };
  const handle = options.handle ?? acknowledgeAll;
  const queue = createSendQueue<QueuedRecord>({
    sendTimeoutMs: options.sendTimeoutMs ?? 10_000,
    lingerMs: options.lingerMs ?? 0,
    maxBatchRecords: options.maxBatchRecords ?? 100,
    maxQueuedRecords: options.maxQueuedRecords ?? 1_000_000,
    maxQueuedBytes: options.maxQueuedBytes ?? 1e12,
    batchBytes: options.batchBytes,
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

  it('counts its requests, the records they carried and how long each took until its records were settled', async () => {
    const gate = deferred();
    const { queue } = queueWith({ maxBatchRecords: 3, handle: holdingFirstBatch(gate.promise) });
    expect(queue.requests()).toEqual({ count: 0, records: 0, seconds: 0 });
    const sent = ['a', 'b', 'c', 'd', 'e'].map((name) => queue.enqueue(record(name)));
    await settle();
    // the first request is in flight and not counted until its records are settled
    expect(queue.requests().count).toBe(0);
    await new Promise((resolve) => setTimeout(resolve, 30));
    gate.resolve();
    await Promise.all(sent);
    await settle();
    const { count, records, seconds } = queue.requests();
    expect({ count, records }).toEqual({ count: 2, records: 5 });
    // the first one was held ~30 ms (a timer may fire a millisecond early)
    expect(seconds).toBeGreaterThanOrEqual(0.025);
  });

  it('with linger, sends a lone record at once and spaces the next request, which carries what came meanwhile', async () => {
    const { queue, batches } = queueWith({ lingerMs: 40 });
    void queue.enqueue(record('a'));
    await settle();
    expect(batches).toEqual([['a']]);
    const later = Promise.all(['b', 'c'].map((name) => queue.enqueue(record(name))));
    await settle();
    expect(batches).toEqual([['a']]);
    await later;
    expect(batches).toEqual([['a'], ['b', 'c']]);
  });

  it('with linger, sends a full batch without waiting, and drain flushes at once', async () => {
    const { queue, batches } = queueWith({ lingerMs: 60_000, maxBatchRecords: 2 });
    void queue.enqueue(record('a'));
    await settle();
    const full = Promise.all(['b', 'c'].map((name) => queue.enqueue(record(name))));
    await full;
    expect(batches).toEqual([['a'], ['b', 'c']]);
    const tail = queue.enqueue(record('d'));
    await settle();
    expect(batches).toHaveLength(2);
    await queue.drain();
    await tail;
    expect(batches).toEqual([['a'], ['b', 'c'], ['d']]);
  });

  it('keeps one request in flight; records arriving meanwhile go out together in the next', async () => {
    const first = deferred();
    const { queue, batches } = queueWith({ handle: holdingFirstBatch(first.promise) });
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

  it('caps each batch by the record bytes its topic takes, besides the record count', async () => {
    const { queue, batches } = queueWith({ maxBatchRecords: 3, batchBytes: weighedBy({ t: 100 }) });
    await Promise.all(['a40', 'b40', 'c40', 'd10', 'e10', 'f100', 'g1', 'h1', 'i1', 'j1'].map((name) => queue.enqueue(record(name))));
    expect(batches).toEqual([['a40', 'b40'], ['c40', 'd10', 'e10'], ['f100'], ['g1', 'h1', 'i1'], ['j1']]);
  });

  it('counts bytes per topic, and caps only by count a topic whose capacity is not known', async () => {
    const { queue, batches } = queueWith({ maxBatchRecords: 10, batchBytes: weighedBy({ t: 100 }) });
    const names: Array<[string, string]> = [['a60', 't'], ['b60', 'u'], ['c60', 'u'], ['d40', 't'], ['e1', 't']];
    await Promise.all(names.map(([name, topic]) => queue.enqueue(record(name, topic))));
    expect(batches).toEqual([['a60', 'b60', 'c60', 'd40'], ['e1']]);
  });

  it('refuses at once, not retriable, a record larger than its topic takes in a batch, and sends the others', async () => {
    const { queue, batches } = queueWith({ batchBytes: weighedBy({ t: 100 }) });
    const small = queue.enqueue(record('a10'));
    await expect(queue.enqueue(record('b101'))).rejects.toMatchObject({ code: 'KAFKA_RECORD_TOO_LARGE', retriable: false, message: expect.stringContaining('101 bytes') as unknown });
    await small;
    await settle();
    expect(batches).toEqual([['a10']]);
    expect(queue.pending()).toBe(0);
  });

  it('after a split requeue sends the next batch with at most half of the requeued records, then batches as usual', async () => {
    let calls = 0;
    const { queue, batches } = queueWith({
      handle: async (batch, requeue) => {
        calls += 1;
        if (calls === 1) {
          requeue(batch, { split: true });
          return;
        }
        for (const entry of batch) entry.resolve();
        await Promise.resolve();
      },
    });
    await Promise.all(['a', 'b', 'c', 'd', 'e'].map((name) => queue.enqueue(record(name))));
    expect(batches).toEqual([
      ['a', 'b', 'c', 'd', 'e'],
      ['a', 'b', 'c'],
      ['d', 'e'],
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
    const { queue, batches } = queueWith({ handle: holdingFirstBatch(first.promise) });
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

describe('createSendQueue bounds', () => {
  const outcome = (sent: Promise<void>): Promise<string> =>
    sent.then(
      () => 'acknowledged',
      (error: unknown) => codeOf(error) ?? 'other',
    );

  it('refuses a sheddable record once the queue holds half its records, and takes it again once they settled', async () => {
    const first = deferred();
    const { queue, batches } = queueWith({ maxQueuedRecords: 4, handle: holdingFirstBatch(first.promise) });
    const held = [queue.enqueue(record('a'), { sheddable: true }), queue.enqueue(record('b'), { sheddable: true })];
    await settle();
    await expect(queue.enqueue(record('c'), { sheddable: true })).rejects.toMatchObject({ code: 'KAFKA_QUEUE_FULL', retriable: true });
    expect(queue.pending()).toBe(2);

    first.resolve();
    await Promise.all(held);
    await queue.enqueue(record('d'), { sheddable: true });
    expect(batches).toEqual([['a', 'b'], ['d']]);
  });

  it('refuses a sheddable record once the queue holds half its bytes', async () => {
    const first = deferred();
    const { queue } = queueWith({ maxQueuedBytes: 100, batchBytes: weighedBy({}), handle: holdingFirstBatch(first.promise) });
    const held = queue.enqueue(record('a40'), { sheddable: true });
    await settle();
    expect(queue.pendingBytes()).toBe(40);
    await expect(queue.enqueue(record('b20'), { sheddable: true })).rejects.toMatchObject({ code: 'KAFKA_QUEUE_FULL' });
    const fits = queue.enqueue(record('c10'), { sheddable: true });
    first.resolve();
    await Promise.all([held, fits]);
    expect(queue.pendingBytes()).toBe(0);
  });

  it('keeps a record that may not be shed waiting at the bound, in arrival order, until settled records make room', async () => {
    const first = deferred();
    const { queue, batches } = queueWith({ maxQueuedRecords: 2, maxBatchRecords: 1, handle: holdingFirstBatch(first.promise) });
    const sent = ['a', 'b', 'c', 'd'].map((name) => queue.enqueue(record(name)));
    await settle();
    expect(queue.pending()).toBe(4);
    // Records waiting for room are not overtaken by records that may be shed.
    await expect(queue.enqueue(record('e'), { sheddable: true })).rejects.toMatchObject({ code: 'KAFKA_QUEUE_FULL' });
    expect(batches).toEqual([['a']]);

    first.resolve();
    await Promise.all(sent);
    expect(batches).toEqual([['a'], ['b'], ['c'], ['d']]);
    expect(queue.pending()).toBe(0);
  });

  it('waits for room in bytes as well as records, but takes a lone record larger than the byte bound', async () => {
    const first = deferred();
    const { queue, batches } = queueWith({ maxQueuedBytes: 100, batchBytes: weighedBy({}), handle: holdingFirstBatch(first.promise) });
    const big = queue.enqueue(record('a150'));
    await settle();
    const next = queue.enqueue(record('b10'));
    await settle();
    expect(batches).toEqual([['a150']]);
    expect(queue.pendingBytes()).toBe(160);

    first.resolve();
    await Promise.all([big, next]);
    expect(batches).toEqual([['a150'], ['b10']]);
  });

  it('fails a record that waited for room longer than the send timeout', async () => {
    vi.useFakeTimers({ toFake: ['Date'] });
    const first = deferred();
    const { queue, batches } = queueWith({ sendTimeoutMs: 1000, maxQueuedRecords: 1, handle: holdingFirstBatch(first.promise) });
    const sentFirst = queue.enqueue(record('a'));
    await settle();
    const waited = outcome(queue.enqueue(record('b')));
    vi.advanceTimersByTime(1000);
    first.resolve();
    await sentFirst;
    expect(await waited).toBe('KAFKA_SEND_TIMEOUT');
    expect(batches).toEqual([['a']]);
    expect(queue.pending()).toBe(0);
  });
});
