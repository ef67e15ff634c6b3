/**
 * Durations as operators write them on the command line: a whole number and one unit, `30s`,
 * `10m`, `2h`, `1d`. Pure; no I/O.
 */
import type { Result } from './result.ts';

/** Milliseconds per unit a duration may be written in. */
export const durationUnitsMs: Readonly<Record<string, number>> = { s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000 };

/** Bounds a duration must lie within, inclusive, in milliseconds. */
export interface DurationBounds {
  minMs: number;
  maxMs: number;
}

/** Writes milliseconds in the largest unit that divides them (`600000` → `10m`), else in ms. */
export function formatDuration(ms: number): string {
  for (const [unit, unitMs] of Object.entries(durationUnitsMs).reverse()) if (ms > 0 && ms % unitMs === 0) return `${ms / unitMs}${unit}`;
  return `${ms}ms`;
}

/**
 * Parses `<whole number><s|m|h|d>` into milliseconds within `bounds`. A bare number is refused:
 * whether `30` meant seconds or minutes is exactly the mistake this guards against.
 */
export function parseDuration(text: string, bounds: DurationBounds): Result<number> {
  const match = /^(\d{1,9})([smhd])$/.exec(text.trim());
  if (!match) return { ok: false, reason: 'invalid_duration', detail: `${JSON.stringify(text)}: expected a whole number and a unit, e.g. 30s, 10m, 2h, 1d` };
  const ms = Number(match[1]) * durationUnitsMs[match[2]!]!;
  if (ms < bounds.minMs || ms > bounds.maxMs) {
    return { ok: false, reason: 'duration_out_of_range', detail: `${JSON.stringify(text)}: must be between ${formatDuration(bounds.minMs)} and ${formatDuration(bounds.maxMs)}` };
  }
  return { ok: true, value: ms };
}
