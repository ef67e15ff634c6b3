import { describe, expect, it } from 'vitest';
import { cpuMicrosPerMessageByRole, findKnee, renderSweepPlots, type SweepPoint } from './sweep-analysis.ts';

const point = (offered: number, achieved: number, lost = 0, cpuMicrosPerMessage: Record<string, number> = {}): SweepPoint => ({
  offeredPerSec: offered,
  achievedPerSec: achieved,
  ackedPerSec: achieved,
  lost,
  p99PubackMs: offered / 1000,
  p99QueryableMs: offered / 100,
  hostProbeMs: null,
  cpuMicrosPerMessage,
});

describe('knee', () => {
  it('is the last rate carried before throughput falls behind', () => {
    const knee = findKnee([point(5000, 4990), point(2000, 2000), point(10_000, 9600), point(20_000, 12_000)]);
    expect(knee.sustainedPerSec).toBe(10_000);
    expect(knee.firstSaturatedPerSec).toBe(20_000);
    expect(knee.reason).toContain('20000');
  });

  it('stops at the first rate with a loss, however fast', () => {
    const knee = findKnee([point(2000, 2000), point(5000, 5000, 3), point(10_000, 10_000)]);
    expect(knee).toMatchObject({ sustainedPerSec: 2000, firstSaturatedPerSec: 5000 });
    expect(knee.reason).toContain('3 acknowledged messages lost');
  });

  it('says when every rate was carried, or none', () => {
    expect(findKnee([point(1000, 1000)])).toMatchObject({ sustainedPerSec: 1000, firstSaturatedPerSec: null });
    expect(findKnee([point(1000, 10)])).toMatchObject({ sustainedPerSec: null, firstSaturatedPerSec: 1000 });
  });
});

describe('sweep plots', () => {
  it('plots achieved and latency series against offered load', () => {
    const { throughputSvg, latencySvg } = renderSweepPlots([point(2000, 2000), point(4000, 3000)], 'test');
    expect(throughputSvg.match(/<polyline/g)).toHaveLength(3);
    expect(latencySvg).toContain('publish→queryable');
    expect(latencySvg.match(/<polyline/g)).toHaveLength(2);
  });

  it('stacks CPU µs per message by process at each offered rate, pipeline first, the load generator last and marked', () => {
    const { cpuSvg } = renderSweepPlots(
      [
        point(5000, 5000, 0, { 'load-generator': 30, questdb: 20, 'kafka-2': 6, 'kafka-1': 7, gateway: 40, enricher: 25 }),
        point(2000, 2000, 0, { 'load-generator': 35, questdb: 30, kafka: 10, gateway: 50 }),
      ],
      'test',
    );
    expect(cpuSvg).toContain('CPU µs per message by process — test');
    const bars = [...cpuSvg.matchAll(/<g>([\s\S]*?)<\/g>/g)].map((match) => match[1]!);
    // by offered rate: 2,000 then 5,000
    expect(bars.map((bar) => bar.match(/<rect /g)!.length)).toEqual([4, 6]);
    expect(bars.map((bar) => /font-weight="bold">([^<]*)<\/text>/.exec(bar)![1])).toEqual(['90', '98']);
    expect([...bars[1]!.matchAll(/<title>([^:]*):/g)].map((match) => match[1])).toEqual(['gateway', 'enricher', 'kafka-1', 'kafka-2', 'questdb', 'load generator + harness (not pipeline)']);
    expect(bars[1]).toMatch(/stroke-dasharray="4 3"><title>load generator \+ harness \(not pipeline\): 30</);
    expect(cpuSvg).toContain('>2,000</text>');
  });
});

describe('CPU by role', () => {
  it('moves what the harness cost a process to the harness, adds a restarted process to its role, leaves out what was not measured', () => {
    const byRole = cpuMicrosPerMessageByRole([
      { name: 'gateway', cpuMicrosPerMessage: 30, pipelineCpuMicrosPerMessage: 30 },
      { name: 'gateway (restarted)', cpuMicrosPerMessage: 12, pipelineCpuMicrosPerMessage: 12 },
      { name: 'questdb', cpuMicrosPerMessage: 60, pipelineCpuMicrosPerMessage: 45 },
      { name: 'enricher', cpuMicrosPerMessage: null, pipelineCpuMicrosPerMessage: null },
      { name: 'load-generator', cpuMicrosPerMessage: 20, pipelineCpuMicrosPerMessage: 0 },
    ]);
    expect(byRole).toEqual({ gateway: 42, questdb: 45, 'load-generator': 35 });
    // the stack still adds up to every process's own figure
    expect(Object.values(byRole).reduce((a, b) => a + b, 0)).toBe(30 + 12 + 60 + 20);
  });
});
