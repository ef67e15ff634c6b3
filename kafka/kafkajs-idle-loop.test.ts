import { createRequire } from 'node:module';
import { setTimeout as delay } from 'node:timers/promises';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { requestTimeoutCheckMs, stopKafkajsIdleLoop } from './kafkajs-idle-loop.ts';

interface Queue {
  pending: unknown[];
  throttledUntil: number;
  throttleCheckTimeoutId: NodeJS.Timeout | null;
  inflight: Map<number, unknown>;
  checkPendingRequests(): void;
  scheduleRequestTimeoutCheck(): void;
  destroy(): void;
}

const require = createRequire(import.meta.url);
const RequestQueue = require('kafkajs/src/network/requestQueue/index.js') as new (options: object) => Queue;
const silent = { debug() {}, info() {}, warn() {}, error() {} };
const queues: Queue[] = [];

function idleQueue(): { queue: Queue; checks: () => number } {
  const queue = new RequestQueue({ maxInFlightRequests: 1, requestTimeout: 1000, enforceRequestTimeout: false, clientId: 'test', broker: 'b:1', logger: silent });
  let checks = 0;
  const check = queue.checkPendingRequests.bind(queue);
  queue.checkPendingRequests = () => {
    checks += 1;
    check();
  };
  queues.push(queue);
  return { queue, checks: () => checks };
}

afterEach(() => {
  for (const queue of queues.splice(0)) queue.destroy();
  vi.useRealTimers();
});

/** A queue enforcing `requestTimeoutMs` with one request in flight that timed out long ago; counts the timeouts kafkajs reports. */
function queueWithStaleRequest(requestTimeoutMs: number): { queue: Queue; timeouts: () => number } {
  const queue = new RequestQueue({ maxInFlightRequests: 1, requestTimeout: requestTimeoutMs, enforceRequestTimeout: true, clientId: 'test', broker: 'b:1', logger: silent });
  let timeouts = 0;
  queue.inflight.set(1, { sentAt: 0, requestTimeout: requestTimeoutMs, timeoutRequest: () => void (timeouts += 1) });
  queues.push(queue);
  return { queue, timeouts: () => timeouts };
}

describe('stopKafkajsIdleLoop', () => {
  it('patches the kafkajs version we pin', () => {
    expect(stopKafkajsIdleLoop()).toBe('patched');
  });

  it('leaves an idle queue without a timer, where kafkajs alone re-arms one every millisecond', async () => {
    stopKafkajsIdleLoop();
    const { queue, checks } = idleQueue();
    queue.checkPendingRequests(); // what kafkajs does after each response
    await delay(50);
    expect(checks()).toBe(1);
    expect(queue.throttleCheckTimeoutId).toBeNull();
  });

  it('still arms the timer while a request waits or a throttle is in force', () => {
    stopKafkajsIdleLoop();
    const throttled = idleQueue().queue;
    throttled.throttledUntil = Date.now() + 60_000;
    throttled.checkPendingRequests();
    expect(throttled.throttleCheckTimeoutId).not.toBeNull();

    const waiting = idleQueue().queue;
    waiting.pending.push({});
    (waiting as unknown as { scheduleCheckPendingRequests(): void }).scheduleCheckPendingRequests();
    expect(waiting.throttleCheckTimeoutId).not.toBeNull();
  });

  it('checks requests in flight for timeouts once a second, where kafkajs alone checks every 100 ms', () => {
    stopKafkajsIdleLoop();
    vi.useFakeTimers();
    const { queue, timeouts } = queueWithStaleRequest(30_000);
    queue.scheduleRequestTimeoutCheck(); // what kafkajs does when a connection opens
    vi.advanceTimersByTime(requestTimeoutCheckMs - 1);
    expect(timeouts()).toBe(0);
    vi.advanceTimersByTime(1);
    expect(timeouts()).toBe(1);
    vi.advanceTimersByTime(requestTimeoutCheckMs);
    expect(timeouts()).toBe(2);
  });

  it('checks at least every requestTimeout when that is shorter than a second', () => {
    stopKafkajsIdleLoop();
    vi.useFakeTimers();
    const { queue, timeouts } = queueWithStaleRequest(250);
    const setIntervalBefore = globalThis.setInterval;
    queue.scheduleRequestTimeoutCheck();
    expect(globalThis.setInterval).toBe(setIntervalBefore);
    vi.advanceTimersByTime(250);
    expect(timeouts()).toBe(1);
  });
});
