/**
 * A seconds-long run of the Kafka client comparison against the real stack, so the comparison and
 * its loadtest/ adapters cannot rot: assertions on counting and skipping only, never on timing.
 * node-rdkafka is not built here (that takes minutes), so it must be skipped with its reason.
 */
import { describe, expect, inject, it } from 'vitest';
import { cellPlan, runClientCompare } from './client-compare.ts';

describe('client comparison smoke run', () => {
  it('compares kafkajs and platformatic on one workload and skips node-rdkafka with its reason', async () => {
    const result = await runClientCompare({
      brokers: inject('kafkaBrokers'),
      clients: ['kafkajs', 'platformatic', 'rdkafka'],
      cells: cellPlan([50], [200]),
      sendTimeoutMs: 10_000,
      lingerMs: 0,
      maxBatchRecords: 2000,
      rdkafkaPollIntervalMs: 5,
      devices: 20,
      partitions: 2,
      cellDurationMs: 1000,
      warmupMs: 200,
      rounds: 1,
      rdkafka: { ok: false, reason: 'not built for this test' },
      log: () => undefined,
    });
    expect(result.skipped).toEqual([{ client: 'rdkafka', reason: 'not built for this test' }]);
    expect(result.cells.map((cell) => `${cell.client} ${cell.cell.kind}`).sort()).toEqual(['kafkajs latency', 'kafkajs throughput', 'platformatic latency', 'platformatic throughput']);
    for (const cell of result.cells) {
      expect(cell, `${cell.client} ${cell.cell.kind}`).toMatchObject({ failed: 0, check: { ok: true } });
      expect(cell.acknowledged, `${cell.client} ${cell.cell.kind}: acknowledged sends`).toBeGreaterThan(0);
    }
  }, 120_000);
});
