/**
 * What a test made, undone after it: each resource registers its cleanup as it is made; `runAll`
 * undoes them newest first, tries every one even when one fails, and reports the failures together.
 */
import { describeError } from '../core/errors.ts';

export interface Cleanups {
  add(cleanup: () => Promise<void>): void;
  runAll(): Promise<void>;
}

export function createCleanups(): Cleanups {
  const pending: Array<() => Promise<void>> = [];
  return {
    add: (cleanup) => void pending.push(cleanup),
    async runAll() {
      const failures: unknown[] = [];
      for (const cleanup of pending.splice(0).reverse()) {
        try {
          await cleanup();
        } catch (error) {
          failures.push(error);
        }
      }
      if (failures.length > 0) throw new AggregateError(failures, `cleanup failed: ${failures.map((failure) => describeError(failure)).join('; ')}`);
    },
  };
}
