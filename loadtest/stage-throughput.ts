/**
 * Throughput of one pipeline stage from a count sampled over time (messages acknowledged, records
 * in Kafka, rows in QuestDB). Pure.
 */

export interface CountSample {
  /** Ms since the load started. */
  atMs: number;
  count: number;
}

export interface StageThroughput {
  /** The stage's final count. */
  count: number;
  /** When the stage first reached its final count, ms after the load started (null: never sampled there). */
  completedAfterMs: number | null;
  /** count / completedAfter: how fast the stage got everything through, backlog included. */
  perSec: number;
  /** Rate over the middle of the load window (from 20 % to 100 % of it): the sustained rate. */
  steadyPerSec: number;
  /** Highest rate between two consecutive samples. */
  peakPerSec: number;
}

function countAt(samples: readonly CountSample[], atMs: number): number {
  // Linear interpolation between the samples around atMs.
  let previous: CountSample | undefined;
  for (const sample of samples) {
    if (sample.atMs >= atMs) {
      if (!previous || sample.atMs === previous.atMs) return sample.count;
      return previous.count + ((sample.count - previous.count) * (atMs - previous.atMs)) / (sample.atMs - previous.atMs);
    }
    previous = sample;
  }
  return previous?.count ?? 0;
}

/** Summarises `samples` (ascending atMs) of a stage whose final count is `finalCount`, for a load of `loadMs`. */
export function stageThroughput(samples: readonly CountSample[], finalCount: number, loadMs: number): StageThroughput {
  const reached = samples.find((sample) => sample.count >= finalCount);
  const completedAfterMs = finalCount === 0 ? 0 : (reached?.atMs ?? null);
  const perSec = completedAfterMs !== null && completedAfterMs > 0 ? (finalCount * 1000) / completedAfterMs : 0;
  const from = loadMs * 0.2;
  const steadyPerSec = loadMs > 0 ? ((countAt(samples, loadMs) - countAt(samples, from)) * 1000) / (loadMs - from) : 0;
  let peakPerSec = 0;
  for (let i = 1; i < samples.length; i += 1) {
    const span = samples[i]!.atMs - samples[i - 1]!.atMs;
    if (span > 0) peakPerSec = Math.max(peakPerSec, ((samples[i]!.count - samples[i - 1]!.count) * 1000) / span);
  }
  const round = (value: number): number => Math.round(value);
  return { count: finalCount, completedAfterMs, perSec: round(perSec), steadyPerSec: round(Math.max(0, steadyPerSec)), peakPerSec: round(peakPerSec) };
}
