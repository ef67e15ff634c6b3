/**
 * Counting messages by (device, seq): how the benchmark proves nothing was lost or duplicated.
 *
 * A ledger holds, per device index, how many times each seq was seen (saturating at 255). The
 * simulator fills one ledger with what it sent and one with what was acknowledged; the auditors
 * fill one from the Kafka topic and one from QuestDB. `compareLedgers` then says which expected
 * messages are missing, which arrived more than once, and which arrived without being expected.
 */

export interface MessageLedger {
  readonly deviceCount: number;
  /** Notes one sighting of `seq` (a non-negative integer) from device `deviceIndex`. */
  add(deviceIndex: number, seq: number): void;
  /** How many times (deviceIndex, seq) was seen, at most 255. */
  times(deviceIndex: number, seq: number): number;
  /** Distinct (device, seq) pairs seen. */
  distinct(): number;
  /** All sightings, repeats included (exact, not saturated). */
  total(): number;
  /** Calls `visit` for every distinct pair with its count. */
  forEach(visit: (deviceIndex: number, seq: number, times: number) => void): void;
}

export interface LedgerComparison {
  /** Expected pairs never observed. */
  missing: number;
  /** Observed copies beyond the first of each pair (expected or not). */
  duplicates: number;
  /** Distinct observed pairs that were not expected. */
  unexpected: number;
  /** A few missing pairs, for the report. */
  missingExamples: Array<{ deviceIndex: number; seq: number }>;
}

/** Creates an empty ledger for devices 0..deviceCount-1. Memory: one byte per seq slot per device. */
export function createMessageLedger(deviceCount: number): MessageLedger {
  const perDevice: Uint8Array[] = Array.from({ length: deviceCount }, () => new Uint8Array(0));
  let distinct = 0;
  let total = 0;

  const slotFor = (deviceIndex: number, seq: number): Uint8Array => {
    if (!Number.isInteger(deviceIndex) || deviceIndex < 0 || deviceIndex >= deviceCount) throw new RangeError(`device index ${deviceIndex} outside 0..${deviceCount - 1}`);
    if (!Number.isSafeInteger(seq) || seq < 0) throw new RangeError(`seq ${seq} is not a non-negative integer`);
    let counts = perDevice[deviceIndex]!;
    if (seq >= counts.length) {
      const grown = new Uint8Array(Math.max(seq + 1, counts.length * 2, 64));
      grown.set(counts);
      perDevice[deviceIndex] = counts = grown;
    }
    return counts;
  };

  return {
    deviceCount,
    add(deviceIndex, seq) {
      const counts = slotFor(deviceIndex, seq);
      if (counts[seq] === 0) distinct += 1;
      if (counts[seq]! < 255) counts[seq]! += 1;
      total += 1;
    },
    times(deviceIndex, seq) {
      const counts = perDevice[deviceIndex];
      return counts === undefined || seq >= counts.length ? 0 : counts[seq]!;
    },
    distinct: () => distinct,
    total: () => total,
    forEach(visit) {
      perDevice.forEach((counts, deviceIndex) => {
        for (let seq = 0; seq < counts.length; seq += 1) if (counts[seq]! > 0) visit(deviceIndex, seq, counts[seq]!);
      });
    },
  };
}

/** Compares what was observed at a stage with what that stage should hold. */
export function compareLedgers(expected: MessageLedger, observed: MessageLedger, maxExamples = 10): LedgerComparison {
  const comparison: LedgerComparison = { missing: 0, duplicates: observed.total() - observed.distinct(), unexpected: 0, missingExamples: [] };
  expected.forEach((deviceIndex, seq) => {
    if (observed.times(deviceIndex, seq) === 0) {
      comparison.missing += 1;
      if (comparison.missingExamples.length < maxExamples) comparison.missingExamples.push({ deviceIndex, seq });
    }
  });
  observed.forEach((deviceIndex, seq) => {
    if (expected.times(deviceIndex, seq) === 0) comparison.unexpected += 1;
  });
  return comparison;
}
