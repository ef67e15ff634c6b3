/**
 * Keeps a device's acknowledgements in the order its publishes arrived, although Kafka may
 * acknowledge them out of order, and counts what is pending per client and overall so the gateway
 * can stop reading from devices before memory grows without bound.
 *
 * Aedes writes the PUBACK when the authorizePublish callback runs, so calling callbacks in arrival
 * order gives in-order PUBACKs [MQTT-4.6.0-2]. A failed publish calls back with its error, which
 * makes Aedes close the connection without acknowledging it; the device resends after reconnecting.
 */

export type AckCallback = (error?: Error | null) => void;

interface Entry {
  done: boolean;
  error: Error | null;
  callback: AckCallback;
}

export interface AckSequencerOptions<C> {
  perClientMax: number;
  globalMax: number;
  /** Called when a client must stop (on=true) or may resume (on=false) sending, and why. */
  onThrottle: (client: C, reason: 'client' | 'global', on: boolean) => void;
}

export interface AckSequencer<C> {
  /** Registers a publish whose outcome is `work`; `callback` runs in arrival order per client. */
  submit(client: C, work: Promise<void>, callback: AckCallback): void;
  pendingFor(client: C): number;
  pendingTotal(): number;
  /** Forget a client that disconnected (its pending callbacks still run when their work settles). */
  forget(client: C): void;
}

export function createAckSequencer<C>(options: AckSequencerOptions<C>): AckSequencer<C> {
  const queues = new Map<C, Entry[]>();
  const throttledByClientCap = new Set<C>();
  const throttledByGlobalCap = new Set<C>();
  let total = 0;
  // Resume below half the cap, so throttling does not flap on every message.
  const clientResumeAt = Math.floor(options.perClientMax / 2);
  const globalResumeAt = Math.floor(options.globalMax / 2);

  const drain = (client: C, queue: Entry[]): void => {
    let released = 0;
    while (queue.length > 0 && queue[0]!.done) {
      const entry = queue.shift()!;
      released += 1;
      entry.callback(entry.error);
    }
    total -= released;
    if (queue.length === 0 && queues.get(client) === queue) queues.delete(client);
    if (throttledByClientCap.has(client) && queue.length <= clientResumeAt) {
      throttledByClientCap.delete(client);
      options.onThrottle(client, 'client', false);
    }
    if (throttledByGlobalCap.size > 0 && total <= globalResumeAt) {
      const waiting = [...throttledByGlobalCap];
      throttledByGlobalCap.clear();
      for (const other of waiting) options.onThrottle(other, 'global', false);
    }
  };

  return {
    submit(client, work, callback) {
      let queue = queues.get(client);
      if (!queue) queues.set(client, (queue = []));
      const entry: Entry = { done: false, error: null, callback };
      queue.push(entry);
      total += 1;
      if (queue.length >= options.perClientMax && !throttledByClientCap.has(client)) {
        throttledByClientCap.add(client);
        options.onThrottle(client, 'client', true);
      }
      if (total >= options.globalMax && !throttledByGlobalCap.has(client)) {
        throttledByGlobalCap.add(client);
        options.onThrottle(client, 'global', true);
      }
      const owned = queue;
      work.then(
        () => {
          entry.done = true;
          drain(client, owned);
        },
        (error: unknown) => {
          entry.done = true;
          entry.error = error instanceof Error ? error : new Error(String(error));
          drain(client, owned);
        },
      );
    },
    pendingFor: (client) => queues.get(client)?.length ?? 0,
    pendingTotal: () => total,
    forget(client) {
      throttledByClientCap.delete(client);
      throttledByGlobalCap.delete(client);
    },
  };
}
