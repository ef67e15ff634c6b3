/**
 * Samples how many messages each pipeline stage holds (sent, acknowledged, Kafka records, QuestDB
 * rows) on a timer, building the series that stage throughput is computed from. Once a second
 * under load; `fast()` switches to five times a second while draining, to time the catch-up closely.
 */
import { setTimeout as delay } from 'node:timers/promises';
import type { CountSample } from './stage-throughput.ts';

export interface StageSample {
  atMs: number;
  sent: number;
  acknowledged: number;
  kafka: number;
  rows: number;
}

export interface StageSampler {
  series: { sent: CountSample[]; acknowledged: CountSample[]; kafka: CountSample[]; questdb: CountSample[] };
  latest(): StageSample | null;
  start(): void;
  fast(): void;
  /** Stops the timer and takes one last sample. */
  stop(): Promise<void>;
}

/** Creates the sampler; `startedAt` is the performance.now() the series count from. Errors go to `onError`. */
export function createStageSampler(deps: {
  startedAt: number;
  fleetCounts: () => { sent: number; acknowledged: number };
  kafkaRecords: () => Promise<number>;
  questdbRows: (() => Promise<number>) | null;
  onSample?: (sample: StageSample) => void;
  onError: (error: unknown) => void;
}): StageSampler {
  const series: StageSampler['series'] = { sent: [], acknowledged: [], kafka: [], questdb: [] };
  let latest: StageSample | null = null;
  let intervalMs = 1000;
  let running = false;
  let loop: Promise<void> = Promise.resolve();

  const sample = async (): Promise<void> => {
    const atMs = performance.now() - deps.startedAt;
    const { sent, acknowledged } = deps.fleetCounts();
    const [kafka, rows] = await Promise.all([deps.kafkaRecords(), deps.questdbRows?.() ?? Promise.resolve(0)]);
    series.sent.push({ atMs, count: sent });
    series.acknowledged.push({ atMs, count: acknowledged });
    series.kafka.push({ atMs, count: kafka });
    series.questdb.push({ atMs, count: rows });
    latest = { atMs, sent, acknowledged, kafka, rows };
    deps.onSample?.(latest);
  };

  return {
    series,
    latest: () => latest,
    start() {
      running = true;
      loop = (async () => {
        while (running) await Promise.all([sample().catch(deps.onError), delay(intervalMs)]);
      })();
    },
    fast() {
      intervalMs = 200;
    },
    async stop() {
      running = false;
      await loop;
      await sample().catch(deps.onError);
    },
  };
}
