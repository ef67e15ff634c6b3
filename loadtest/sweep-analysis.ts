/**
 * Reading a rate sweep: where the pipeline stops keeping up (the knee), and the plots. Pure.
 */
import { harnessProcess, orderProcesses, processRole } from './process-roles.ts';
import { renderLineChart, renderStackedBarChart } from './svg-plot.ts';

/** The figures of one sweep step that the analysis needs (a subset of an e2e result). */
export interface SweepPoint {
  offeredPerSec: number;
  /** End-to-end messages per second (QuestDB stage, or Kafka when the enricher was off). */
  achievedPerSec: number;
  ackedPerSec: number;
  lost: number;
  p99PubackMs: number;
  p99QueryableMs: number | null;
  /** Median of the host speed probes during the run's load (ms of CPU for fixed work; lower is faster); null if none. */
  hostProbeMs: number | null;
  /**
   * CPU µs per message by process role, only what was measured: each pipeline process less what the
   * harness's queries cost it, and that cost under the harness (`load-generator`) with its own CPU.
   */
  cpuMicrosPerMessage: Record<string, number>;
}

export interface Knee {
  /** Highest offered rate the pipeline carried: achieved ≥ `keepUpRatio` × offered and nothing lost. */
  sustainedPerSec: number | null;
  /** First offered rate it did not carry, if any. */
  firstSaturatedPerSec: number | null;
  reason: string;
}

/**
 * CPU µs per message by role from an e2e run's processes, adding up to all the CPU measured: a pipeline
 * process counts without what the harness's queries cost it, which goes to the harness instead; a
 * restarted process adds to its role, since both spent their CPU on the same messages.
 */
export function cpuMicrosPerMessageByRole(processes: ReadonlyArray<{ name: string; cpuMicrosPerMessage: number | null; pipelineCpuMicrosPerMessage: number | null }>): Record<string, number> {
  const byRole: Record<string, number> = {};
  const add = (role: string, micros: number): void => void (byRole[role] = (byRole[role] ?? 0) + micros);
  for (const { name, cpuMicrosPerMessage, pipelineCpuMicrosPerMessage } of processes) {
    if (cpuMicrosPerMessage === null) continue;
    if (name === harnessProcess) {
      add(harnessProcess, cpuMicrosPerMessage);
      continue;
    }
    const pipeline = pipelineCpuMicrosPerMessage ?? cpuMicrosPerMessage;
    add(processRole(name), pipeline);
    if (cpuMicrosPerMessage > pipeline) add(harnessProcess, cpuMicrosPerMessage - pipeline);
  }
  return byRole;
}

/** Finds the knee in points sorted by offered rate (any order accepted). */
export function findKnee(points: readonly SweepPoint[], keepUpRatio = 0.95): Knee {
  const sorted = [...points].sort((a, b) => a.offeredPerSec - b.offeredPerSec);
  let sustained: number | null = null;
  for (const point of sorted) {
    const keptUp = point.achievedPerSec >= keepUpRatio * point.offeredPerSec;
    if (keptUp && point.lost === 0) {
      sustained = point.offeredPerSec;
      continue;
    }
    const why = point.lost > 0 ? `${point.lost} acknowledged messages lost` : `achieved ${point.achievedPerSec} msg/s < ${Math.round(keepUpRatio * 100)} % of offered`;
    return { sustainedPerSec: sustained, firstSaturatedPerSec: point.offeredPerSec, reason: `at ${point.offeredPerSec} msg/s offered: ${why}` };
  }
  return { sustainedPerSec: sustained, firstSaturatedPerSec: null, reason: sustained === null ? 'no points' : 'kept up at every offered rate' };
}

/**
 * The sweep's plots: achieved throughput and p99 latencies against the offered rate, and the CPU each
 * process spent per message at each rate, stacked, the pipeline's total above each bar.
 */
export function renderSweepPlots(points: readonly SweepPoint[], title: string): { throughputSvg: string; latencySvg: string; cpuSvg: string } {
  const sorted = [...points].sort((a, b) => a.offeredPerSec - b.offeredPerSec);
  const maxOffered = sorted.at(-1)?.offeredPerSec ?? 0;
  const throughputSvg = renderLineChart({
    title: `Throughput vs offered load — ${title}`,
    xLabel: 'offered load (msg/s)',
    yLabel: 'achieved (msg/s)',
    series: [
      { name: 'end to end (stored)', points: sorted.map((p) => [p.offeredPerSec, p.achievedPerSec]) },
      { name: 'acknowledged', points: sorted.map((p) => [p.offeredPerSec, p.ackedPerSec]) },
      { name: 'offered', points: [[0, 0], [maxOffered, maxOffered]], dashed: true },
    ],
  });
  const latencySvg = renderLineChart({
    title: `p99 latency vs offered load — ${title}`,
    xLabel: 'offered load (msg/s)',
    yLabel: 'p99 latency (ms)',
    series: [
      { name: 'publish→PUBACK', points: sorted.map((p) => [p.offeredPerSec, p.p99PubackMs]) },
      { name: 'publish→queryable', points: sorted.filter((p) => p.p99QueryableMs !== null).map((p) => [p.offeredPerSec, p.p99QueryableMs!]) },
    ],
  });
  const cpuSvg = renderStackedBarChart({
    title: `CPU µs per message by process — ${title}`,
    xLabel: 'offered load (msg/s)',
    yLabel: 'CPU µs per message (bar label: pipeline total)',
    categories: sorted.map((p) => p.offeredPerSec.toLocaleString('en-US')),
    series: orderProcesses(sorted.flatMap((p) => Object.keys(p.cpuMicrosPerMessage))).map((role) => ({
      name: role === harnessProcess ? 'load generator + harness (not pipeline)' : role,
      values: sorted.map((p) => p.cpuMicrosPerMessage[role] ?? Number.NaN),
      ...(role === harnessProcess && { muted: true }),
    })),
  });
  return { throughputSvg, latencySvg, cpuSvg };
}
