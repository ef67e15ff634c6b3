import { createRequire } from 'node:module';
import { describe, expect, it } from 'vitest';
import { murmur2, partitionForKey } from './key-partitioner.ts';

// kafkajs' Java-compatible murmur2 serves as the reference implementation.
const reference = createRequire(import.meta.url)('kafkajs/src/producer/partitioners/default/murmur2.js') as (key: Buffer) => number;

describe('murmur2 key partitioning', () => {
  it('matches the reference for keys of every tail length and content', () => {
    const keys = ['', 'a', 'ab', 'abc', 'abcd', 'sensor-1', 'device-000123', 'ü-ñ-日本', 'x'.repeat(257)];
    for (let i = 0; i < 500; i += 1) keys.push(`dev-${i}-${(i * 7919) % 1000}`);
    for (const key of keys) expect(murmur2(Buffer.from(key)), key).toBe(reference(Buffer.from(key)));
  });

  it('spreads keys over all partitions, always in range', () => {
    const seen = new Set<number>();
    for (let i = 0; i < 1000; i += 1) {
      const partition = partitionForKey(`device-${i}`, 12);
      expect(partition).toBeGreaterThanOrEqual(0);
      expect(partition).toBeLessThan(12);
      seen.add(partition);
    }
    expect(seen.size).toBe(12);
  });
});
