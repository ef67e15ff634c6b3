/**
 * A run's figures interval by interval, so a long run shows whether the pipeline holds its rate,
 * latency and memory or drifts: messages per second at each stage, the interval's own PUBACK and
 * queryable p99 (not the run's so far), and each process's cores and RSS. Pure: the bench feeds it
 * cumulative readings; it keeps what it needs of the previous boundary.
 */
import { percentileOfBucketsMs } from './latency-histogram.ts';
import { orderProcesses } from './process-roles.ts';
import { renderLineChart, type PlotSeries } from './svg-plot.ts';

export interface TimelineReading {
  /** Cumulative since the load began: acknowledged messages (sent, QoS 0), Kafka records, QuestDB rows (null: not enriched). */
  acknowledged: number;
  kafkaRecords: number;
  rows: number | null;
  /** The run's latency histograms' buckets so far ({@link LatencyHistogram.buckets}); null: not measured. */
  pubackBuckets: ReadonlyArray<readonly [number, number]>;
  queryableBuckets: ReadonlyArray<readonly [number, number]> | null;
  /** Per process: CPU seconds used since it started (null: not read yet) and RSS now. */
  usage: Readonly<Record<string, { cpuSeconds: number | null; rssMiB: number }>>;
}

export interface TimelinePoint {
  /** The interval, seconds into the load. */
  fromS: number;
  toS: number;
  acknowledgedPerSec: number;
  kafkaPerSec: number;
  /** QuestDB rows per second ÷ readings per message; null when not enriched. */
  storedPerSec: number | null;
  /** PUBACKs (writes, QoS 0) timed in the interval, and their p99; null when none. */
  pubacks: number;
  pubackP99Ms: number | null;
  /** Queryable-probe samples in the interval and their p99; null when none or no probe. */
  queryableP99Ms: number | null;
  /** Cores each process used over the interval (absent: not read at both ends), and its RSS at the end. */
  cores: Record<string, number>;
  rssMiB: Record<string, number>;
}

export interface RunTimeline {
  /**
   * Called with each stage sample; `read` is only called when an interval has ended. With `final`
   * (the run's last sample), what is left since the last point becomes one, however short, unless
   * no count moved in it.
   */
  observe(atMs: number, read: () => TimelineReading, options?: { final?: boolean }): void;
  readonly points: readonly TimelinePoint[];
}

type Buckets = ReadonlyArray<readonly [number, number]>;

/** The buckets recorded after `before` was taken (both snapshots of one histogram). */
export function bucketsSince(before: Buckets, after: Buckets): Array<[number, number]> {
  const earlier = new Map(before.map(([bound, count]) => [bound, count]));
  const delta: Array<[number, number]> = [];
  for (const [bound, count] of after) {
    const added = count - (earlier.get(bound) ?? 0);
    if (added > 0) delta.push([bound, added]);
  }
  return delta;
}

const round = (value: number, digits: number): number => Math.round(value * 10 ** digits) / 10 ** digits;

/** Ten seconds: a 20 s run gets two points, a 10-minute soak sixty. */
export const defaultTimelineIntervalMs = 10_000;

