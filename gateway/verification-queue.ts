/**
 * Runs at most `concurrency` secret verifications at once, with at most `queueMax` more waiting; past
 * that a verification is refused at once. scrypt runs on libuv's thread pool (4 threads by default),
 * which DNS lookups and file I/O share: bounding it keeps a flood of CONNECTs from starving them and
 * from taking every core from the event loop.
 */
export interface VerificationQueue {
  /** Runs `task` when a slot is free; undefined, without running it, when the queue is full. */
  tryRun<T>(task: () => Promise<T>): Promise<T> | undefined;
}

export function createVerificationQueue(options: { concurrency: number; queueMax: number }): VerificationQueue {
  let running = 0;
  const waiting: Array<() => void> = [];

  const release = (): void => {
    const next = waiting.shift();
    // the slot passes straight to the next waiter, so `running` stays the same
    if (next) next();
    else running -= 1;
  };

  const slot = (): Promise<void> => {
    if (running < options.concurrency) {
      running += 1;
      return Promise.resolve();
    }
    return new Promise((resolve) => waiting.push(resolve));
  };

  return {
    tryRun(task) {
      if (running >= options.concurrency && waiting.length >= options.queueMax) return undefined;
      return slot().then(async () => {
        try {
          return await task();
        } finally {
          release();
        }
      });
    },
  };
}
