/**
 * Times in query strings: an RFC 3339 time with its zone (`2026-12-02T08:00:00Z`), `now`, or a time
 * relative to now (`now-15m`, `now-2h`, `now-1d`, `now-30s`). Pure; `nowMs` comes in.
 */
import { durationUnitsMs } from '../core/duration.ts';
import type { Result } from '../core/result.ts';

// A zone is required: a time without one would silently mean the server's local time.
const rfc3339Pattern = /^\d{4}-\d{2}-\d{2}[Tt]\d{2}:\d{2}:\d{2}(?:\.\d{1,9})?(?:[Zz]|[+-]\d{2}:\d{2})$/;
const relativePattern = /^now(?:-(\d{1,9})([smhd]))?$/;

/** What a time parameter may look like, for error details and the OpenAPI description. */
export const timeParamFormat = 'an RFC 3339 time with zone (2026-12-02T08:00:00Z), now, or now-<n><s|m|h|d> (now-15m, now-2h)';

/** Epoch milliseconds of a time parameter, or why it is not one. */
export function parseTimeParam(text: string, nowMs: number): Result<number> {
  const relative = relativePattern.exec(text);
  if (relative) return { ok: true, value: relative[1] === undefined ? nowMs : nowMs - Number(relative[1]) * durationUnitsMs[relative[2]!]! };
  if (rfc3339Pattern.test(text)) {
    const ms = Date.parse(text.toUpperCase());
    if (Number.isFinite(ms)) return { ok: true, value: ms };
  }
  return { ok: false, reason: 'invalid_time', detail: `${JSON.stringify(text.slice(0, 64))}: expected ${timeParamFormat}` };
}
