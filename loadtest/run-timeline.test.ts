import { describe, expect, it } from 'vitest';
import { createLatencyHistogram } from './latency-histogram.ts';
import { bucketsSince, createRunTimeline, renderTimelinePlots, type TimelinePoint, type TimelineReading } from './run-timeline.ts';

const reading = (overrides: Partial<TimelineReading>): TimelineReading => ({
  acknowledged: 0,
  kafkaRecords: 0,
  rows: 0,
  pubackBuckets: [],
  queryableBuckets: null,
  usage: {},
  ...overrides,
});

describe('run timeline', () => {
  it('takes the buckets added between two snapshots of one histogram', () => {
    const histogram = createLatencyHistogram();
    for (const ms of [1, 1, 2]) histogram.recordMs(ms);
    const before = histogram.buckets();
    for (const ms of [1, 3]) histogram.recordMs(ms);
    const added = createLatencyHistogram();
    for (const ms of [1, 3]) added.recordMs(ms);
    expect(bucketsSince(before, histogram.buckets())).toEqual(added.buckets());
  });

  it('reports each interval by itself: rates, its own p99 and cores', () => {
    const timeline = createRunTimeline({ intervalMs: 10_000, readingsPerMessage: 3 });
    const puback = createLatencyHistogram();
    timeline.observe(0, () => reading({ usage: { gateway: { cpuSeconds: 100, rssMiB: 90 } } }));
    // A slow first interval, then a fast second one: a run-so-far p99 would still show the slow one.
    for (let i = 0; i < 1000; i += 1) puback.recordMs(500);
    timeline.observe(5000, () => {
      throw new Error('read before the interval ended');
    });
    timeline.observe(10_000, () => reading({ acknowledged: 100_000, kafkaRecords: 100_000, rows: 299_997, pubackBuckets: puback.buckets(), usage: { gateway: { cpuSeconds: 104, rssMiB: 120 } } }));
    for (let i = 0; i < 1000; i += 1) puback.recordMs(5);
    timeline.observe(20_000, () => reading({ acknowledged: 150_000, kafkaRecords: 150_000, rows: 449_997, pubackBuckets: puback.buckets(), usage: { gateway: { cpuSeconds: 106, rssMiB: 121 } } }));

    expect(timeline.points).toHaveLength(2);
    expect(timeline.points[0]).toMatchObject({ fromS: 0, toS: 10, acknowledgedPerSec: 10_000, kafkaPerSec: 10_000, storedPerSec: 10_000, pubacks: 1000, cores: { gateway: 0.4 }, rssMiB: { gateway: 120 } });
    expect(timeline.points[0]!.pubackP99Ms).toBeCloseTo(500, -1);
    expect(timeline.points[1]).toMatchObject({ fromS: 10, toS: 20, acknowledgedPerSec: 5000, storedPerSec: 5000, pubacks: 1000, cores: { gateway: 0.2 } });
    expect(timeline.points[1]!.pubackP99Ms).toBeCloseTo(5, 0);
    expect(timeline.points[1]!.queryableP99Ms).toBeNull();
  });

  it('closes the final interval however short, so the points add up to the run, unless nothing moved in it', () => {
    const timeline = createRunTimeline({ intervalMs: 10_000, readingsPerMessage: 1 });
    timeline.observe(0, () => reading({}));
    timeline.observe(10_000, () => reading({ acknowledged: 1000 }));
    timeline.observe(10_000, () => reading({ acknowledged: 1000 }), { final: true });
    timeline.observe(10_100, () => reading({ acknowledged: 1000 }), { final: true });
    expect(timeline.points).toHaveLength(1);
    timeline.observe(10_500, () => reading({ acknowledged: 1050 }), { final: true });
    expect(timeline.points).toHaveLength(2);
    expect(timeline.points[1]).toMatchObject({ fromS: 10, toS: 10.5, acknowledgedPerSec: 100, pubacks: 0, pubackP99Ms: null, storedPerSec: 0 });
  });

  it('leaves out the cores of a process not read at both ends of an interval', () => {
    const timeline = createRunTimeline({ intervalMs: 1000, readingsPerMessage: 1 });
    timeline.observe(0, () => reading({ rows: null, usage: { kafka: { cpuSeconds: 5, rssMiB: 400 } } }));
    timeline.observe(1000, () => reading({ rows: null, usage: { kafka: { cpuSeconds: 5.5, rssMiB: 400 }, 'gateway-restarted': { cpuSeconds: null, rssMiB: 0 } } }));
    expect(timeline.points[0]).toMatchObject({ cores: { kafka: 0.5 }, rssMiB: { kafka: 400, 'gateway-restarted': 0 }, storedPerSec: null });
    expect(timeline.points[0]!.cores).not.toHaveProperty('gateway-restarted');
  });

  it('plots each series over time, a process per line, skipping what an interval lacks', () => {
    const point = (toS: number, overrides: Partial<TimelinePoint>): TimelinePoint => ({
      fromS: toS - 10,
      toS,
      acknowledgedPerSec: 10_000,
      kafkaPerSec: 10_000,
      storedPerSec: 9_990,
      pubacks: 100_000,
      pubackP99Ms: 9,
      queryableP99Ms: 180,
      cores: { gateway: 0.4, kafka: 0.1 },
      rssMiB: { gateway: 150, kafka: 500 },
      ...overrides,
    });
    const drain = { ...point(20.3, { acknowledgedPerSec: 0 }), fromS: 20 };
    const plots = renderTimelinePlots([point(10, {}), point(20, { queryableP99Ms: null, cores: { kafka: 0.12 } }), drain], 10_000, 'test run');
    expect(plots.ratesSvg).toContain('Stage rates over time (test run)');
    expect(plots.ratesSvg).toContain('>offered<');
    expect(plots.latencySvg).toContain('publish→queryable');
    // The queryable line has one point (the second interval had none), the PUBACK line two: the
    // drain's 0.3 s is no interval to plot.
    const polylines = [...plots.latencySvg.matchAll(/<polyline[^>]*points="([^"]*)"/g)].map((m) => m[1]!.split(' ').length);
    expect(polylines).toEqual([2, 1]);
    expect(plots.memorySvg).toContain('>gateway<');
    expect(plots.memorySvg).toContain('>kafka<');
    expect([...plots.cpuSvg.matchAll(/<polyline[^>]*points="([^"]*)"/g)].map((m) => m[1]!.split(' ').length)).toEqual([1, 2]);
  });
});
