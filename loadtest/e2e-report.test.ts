import { describe, expect, it } from 'vitest';
import { formatHost, formatLatency, formatProcesses, formatRunData, formatSweepReport, formatTimeline, formatWarmup } from './e2e-report.ts';
import { createLatencyHistogram } from './latency-histogram.ts';
import { runNames } from './run-names.ts';

describe('reports', () => {
  it('formats a latency summary, and says when there is none', () => {
    const histogram = createLatencyHistogram();
    expect(formatLatency(histogram.summary())).toBe('no samples');
    for (let ms = 1; ms <= 100; ms += 1) histogram.recordMs(ms);
    // bucket upper bounds: within 0.8 % above the recorded value
    expect(formatLatency(histogram.summary())).toBe('p50 50.2  p95 95.2  p99 99.3  max 100 ms  (100 samples)');
  });

  it('states the warm-up in one line, and when it did not catch up', () => {
    const warmup = { seconds: 10, offered: 20_000, sent: 20_000, acknowledged: 19_990, failed: 0, notSent: 0, caughtUpMs: 1234, kafkaRecords: 19_990, questdbRows: 59_970 };
    expect(formatWarmup(warmup, 2000)).toMatch(/^warm-up +10 s at 2,000 msg\/s before the measured load: offered 20,000 {2}acknowledged 19,990; caught up 1\.2 s after it; .*audited/);
    expect(formatWarmup({ ...warmup, caughtUpMs: null }, 2000)).toContain('; DID NOT catch up;');
  });

  it('lists sweep points by offered rate with the knee', () => {
    const text = formatSweepReport(
      [
        { offeredPerSec: 5000, achievedPerSec: 3000, ackedPerSec: 3100, lost: 0, p99PubackMs: 250, p99QueryableMs: null, hostProbeMs: 27.25, cpuMicrosPerMessage: {} },
        { offeredPerSec: 2000, achievedPerSec: 2000, ackedPerSec: 2000, lost: 0, p99PubackMs: 12.345, p99QueryableMs: 180, hostProbeMs: null, cpuMicrosPerMessage: {} },
      ],
      { sustainedPerSec: 2000, firstSaturatedPerSec: 5000, reason: 'at 5000 msg/s offered: achieved 3000 msg/s < 95 % of offered' },
    );
    const lines = text.split('\n');
    expect(lines[1]).toContain('2,000');
    expect(lines[1]).toContain('12.3');
    expect(lines[2]).toContain('n/a');
    expect(lines[1]).toMatch(/n\/a$/);
    expect(lines[2]).toMatch(/ 27\.3$/);
    expect(lines.at(-1)).toBe('knee: sustained 2,000 msg/s; at 5000 msg/s offered: achieved 3000 msg/s < 95 % of offered');
  });

  it('totals the pipeline without the harness, less what the harness cost each server', () => {
    const usage = (name: string, cpuMicrosPerMessage: number, pipelineCpuMicrosPerMessage: number) => ({ name, pid: 1, windowSeconds: 10, cpuSeconds: 1, cpuCores: 0.1, peakRssMiB: 100, endRssMiB: 90, cpuMicrosPerMessage, pipelineCpuMicrosPerMessage });
    const lines = formatProcesses({
      processes: [usage('gateway', 40, 40), usage('questdb', 60, 50), usage('load-generator', 30, 0)],
      attribution: { windowMs: 10_000, settledMs: 2000, atRestCores: { gateway: 0.01, questdb: 0.02, 'load-generator': 0.005 }, harnessCores: { gateway: 0, questdb: 0.05, 'load-generator': 0.1 } },
    });
    expect(lines[2]).toMatch(/questdb\s+0\.10\s+60\s+50\s+2\.0\s+5\.0/);
    expect(lines[3]).toContain('load-generator (harness)');
    // every row's CPU figure ends where the header's "CPU (cores)" ends, the harness's longer name included
    const cpuColumnEnd = lines[0]!.indexOf('CPU (cores)') + 'CPU (cores)'.length;
    for (const row of lines.slice(1, 4)) expect(row.slice(cpuColumnEnd - 4, cpuColumnEnd)).toBe('0.10');
    expect(lines.at(-2)).toBe('            pipeline (all but the harness): 100 µs/msg under load, 90 less the harness\'s queries; 3.0 % of a core at rest (from 2.0 s after the devices connected)');
    expect(lines.at(-1)).toContain('lower bound');
  });

  it('says n/a for the rest columns when attribution was skipped', () => {
    const lines = formatProcesses({ processes: [{ name: 'gateway', pid: 1, windowSeconds: 10, cpuSeconds: 1, cpuCores: 0.1, peakRssMiB: 1, endRssMiB: 1, cpuMicrosPerMessage: 40, pipelineCpuMicrosPerMessage: 40 }], attribution: null });
    expect(lines[1]).toMatch(/n\/a\s+n\/a/);
    expect(lines.at(-1)).toBe('            pipeline (all but the harness): 40 µs/msg under load');
  });

  it('adds CPU µs per message by process, the pipeline total without the harness, and the harness', () => {
    const base = { achievedPerSec: 0, ackedPerSec: 0, lost: 0, p99PubackMs: 1, p99QueryableMs: null, hostProbeMs: null };
    const text = formatSweepReport(
      [
        { ...base, offeredPerSec: 10_000, cpuMicrosPerMessage: { 'load-generator': 30, questdb: 20, kafka: 15, enricher: 25, gateway: 40 } },
        { ...base, offeredPerSec: 2000, cpuMicrosPerMessage: { 'load-generator': 35, questdb: 30, kafka: 20, gateway: 50 } },
      ],
      { sustainedPerSec: null, firstSaturatedPerSec: 2000, reason: 'r' },
    );
    const lines = text.split('\n');
    const table = lines.slice(lines.findIndex((line) => line.startsWith('CPU µs per message')) + 1);
    expect(table.map((line) => line.trim().split(/\s+/))).toEqual([
      ['offered/s', 'gateway', 'enricher', 'kafka', 'questdb', 'pipeline', 'harness'],
      ['2,000', '50', 'n/a', '20', '30', '100', '35'],
      ['10,000', '40', '25', '15', '20', '100', '30'],
    ]);
    // columns line up under their headers
    expect(new Set(table.map((line) => line.length)).size).toBe(1);
  });

  it('has no CPU table when no process was measured', () => {
    const text = formatSweepReport([{ offeredPerSec: 1000, achievedPerSec: 1000, ackedPerSec: 1000, lost: 0, p99PubackMs: 1, p99QueryableMs: null, hostProbeMs: null, cpuMicrosPerMessage: {} }], { sustainedPerSec: 1000, firstSaturatedPerSec: null, reason: 'r' });
    expect(text).not.toContain('CPU');
  });
  it('prints the host speed probe and steal beside the figures they qualify', () => {
    expect(formatHost({ speedProbeMs: { before: 22.6, duringLoad: [31.5, 35.1, 29.9], duringLoadMedian: 31.5, after: 22.9 }, stealPercent: 0.4 })).toBe(
      'host        speed probe (fixed work, ms of CPU; lower is a faster host) 22.6 at rest, 31.5 median during the load (31.5, 35.1, 29.9), 22.9 after; steal 0.4 %: compare CPU per message between runs of like speed',
    );
    expect(formatHost({ speedProbeMs: { before: 22.6, duringLoad: [], duringLoadMedian: null, after: 22.9 }, stealPercent: null })).toMatch(/n\/a median .*steal n\/a %/);
    const longRun = Array.from({ length: 150 }, (_, index) => 20 + (index % 10));
    expect(formatHost({ speedProbeMs: { before: 20, duringLoad: longRun, duringLoadMedian: 24.5, after: 20 }, stealPercent: 0 })).toContain('24.5 median during the load (150 probes, 20–29), 20 after');
  });
  it('says whether the run\'s topics and tables were removed or where they were kept', () => {
    const names = runNames('mx1abc');
    expect(formatRunData({ kept: false, removedTopics: 5, removedTables: 2 }, names)).toBe('run data    removed 5 topics and 2 tables (--keep-data keeps them)');
    expect(formatRunData({ kept: true, removedTopics: 0, removedTables: 0 }, names)).toBe('run data    kept: topics bench.mx1abc.*, tables bench_mx1abc_*');
  });

  it('prints the timeline a line per interval, processes in their usual order, n/a where an interval lacks a figure', () => {
    const lines = formatTimeline(
      [
        { fromS: 0, toS: 10, acknowledgedPerSec: 10_000, kafkaPerSec: 10_001, storedPerSec: 9_990, pubacks: 100_000, pubackP99Ms: 9.73, queryableP99Ms: 181.2, cores: { 'load-generator': 0.25, gateway: 0.36 }, rssMiB: { 'load-generator': 300, gateway: 310 } },
        { fromS: 10, toS: 10.4, acknowledgedPerSec: 0, kafkaPerSec: 0, storedPerSec: null, pubacks: 0, pubackP99Ms: null, queryableP99Ms: null, cores: { gateway: 0.1 }, rssMiB: { 'load-generator': 301, gateway: 311 } },
      ],
      10_000,
    );
    expect(lines[0]).toContain('every 10 s');
    expect(lines[1]).toMatch(/gateway \| load-generator$/);
    expect(lines[2]).toMatch(/^ +0–10 +10,000 +10,001 +9,990 +9\.7 +181 +0\.36 \/ 310 \| 0\.25 \/ 300$/);
    expect(lines[3]).toMatch(/10–10 +0 +0 +n\/a +n\/a +n\/a +0\.10 \/ 311 \| n\/a \/ 301$/);
    expect(formatTimeline(undefined, undefined)).toEqual([]);
  });
});
