/**
 * Offset commits gathered into fewer requests. The enricher handles up to twelve partition batches
 * at once and writes their rows in one QuestDB transaction, so their commits arrive together; each
 * was one OffsetCommit request, and at low rates Kafka's cost is per request (docs/kafka-tuning.md).
 *
 * Commits that arrive in the same event-loop turn, or while a request is in flight, go in the next
 * request, with the highest offset per partition. Each caller's promise settles with the request
 * that carried its offsets: resolved once Kafka took them, rejected with that request's error (the
 * caller then leaves its batch uncommitted, as before).
 */
export interface OffsetToCommit {
  topic: string;
  partition: number;
  /** The next offset to read, as Kafka's commit expects it. */
  offset: string;
}

export function createCommitBatcher(send: (offsets: OffsetToCommit[]) => Promise<void>): (offsets: readonly OffsetToCommit[]) => Promise<void> {
  let pending = new Map<string, OffsetToCommit>();
  let waiters: Array<{ resolve: () => void; reject: (error: unknown) => void }> = [];
  let flushing = false;

  const flush = async (): Promise<void> => {
    while (waiters.length > 0) {
      const offsets = [...pending.values()];
      const settled = waiters;
      pending = new Map();
      waiters = [];
      try {
        await send(offsets);
        for (const waiter of settled) waiter.resolve();
      } catch (error) {
        for (const waiter of settled) waiter.reject(error);
      }
    }
    flushing = false;
  };

  return (offsets) =>
    new Promise<void>((resolve, reject) => {
      for (const next of offsets) {
        const key = `${next.topic}|${next.partition}`;
        const current = pending.get(key);
        if (current === undefined || BigInt(next.offset) > BigInt(current.offset)) pending.set(key, next);
      }
      waiters.push({ resolve, reject });
      if (flushing) return;
      flushing = true;
      // The commits of batches written together reach here in the same turn: one request for all.
      setImmediate(() => void flush());
    });
}
