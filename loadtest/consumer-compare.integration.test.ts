/**
 * A seconds-long run of the consumer comparison against the real stack, so the comparison, its
 * member process and the platformatic adapter cannot rot: assertions on counting only, never on
 * timing. The fault runs need three brokers and are left to `tributary bench consumers --faults`.
 */
import { describe, expect, inject, it } from 'vitest';
import { runConsumerThroughput } from './consumer-compare.ts';

describe('consumer comparison smoke run', () => {
  it('reads a preloaded topic with each adapter, counting every offset', async () => {
    const runs = await runConsumerThroughput({
      brokers: inject('kafkaBrokers'),
      adapters: ['kafkajs', 'platformatic'],
      records: 2000,
      partitions: 3,
      rounds: 1,
      partitionsConcurrently: 3,
      fetch: { minBytes: 1, maxWaitMs: 100 },
      log: () => undefined,
    });
    expect(runs.map((run) => run.adapter)).toEqual(['kafkajs', 'platformatic']);
    for (const run of runs) {
      expect(run, run.adapter).toMatchObject({ records: 2000, missing: 0, duplicates: 0, crashes: 0 });
      expect(run.cpuUsPerRecord, `${run.adapter}: CPU per record`).toBeGreaterThan(0);
    }
  }, 120_000);
});
