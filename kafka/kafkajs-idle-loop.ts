/**
 * Stops kafkajs 2.2.4's idle timer loop. After every response its request queue re-arms a timer to
 * look for pending requests, also when there are none and nothing is throttled: the delay is then
 * negative, Node runs it after 1 ms, and it re-arms itself. So every broker connection of every
 * kafkajs client wakes its process a thousand times a second for nothing (kafkajs issues #1556 and
 * #1704; the fix was never released). Node 24 also prints a TimeoutNegativeWarning for each.
 *
 * The patch skips arming the timer when no request waits and no throttle is in force; every other
 * case runs kafkajs's own code. Nothing is lost: a request that cannot be sent at once is queued by
 * `push`, which arms the timer itself, and a finished request checks the queue (docs/adr/0011).
 *
 * Each connection also checks its requests in flight for timeouts every min(requestTimeout, 100) ms,
 * for as long as it is open: a few connections per process woke it tens of times a second at rest.
 * The patch runs kafkajs's own check once a second (or every requestTimeout ms when shorter): a
 * request that timed out (kafkajs's default 30 s, our clients' 10 s) fails up to a second later.
 *
 * If an upgrade changes the class's shape, nothing is patched and only the warning is dropped.
 */
import { kafkajsPrototype } from './kafkajs-internals.ts';

interface RequestQueueShape {
  pending: unknown[];
  throttledUntil: number;
  requestTimeout: number;
  scheduleCheckPendingRequests(): void;
  scheduleRequestTimeoutCheck(): void;
}

/** How often, at most, a connection looks for requests that timed out. */
export const requestTimeoutCheckMs = 1000;

let installed: 'patched' | 'unpatched' | null = null;

/** Installs the patch once per process; returns whether kafkajs had the expected shape. */
export function stopKafkajsIdleLoop(): 'patched' | 'unpatched' {
  if (installed !== null) return installed;
  const queue = kafkajsPrototype<RequestQueueShape>('kafkajs/src/network/requestQueue/index.js', 'scheduleCheckPendingRequests');
  if (queue === null) {
    dropNegativeTimeoutWarnings();
    installed = 'unpatched';
    return installed;
  }
  const schedule = queue.scheduleCheckPendingRequests;
  queue.scheduleCheckPendingRequests = function (this: RequestQueueShape) {
    if (this.pending.length === 0 && this.throttledUntil <= Date.now()) return;
    schedule.call(this);
  };
  const scheduleTimeoutCheck = queue.scheduleRequestTimeoutCheck;
  if (typeof scheduleTimeoutCheck === 'function') {
    queue.scheduleRequestTimeoutCheck = function (this: RequestQueueShape) {
      // kafkajs's own method and check; only the period of the interval it arms is longer.
      const period = Math.min(this.requestTimeout, requestTimeoutCheckMs);
      const setIntervalBefore = globalThis.setInterval;
      globalThis.setInterval = ((callback: () => void, ms?: number) => setIntervalBefore(callback, Math.max(ms ?? 0, period)));
      try {
        scheduleTimeoutCheck.call(this);
      } finally {
        globalThis.setInterval = setIntervalBefore;
      }
    };
  }
  installed = 'patched';
  return installed;
}

function dropNegativeTimeoutWarnings(): void {
  process.removeAllListeners('warning');
  process.on('warning', (warning) => {
    if (warning.name !== 'TimeoutNegativeWarning') process.stderr.write(`${warning.stack ?? `${warning.name}: ${warning.message}`}\n`);
  });
}