export function createRunTimeline(options: { intervalMs: number; readingsPerMessage: number }): RunTimeline {
  const { intervalMs, readingsPerMessage } = options;
  const points: TimelinePoint[] = [];
  let previous: { atMs: number; reading: TimelineReading } | null = null;

  return {
    points,
    observe(atMs, read, observeOptions) {
      // The load starts from zero counts; its CPU baseline is the first sample's, which only the sampler knows.
      previous ??= { atMs: 0, reading: { ...read(), acknowledged: 0, kafkaRecords: 0, rows: 0, pubackBuckets: [], queryableBuckets: [] } };
      const elapsedMs = atMs - previous.atMs;
      // The final interval is closed however short, so the points add up to the whole run.
      if (observeOptions?.final ? elapsedMs <= 0 : elapsedMs < intervalMs) return;
      const reading = read();
      const before = previous.reading;
      // A final remainder in which nothing moved adds nothing: no point of zeros after the drain.
      const moved = reading.acknowledged !== before.acknowledged || reading.kafkaRecords !== before.kafkaRecords || reading.rows !== before.rows;
      if (observeOptions?.final && elapsedMs < intervalMs && !moved) return;
      const seconds = elapsedMs / 1000;
      const perSec = (now: number, then: number): number => Math.round((now - then) / seconds);
      const pubacks = bucketsSince(before.pubackBuckets, reading.pubackBuckets);
      const queryable = reading.queryableBuckets ? bucketsSince(before.queryableBuckets ?? [], reading.queryableBuckets) : [];
      const pubackCount = pubacks.reduce((sum, [, count]) => sum + count, 0);
      const cores: Record<string, number> = {};
      const rssMiB: Record<string, number> = {};
      for (const [name, usage] of Object.entries(reading.usage)) {
        rssMiB[name] = Math.round(usage.rssMiB);
        const then = before.usage[name]?.cpuSeconds;
        if (usage.cpuSeconds !== null && then !== null && then !== undefined) cores[name] = round((usage.cpuSeconds - then) / seconds, 3);
      }
      points.push({
        fromS: round(previous.atMs / 1000, 1),
        toS: round(atMs / 1000, 1),
        acknowledgedPerSec: perSec(reading.acknowledged, before.acknowledged),
        kafkaPerSec: perSec(reading.kafkaRecords, before.kafkaRecords),
        storedPerSec: reading.rows === null ? null : perSec(reading.rows / readingsPerMessage, (before.rows ?? 0) / readingsPerMessage),
        pubacks: pubackCount,
        pubackP99Ms: pubackCount === 0 ? null : percentileOfBucketsMs(pubacks, 0.99),
        queryableP99Ms: queryable.length === 0 ? null : percentileOfBucketsMs(queryable, 0.99),
        cores,
        rssMiB,
      });
      previous = { atMs, reading };
    },
  };
}

/** Fewer points than this make no useful plot: the report's table says it all. */
export const fewestPlottedPoints = 6;
/** Intervals shorter than this are left out of the plots (not out of the timeline). */
const shortestPlottedS = 1;

/** The timeline as four line charts over time: stage rates, interval p99s, RSS and cores per process. */
export function renderTimelinePlots(allPoints: readonly TimelinePoint[], offeredPerSec: number, label: string): { ratesSvg: string; latencySvg: string; memorySvg: string; cpuSvg: string } {
  // A run's last interval can be a fraction of a second of drain: as a rate it would plot as a fall to nothing.
  const points = allPoints.filter((p) => p.toS - p.fromS >= shortestPlottedS);
  const at = (p: TimelinePoint): number => p.toS;
  const series = (name: string, value: (p: TimelinePoint) => number | null | undefined): PlotSeries => ({
    name,
    points: points.flatMap((p): Array<[number, number]> => {
      const y = value(p);
      return y === null || y === undefined ? [] : [[at(p), y]];
    }),
  });
  const names = orderProcesses(points.flatMap((p) => Object.keys(p.rssMiB)));
  const xLabel = 'seconds into the load (end of each interval)';
  return {
    ratesSvg: renderLineChart({
      title: `Stage rates over time (${label})`,
      xLabel,
      yLabel: 'messages / s',
      series: [
        { name: 'offered', points: points.length === 0 ? [] : [[0, offeredPerSec], [at(points.at(-1)!), offeredPerSec]], dashed: true },
        series('acknowledged', (p) => p.acknowledgedPerSec),
        series('Kafka', (p) => p.kafkaPerSec),
        series('stored', (p) => p.storedPerSec),
      ],
    }),
    latencySvg: renderLineChart({
      title: `p99 latency of each interval (${label})`,
      xLabel,
      yLabel: 'ms',
      series: [series('publish→PUBACK', (p) => p.pubackP99Ms), series('publish→queryable', (p) => p.queryableP99Ms)],
    }),
    memorySvg: renderLineChart({ title: `RSS per process (${label})`, xLabel, yLabel: 'MiB', series: names.map((name) => series(name, (p) => p.rssMiB[name])) }),
    cpuSvg: renderLineChart({ title: `CPU per process (${label})`, xLabel, yLabel: 'cores', series: names.map((name) => series(name, (p) => p.cores[name])) }),
  };
}
