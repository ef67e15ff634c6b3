/**
 * Where a replay starts or stops in a partition, as an operator writes it: `earliest`, `latest`, an
 * offset, an absolute time or a time relative to now. Shared by the CLI, the API and the job runner.
 * Pure; no I/O.
 */
import { durationUnitsMs } from './duration.ts';
import type { Result } from './result.ts';

export type OffsetBound = { kind: 'earliest' } | { kind: 'latest' } | { kind: 'offset'; offset: bigint } | { kind: 'time'; timestampMs: number };

/**
 * Parses a bound: `earliest`, `latest`, an offset (`1200`), an RFC 3339 time with its zone
 * (`2026-11-22T08:00:00Z`), or a time relative to `nowMs` (`now-15m`, `now-2h`, `now-1d`, `now-30s`;
 * `-2h` works too, written `--from=-2h` since a leading dash reads as an option).
 */
export function parseOffsetBound(text: string, nowMs: number): Result<OffsetBound> {
  const value = text.trim();
  if (value === 'earliest' || value === 'latest') return { ok: true, value: { kind: value } };
  if (/^\d{1,19}$/.test(value)) return { ok: true, value: { kind: 'offset', offset: BigInt(value) } };
  const relative = /^(?:now)?-(\d{1,9})([smhd])$/.exec(value);
  if (relative) return { ok: true, value: { kind: 'time', timestampMs: nowMs - Number(relative[1]) * durationUnitsMs[relative[2]!]! } };
  // A zone is required: a time without one would silently mean the operator's local time.
  if (/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2}(\.\d{1,9})?)?(Z|[+-]\d{2}:\d{2})$/i.test(value)) {
    const timestampMs = Date.parse(value);
    if (Number.isFinite(timestampMs)) return { ok: true, value: { kind: 'time', timestampMs } };
  }
  return {
    ok: false,
    reason: 'invalid_bound',
    detail: `${JSON.stringify(text)}: expected earliest, latest, an offset, an RFC 3339 time with zone (2026-11-22T08:00:00Z) or a relative time (now-15m, now-2h, now-1d)`,
  };
}

