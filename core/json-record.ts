/**
 * JSON records checked against a zod schema: the one way core's wire formats (commands, jobs)
 * decode a Kafka value, with every problem of an invalid one in `detail`. Pure; no I/O.
 */
import type { z } from 'zod';
import type { Result } from './result.ts';

/** `path: message; path: message` for every issue, `what` standing for the root. */
export function describeIssues(error: z.ZodError, what: string): string {
  return error.issues.map((issue) => `${issue.path.join('.') || what}: ${issue.message}`).join('; ');
}

/** Parses UTF-8 JSON and checks it: `not_json` or `invalid` (every issue) when it is not a `what`. */
export function parseJsonRecord<T>(bytes: Buffer, schema: z.ZodType<T>, what: string): Result<T> {
  let parsed: unknown;
  try {
    parsed = JSON.parse(bytes.toString('utf8'));
  } catch (error) {
    return { ok: false, reason: 'not_json', detail: `${what} is not valid JSON: ${error instanceof Error ? error.message : String(error)}` };
  }
  const checked = schema.safeParse(parsed);
  return checked.success ? { ok: true, value: checked.data } : { ok: false, reason: 'invalid', detail: describeIssues(checked.error, what) };
}
