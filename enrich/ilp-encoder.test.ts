import { describe, expect, it } from 'vitest';
import type { CanonicalRow } from './enrichment.ts';
import { createIlpEncoder } from './ilp-encoder.ts';
import { createReferenceBuffer as clientBuffer, referenceBytes as clientBytes, referenceCompleteness, referenceReading } from './ilp-client-reference.ts';

const tables = { readings: 'tst_readings', completeness: 'tst_device_completeness' };

// Deterministic pseudo-random values, so a failure is reproducible.
function random(seed: number): () => number {
  let state = seed;
  return () => {
    state = (state * 1103515245 + 12345) % 2147483648;
    return state / 2147483648;
  };
}

const awkward = ['plant-a', 'dev_0001.x', 'a b', 'a,b', 'a=b', 'back\\slash', 'two\nlines', 'cr\rhere', 'quote"d', 'ünïcödé', 'emoji 😀 here', '', '\\', ' ,= ', 'x'.repeat(300)];
const values = [0, -0, 1, -1, 0.1, 21.5, -273.15, 1e-300, 1.7976931348623157e308, Number.MIN_VALUE, 123456789.123456];

function readingRow(next: () => number, i: number): CanonicalRow {
  const pick = <T>(list: readonly T[]): T => list[Math.floor(next() * list.length)]!;
  return {
    ts: 1_764_000_000_000 + next() * 1e9, // fractional ms: sub-millisecond device time
    tsSource: next() < 0.5 ? 'device' : 'gateway',
    receivedAtMs: 1_764_000_000_000 + next() * 1e9,
    device: i % 3 === 0 ? pick(awkward) : `dev-${i}`,
    site: pick(awkward),
    model: pick(['m1', 'Model X', 'unknown']),
    metric: pick(['temperature', 'humidity', 'a=b']),
    value: next() < 0.3 ? pick(values) : (next() - 0.5) * 1e6,
    unit: pick(['', '°C', '%', 'm/s']),
    seq: Math.floor(next() * 2 ** 40),
  };
}

describe('createIlpEncoder', () => {
  it('writes the bytes the QuestDB client writes for the same readings rows, escapes and Unicode included', () => {
    const next = random(7);
    const encoder = createIlpEncoder(tables);
    const reference = clientBuffer();
    for (let i = 0; i < 2_000; i += 1) {
      const row = readingRow(next, i);
      const partition = Math.floor(next() * 64);
      const offset = Math.floor(next() * 2 ** 50);
      encoder.reading(row, partition, offset);
      referenceReading(reference, tables.readings, row, partition, offset);
    }
    expect(encoder.rowCount()).toBe(2_000);
    expect(encoder.take().equals(clientBytes(reference))).toBe(true);
  });

  it('writes the bytes the QuestDB client writes for completeness rows', () => {
    const next = random(11);
    const encoder = createIlpEncoder(tables);
    const reference = clientBuffer();
    for (let i = 0; i < 500; i += 1) {
      const device = { deviceId: awkward[i % awkward.length]!, received: i * 1000, duplicates: i % 7, gaps: Math.floor(next() * 100), resets: i % 2, lateArrivals: i % 3, highestSeq: i };
      const atMs = 1_764_000_000_000 + Math.floor(next() * 1e9);
      encoder.completeness(device, atMs);
      referenceCompleteness(reference, tables.completeness, device, atMs);
    }
    expect(encoder.take().equals(clientBytes(reference))).toBe(true);
  });

  it('writes integers at every digit count and both signs as the client does', () => {
    const encoder = createIlpEncoder(tables);
    const reference = clientBuffer();
    const row = readingRow(random(13), 1);
    const integers = [0, 1, 9, 10, 99, 100, 99_999_999, 100_000_000, 100_000_001, 1_000_000_007, 10 ** 15 + 5, Number.MAX_SAFE_INTEGER];
    for (const n of [...integers, ...integers.map((x) => -x)]) {
      encoder.reading({ ...row, seq: n }, 7, n === 0 ? 0 : Math.abs(n));
      referenceReading(reference, tables.readings, { ...row, seq: n }, 7, n === 0 ? 0 : Math.abs(n));
    }
    expect(encoder.take().equals(clientBytes(reference))).toBe(true);
  });

  it("writes a device's new site, model or unit, not the bytes it cached for the old ones", () => {
    const encoder = createIlpEncoder(tables);
    const reference = clientBuffer();
    const row = readingRow(random(17), 1);
    const variants: CanonicalRow[] = [row, { ...row, site: 'moved' }, { ...row, model: 'm2' }, { ...row, unit: 'K' }, { ...row, tsSource: row.tsSource === 'device' ? 'gateway' : 'device' }, row];
    // More variants than a device keeps: its list starts over, and still writes the right bytes.
    for (let i = 0; i < 20; i += 1) variants.push({ ...row, site: `site-${i}` });
    for (const [i, variant] of [...variants, ...variants].entries()) {
      encoder.reading(variant, 0, i);
      referenceReading(reference, tables.readings, variant, 0, i);
    }
    expect(encoder.take().equals(clientBytes(reference))).toBe(true);
  });

  it('grows past its first buffer and starts over after clear', () => {
    const encoder = createIlpEncoder(tables);
    const row = readingRow(random(3), 1);
    for (let i = 0; i < 5_000; i += 1) encoder.reading({ ...row, site: 'x'.repeat(100) }, 1, i);
    expect(encoder.take().length).toBeGreaterThan(64 * 1024);
    encoder.clear();
    expect(encoder.rowCount()).toBe(0);
    expect(encoder.take().length).toBe(0);
    encoder.reading(row, 0, 0);
    const reference = clientBuffer();
    referenceReading(reference, tables.readings, row, 0, 0);
    expect(encoder.take().equals(clientBytes(reference))).toBe(true);
  });

  it('refuses a value it cannot write, naming the column, and keeps the rows before it whole', () => {
    const encoder = createIlpEncoder(tables);
    const row = readingRow(random(5), 1);
    encoder.reading(row, 0, 1);
    const before = encoder.take();
    expect(() => encoder.reading({ ...row, value: Number.NaN }, 0, 2)).toThrow(/value: NaN is not a finite number/);
    expect(() => encoder.reading({ ...row, seq: 1.5 }, 0, 2)).toThrow(/seq: 1.5 is not a safe integer/);
    expect(() => encoder.reading(row, 0, 2 ** 60)).toThrow(/kafka_offset/);
    expect(encoder.rowCount()).toBe(1);
    expect(encoder.take().equals(before)).toBe(true);
  });

  it('refuses table names ILP would have to escape', () => {
    expect(() => createIlpEncoder({ readings: 'my readings', completeness: 'c' })).toThrow(RangeError);
  });
});
