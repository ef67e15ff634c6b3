import { createRecordsBatch } from '@platformatic/kafka';
import { describe, expect, it } from 'vitest';
import type { OutgoingRecord } from '../core/kafka-port.ts';
import { batchCapacityBytes, recordBatchHeaderBytes, recordBytes } from './record-batch-size.ts';

/** What @platformatic/kafka writes for these records in one batch (uncompressed). */
function encodedBatchBytes(records: readonly OutgoingRecord[]): number {
  const messages = records.map((record) => ({
    topic: record.topic,
    partition: 0,
    key: record.key === null ? undefined : Buffer.from(record.key),
    value: record.value ?? undefined,
    headers: new Map(Object.entries(record.headers).map(([name, value]) => [Buffer.from(name), Buffer.from(value)])),
  }));
  return createRecordsBatch(messages as never).length;
}

const record = (valueBytes: number, key: string | null = 'device-001', headers: Record<string, string> = { 'tributary-gateway': 'gw-1', 'tributary-received-at-ms': '1764633600000' }): OutgoingRecord => ({
  topic: 't',
  key,
  value: Buffer.alloc(valueBytes, 7),
  headers,
});

describe('recordBytes', () => {
  it('bounds what the client encodes, within the 13 bytes its two bounded deltas may leave over', () => {
    const cases = [record(0), record(1), record(63), record(64), record(200), record(16_383), record(16_384), record(61_440), record(1_000_000), record(10, null, {}), record(10, 'é'.repeat(40), { ü: 'ß' })];
    for (const one of cases) {
      const encoded = encodedBatchBytes([one]) - recordBatchHeaderBytes;
      expect(recordBytes(one), `value of ${one.value?.length} bytes`).toBeGreaterThanOrEqual(encoded);
      expect(recordBytes(one) - encoded).toBeLessThanOrEqual(13);
    }
  });

  it('adds up across a batch: the sum plus one header bounds the encoded batch', () => {
    const records = Array.from({ length: 300 }, (_, index) => record(index * 37));
    const sum = records.reduce((total, one) => total + recordBytes(one), 0);
    expect(sum + recordBatchHeaderBytes).toBeGreaterThanOrEqual(encodedBatchBytes(records));
  });
});

describe('batchCapacityBytes', () => {
  it('leaves room for the batch header only when uncompressed', () => {
    expect(batchCapacityBytes(1_048_588, 'none')).toBe(1_048_588 - recordBatchHeaderBytes);
  });

  it('leaves room for the worst-case growth of incompressible data under each codec', () => {
    expect(batchCapacityBytes(1_048_588, 'snappy')).toBeLessThan((1_048_588 * 6) / 7);
    for (const codec of ['gzip', 'lz4', 'zstd'] as const) {
      const capacity = batchCapacityBytes(1_048_588, codec);
      expect(capacity, codec).toBeLessThan(1_048_588 - recordBatchHeaderBytes);
      expect(capacity, codec).toBeGreaterThan(1_040_000);
    }
  });

  it('is never negative', () => {
    expect(batchCapacityBytes(10, 'gzip')).toBe(0);
  });
});
