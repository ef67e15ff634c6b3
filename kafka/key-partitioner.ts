/**
 * Kafka's default partitioning of keyed records: murmur2 (the Java client's variant, seed
 * 0x9747b28c) of the key bytes, made positive, modulo the partition count. Computing it ourselves
 * lets the producer know which partitions a batch must be acknowledged for.
 */

const seed = 0x9747b28c;
const m = 0x5bd1e995;

export function murmur2(data: Buffer): number {
  const length = data.length;
  let h = (seed ^ length) | 0;
  let index = 0;
  for (; index + 4 <= length; index += 4) {
    let k = data.readInt32LE(index);
    k = Math.imul(k, m);
    k ^= k >>> 24;
    k = Math.imul(k, m);
    h = Math.imul(h, m) ^ k;
  }
  const remaining = length - index;
  if (remaining === 3) h ^= data[index + 2]! << 16;
  if (remaining >= 2) h ^= data[index + 1]! << 8;
  if (remaining >= 1) h = Math.imul(h ^ data[index]!, m);
  h ^= h >>> 13;
  h = Math.imul(h, m);
  h ^= h >>> 15;
  return h | 0;
}

export function partitionForKey(key: string | Buffer, partitionCount: number): number {
  const bytes = typeof key === 'string' ? Buffer.from(key, 'utf8') : key;
  return (murmur2(bytes) & 0x7fffffff) % partitionCount;
}
