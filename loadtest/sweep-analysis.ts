/**
 * Reading a rate sweep: where the pipeline stops keeping up (the knee), and the plots. Pure.
 */
import { renderLineChart } from './svg-plot.ts';

/** The figures of one sweep step that the analysis needs (a subset of an e2e result). */
export interface SweepPoint {
  offeredPerSec: number;
  /** End-to-end messages per second (QuestDB stage, or Kafka when the enricher was off). */
  achievedPerSec: number;
  ackedPerSec: number;
  lost: number;
  p99PubackMs: number;
  p99QueryableMs: number | null;
}

export interface Knee {
  /** Highest offered rate the pipeline carried: achieved ≥ `keepUpRatio` × offered and nothing lost. */
  sustainedPerSec: number | null;
  /** First offered rate it did not carry, if any. */
  firstSaturatedPerSec: number | null;
  reason: string;
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

/** The sweep's two plots: achieved throughput and p99 latencies against the offered rate. */
export function renderSweepPlots(points: readonly SweepPoint[], title: string): { throughputSvg: string; latencySvg: string } {
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
  return { throughputSvg, latencySvg };
}
