import { describe, expect, it } from 'vitest';
import { createLatencyHistogram } from './latency-histogram.ts';
import { cellLabel, cellPlan, deviceIds, endOffsetCheck, formatClientCompareTable, median, medianByCell, parseClientList, rdkafkaInstallDir, runOrder, type CellResult } from './client-compare.ts';

describe('parseClientList', () => {
  it('keeps known clients in order without duplicates', () => {
    expect(parseClientList('rdkafka, kafkajs,rdkafka')).toEqual(['rdkafka', 'kafkajs']);
  });

  it('rejects unknown and empty lists', () => {
    expect(() => parseClientList('kafkajs,confluent')).toThrow(/confluent/);
    expect(() => parseClientList(' , ')).toThrow(RangeError);
  });
});

describe('cellPlan', () => {
  it('runs the throughput cells before the latency cells', () => {
    expect(cellPlan([1000, 10000], [20000])).toEqual([
      { kind: 'throughput', concurrency: 1000 },
      { kind: 'throughput', concurrency: 10000 },
      { kind: 'latency', ratePerSec: 20000 },
    ]);
    expect(cellLabel({ kind: 'latency', ratePerSec: 10000 })).toBe('10000 msg/s offered');
  });
});

describe('runOrder', () => {
  it('interleaves the clients per cell and rotates their order', () => {
    const cells = cellPlan([1000], [10000]);
    const order = runOrder(['a', 'b', 'c'], cells, 2).map(({ round, cell, client }) => `${round}:${cell.kind}:${client}`);
    expect(order).toEqual([
      '1:throughput:a', '1:throughput:b', '1:throughput:c',
      '1:latency:b', '1:latency:c', '1:latency:a',
      '2:throughput:b', '2:throughput:c', '2:throughput:a',
      '2:latency:c', '2:latency:a', '2:latency:b',
    ]);
  });

  it('runs every client in every cell of every round exactly once', () => {
    const order = runOrder(['a', 'b'], cellPlan([1, 2], [3]), 3);
    expect(order).toHaveLength(2 * 3 * 3);
    expect(new Set(order.map(({ round, cell, client }) => `${round}:${cellLabel(cell)}:${client}`)).size).toBe(order.length);
  });
});

describe('median', () => {
  it('takes the middle value, or the mean of the two middle values', () => {
    expect(median([5, 1, 3])).toBe(3);
    expect(median([4, 1, 3, 2])).toBe(2.5);
    expect(median([])).toBeNaN();
  });
});

describe('deviceIds', () => {
  it('numbers devices from 1 with fixed width', () => {
    expect(deviceIds(2)).toEqual(['bench-000001', 'bench-000002']);
  });
});

describe('endOffsetCheck', () => {
  it('passes when the topic holds at least every acknowledged send', () => {
    expect(endOffsetCheck(10, [{ offset: '4' }, { offset: '7' }])).toEqual({ acknowledgedTotal: 10, endOffsetTotal: 11, ok: true });
  });

  it('fails when acknowledged sends are missing', () => {
    expect(endOffsetCheck(12, [{ offset: '4' }, { offset: '7' }]).ok).toBe(false);
  });
});

describe('rdkafkaInstallDir', () => {
  it('separates installs by package version and Node ABI', () => {
    expect(rdkafkaInstallDir('/c', '3.6.1', '137')).toBe('/c/node-rdkafka-3.6.1-abi137');
  });
});

function cellResult(overrides: Partial<CellResult> & { p99Ms?: number }): CellResult {
  const histogram = createLatencyHistogram();
  histogram.recordMs(overrides.p99Ms ?? 2);
  return {
    client: 'kafkajs',
    cell: { kind: 'throughput', concurrency: 1000 },
    round: 1,
    durationMs: 10_000,
    offered: 100,
    acknowledged: 100,
    failed: 0,
    ackedPerSec: 10,
    latency: histogram.summary(),
    cpuPercent: 50,
    eventLoopDelayP99Ms: 1,
    loadAverage1m: { before: 1, after: 1 },
    topic: 't',
    check: { acknowledgedTotal: 100, endOffsetTotal: 100, ok: true },
    firstError: null,
    ...overrides,
  };
}

describe('medianByCell', () => {
  it('groups by client and cell, takes medians, sums failures and requires every check', () => {
    const rows = medianByCell([
      cellResult({ round: 1, ackedPerSec: 10, failed: 1, p99Ms: 5 }),
      cellResult({ round: 2, ackedPerSec: 30, p99Ms: 9 }),
      cellResult({ round: 3, ackedPerSec: 20, p99Ms: 7, check: { acknowledgedTotal: 5, endOffsetTotal: 4, ok: false } }),
      cellResult({ client: 'rdkafka', ackedPerSec: 99 }),
    ]);
    expect(rows).toHaveLength(2);
    expect(rows[0]).toMatchObject({ client: 'kafkajs', rounds: 3, ackedPerSec: 20, failed: 1, checksOk: false });
    expect(rows[0]!.p99Ms).toBeCloseTo(7, 1);
    expect(rows[1]).toMatchObject({ client: 'rdkafka', rounds: 1, ackedPerSec: 99, checksOk: true });
  });
});

describe('formatClientCompareTable', () => {
  it('prints one row per run, flags a failed offset check and lists skipped clients', () => {
    const histogram = createLatencyHistogram();
    histogram.recordMs(2);
    const cell: CellResult = {
      client: 'platformatic',
      cell: { kind: 'throughput', concurrency: 1000 },
      round: 1,
      durationMs: 10_000,
      offered: 100,
      acknowledged: 90,
      failed: 10,
      ackedPerSec: 9.4,
      latency: histogram.summary(),
      cpuPercent: 55.2,
      eventLoopDelayP99Ms: 3,
      loadAverage1m: { before: 1.5, after: 2 },
      topic: 't',
      check: { acknowledgedTotal: 95, endOffsetTotal: 94, ok: false },
      firstError: 'x',
    };
    const lines = formatClientCompareTable({ cells: [cell], skipped: [{ client: 'rdkafka', reason: 'build failed' }] }).split('\n');
    expect(lines).toHaveLength(4);
    expect(lines[2]).toMatch(/^platformatic\s+max, 1000 outstanding\s+1\s+9\s+10\s+2\.0/);
    expect(lines[2]).toContain('NO (94/95)');
    expect(lines[2]).toContain('1.50→2.00');
    expect(lines[3]).toBe('rdkafka: skipped: build failed');
  });

  it('adds the medians when there are several rounds', () => {
    const text = formatClientCompareTable({ cells: [cellResult({ round: 1 }), cellResult({ round: 2, ackedPerSec: 30 })], skipped: [] });
    expect(text).toContain('medians over rounds:');
    expect(text.split('\n').at(-1)).toMatch(/^kafkajs\s+max, 1000 outstanding\s+2\s+20\s+0/);
  });
});
