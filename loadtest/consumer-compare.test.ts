import { describe, expect, it } from 'vitest';
import { alternatingOrder, missingOffsets, processedRanges } from './consumer-compare.ts';

describe('consumer comparison', () => {
  it('turns per-offset counts into ranges of counted offsets', () => {
    expect(processedRanges(Uint8Array.from([1, 2, 0, 0, 1, 1, 0, 1]))).toEqual([
      [0, 2],
      [4, 6],
      [7, 8],
    ]);
    expect(processedRanges(new Uint8Array(3))).toEqual([]);
  });

  it('counts the offsets no member covered, overlaps counted once', () => {
    const a = { ranges: [[[0, 6]], [[0, 2]]] as Array<Array<[number, number]>> };
    const b = { ranges: [[[4, 10]], [[3, 5]]] as Array<Array<[number, number]>> };
    expect(missingOffsets([], [10, 5], [a, b])).toBe(1);
    expect(missingOffsets([], [12, 5], [a, b])).toBe(3);
    expect(missingOffsets([0, 3], [10, 5], [a, b])).toBe(0);
  });

  it('alternates the adapters, rotating the order each round', () => {
    expect(alternatingOrder(['a', 'b'], 2)).toEqual([
      { round: 1, adapter: 'a' },
      { round: 1, adapter: 'b' },
      { round: 2, adapter: 'b' },
      { round: 2, adapter: 'a' },
    ]);
  });
});
