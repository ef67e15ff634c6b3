import { describe, expect, it } from 'vitest';
import { createCommitBatcher, type OffsetToCommit } from './commit-batcher.ts';

const offset = (partition: number, value: number): OffsetToCommit => ({ topic: 't', partition, offset: String(value) });

describe('createCommitBatcher', () => {
  it('sends the commits of one turn as one request, the highest offset per partition', async () => {
    const requests: OffsetToCommit[][] = [];
    const commit = createCommitBatcher(async (offsets) => void requests.push(offsets));
    await Promise.all([commit([offset(0, 10)]), commit([offset(1, 5)]), commit([offset(0, 12)]), commit([offset(0, 11), offset(2, 3)])]);
    expect(requests).toEqual([[offset(0, 12), offset(1, 5), offset(2, 3)]]);
  });

  it('holds commits that arrive while a request is in flight for the next one, and settles each with its own request', async () => {
    const requests: OffsetToCommit[][] = [];
    const gates = [Promise.withResolvers<void>(), Promise.withResolvers<void>()];
    const commit = createCommitBatcher(async (offsets) => {
      requests.push(offsets);
      await gates[requests.length - 1]!.promise;
    });
    let firstDone = false;
    const first = commit([offset(0, 1)]).then(() => (firstDone = true));
    await new Promise((resolve) => setImmediate(resolve));
    const second = commit([offset(1, 7)]);
    const third = commit([offset(1, 8)]);
    expect(requests).toHaveLength(1);
    gates[0]!.resolve();
    await first;
    expect(firstDone).toBe(true);
    await new Promise((resolve) => setImmediate(resolve));
    expect(requests).toEqual([[offset(0, 1)], [offset(1, 8)]]);
    gates[1]!.resolve();
    await Promise.all([second, third]);
  });

  it('rejects every caller of a failed request, and the next commits still go out', async () => {
    let fail = true;
    const requests: OffsetToCommit[][] = [];
    const commit = createCommitBatcher(async (offsets) => {
      requests.push(offsets);
      if (fail) throw new Error('rebalance in progress');
    });
    const results = await Promise.allSettled([commit([offset(0, 1)]), commit([offset(1, 1)])]);
    expect(results.map((result) => result.status)).toEqual(['rejected', 'rejected']);
    fail = false;
    await commit([offset(0, 2)]);
    expect(requests).toEqual([[offset(0, 1), offset(1, 1)], [offset(0, 2)]]);
  });
});
