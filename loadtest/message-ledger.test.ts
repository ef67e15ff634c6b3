import { describe, expect, it } from 'vitest';
import { compareLedgers, createMessageLedger } from './message-ledger.ts';

describe('message ledger', () => {
  it('counts distinct pairs and all sightings', () => {
    const ledger = createMessageLedger(2);
    ledger.add(0, 0);
    ledger.add(0, 0);
    ledger.add(1, 1000);
    expect(ledger.distinct()).toBe(2);
    expect(ledger.total()).toBe(3);
    expect(ledger.times(0, 0)).toBe(2);
    expect(ledger.times(1, 999)).toBe(0);
    expect(ledger.times(1, 5000)).toBe(0);
  });

  it('saturates the per-pair count at 255 but keeps the total exact', () => {
    const ledger = createMessageLedger(1);
    for (let i = 0; i < 300; i += 1) ledger.add(0, 7);
    expect(ledger.times(0, 7)).toBe(255);
    expect(ledger.total()).toBe(300);
  });

  it('refuses device indexes and seqs out of range', () => {
    const ledger = createMessageLedger(1);
    expect(() => ledger.add(1, 0)).toThrow(RangeError);
    expect(() => ledger.add(0, -1)).toThrow(RangeError);
    expect(() => ledger.add(0, 1.5)).toThrow(RangeError);
  });

  it('finds missing, duplicated and unexpected messages', () => {
    const acked = createMessageLedger(2);
    const stored = createMessageLedger(2);
    for (let seq = 0; seq < 10; seq += 1) {
      acked.add(0, seq);
      acked.add(1, seq);
    }
    for (let seq = 0; seq < 10; seq += 1) if (seq !== 3) stored.add(0, seq);
    for (let seq = 0; seq < 10; seq += 1) stored.add(1, seq);
    stored.add(1, 4); // redelivered
    stored.add(1, 4);
    stored.add(1, 42); // sent but never acknowledged, still arrived
    const comparison = compareLedgers(acked, stored);
    expect(comparison).toEqual({ missing: 1, duplicates: 2, unexpected: 1, missingExamples: [{ deviceIndex: 0, seq: 3 }] });
  });

  it('reports nothing when the stage holds exactly what was expected', () => {
    const a = createMessageLedger(3);
    const b = createMessageLedger(3);
    for (let d = 0; d < 3; d += 1) {
      for (let s = 0; s < 100; s += 1) {
        a.add(d, s);
        b.add(d, s);
      }
    }
    expect(compareLedgers(a, b)).toEqual({ missing: 0, duplicates: 0, unexpected: 0, missingExamples: [] });
  });
});
