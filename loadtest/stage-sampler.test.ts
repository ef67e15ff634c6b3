import { describe, expect, it } from 'vitest';
import { createStageSampler, type StageSample } from './stage-sampler.ts';

describe('stage sampler', () => {
  it('records every stage at each sample and once more on stop', async () => {
    let kafka = 0;
    const seen: StageSample[] = [];
    const errors: unknown[] = [];
    const sampler = createStageSampler({
      startedAt: performance.now(),
      fleetCounts: () => ({ sent: 10, acknowledged: 9 }),
      kafkaRecords: async () => (kafka += 5),
      questdbRows: async () => 27,
      onSample: (sample) => seen.push(sample),
      onError: (error) => errors.push(error),
    });
    sampler.fast();
    sampler.start();
    await new Promise((resolve) => setTimeout(resolve, 50));
    await sampler.stop();
    expect(errors).toEqual([]);
    expect(seen.length).toBeGreaterThanOrEqual(2);
    expect(sampler.series.kafka.map((s) => s.count)).toEqual(seen.map((s) => s.kafka));
    expect(sampler.latest()).toMatchObject({ sent: 10, acknowledged: 9, kafka: 5 * seen.length, rows: 27 });
    expect(sampler.series.questdb.every((s) => s.count === 27)).toBe(true);
  });

  it('reports a failing read and keeps going', async () => {
    const errors: unknown[] = [];
    const sampler = createStageSampler({
      startedAt: performance.now(),
      fleetCounts: () => ({ sent: 0, acknowledged: 0 }),
      kafkaRecords: () => Promise.reject(new Error('broker down')),
      questdbRows: null,
      onError: (error) => errors.push(error),
    });
    sampler.start();
    await sampler.stop();
    expect(errors.length).toBeGreaterThanOrEqual(1);
    expect(sampler.latest()).toBeNull();
  });
});
