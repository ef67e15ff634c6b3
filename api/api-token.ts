/**
 * The API's bearer tokens: the token string a caller presents, `trb_<id>_<secret>`, and the record
 * stored for it on the compacted `iot.api-tokens` topic (key = id), which holds the SHA-256 of the
 * secret, never the secret (docs/adr/0015-api-tokens.md). Pure: no I/O.
 */
import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';
import { z } from 'zod';
import { scopes, type Principal, type Scope } from './api-routes.ts';
import type { Result } from '../core/result.ts';

/** One token as stored. Times are epoch milliseconds; a revoked token keeps its record, so `tokens list` shows it. */
export interface ApiTokenRecord {
  id: string;
  name: string;
  scopes: Scope[];
  /** SHA-256 of the secret, lowercase hex. */
  hash: string;
  createdAtMs: number;
  revokedAtMs: number | null;
}

// The id has no `_`, so the token splits unambiguously; the secret is base64url of 32 bytes (43 characters, may contain `_`).
const tokenIdPattern = /^[0-9a-f]{16}$/;
const tokenPattern = /^trb_([0-9a-f]{16})_([A-Za-z0-9_-]{43})$/;
const secretBytes = 32;
const maxNameChars = 128;

const recordSchema = z.strictObject({
  id: z.string().regex(tokenIdPattern, 'must be 16 lowercase hex digits'),
  name: z.string().min(1).max(maxNameChars),
  scopes: z.array(z.enum(scopes)).min(1),
  hash: z.string().regex(/^[0-9a-f]{64}$/, 'must be 64 lowercase hex digits (SHA-256)'),
  createdAtMs: z.int().nonnegative(),
  revokedAtMs: z.int().nonnegative().nullable(),
});

/** Whether `id` can be a token id (16 lowercase hex digits). */
export function isValidTokenId(id: unknown): id is string {
  return typeof id === 'string' && tokenIdPattern.test(id);
}

/** Parses `trb_<id>_<secret>`; null for anything else. */
export function parseToken(token: string): { id: string; secret: string } | null {
  const match = tokenPattern.exec(token);
  return match ? { id: match[1]!, secret: match[2]! } : null;
}

function sha256Hex(secret: string): string {
  return createHash('sha256').update(secret, 'utf8').digest('hex');
}

/**
 * A new token: the string to hand to the caller once, and the record to store. Refuses (a Result)
 * a name that is empty or too long and an empty scope list, so the CLI can say what was wrong.
 */
export function issueToken(input: { name: string; scopes: readonly Scope[]; nowMs: number }): Result<{ token: string; record: ApiTokenRecord }> {
  const id = randomBytes(8).toString('hex');
  const secret = randomBytes(secretBytes).toString('base64url');
  const record = { id, name: input.name, scopes: [...new Set(input.scopes)], hash: sha256Hex(secret), createdAtMs: input.nowMs, revokedAtMs: null };
  const checked = validateTokenRecord(record);
  if (!checked.ok) return checked;
  return { ok: true, value: { token: `trb_${id}_${secret}`, record: checked.value } };
}

export function validateTokenRecord(input: unknown): Result<ApiTokenRecord> {
  const parsed = recordSchema.safeParse(input);
  if (parsed.success) return { ok: true, value: parsed.data };
  return { ok: false, reason: 'invalid_token_record', detail: parsed.error.issues.map((issue) => `${issue.path.join('.') || 'record'} ${issue.message}`).join('; ') };
}

/** Throws on an invalid record: writing one would poison the compacted topic (a programming error). */
export function encodeTokenRecord(record: ApiTokenRecord): Buffer {
  const checked = validateTokenRecord(record);
  if (!checked.ok) throw new Error(`invalid token record: ${checked.detail ?? checked.reason}`);
  return Buffer.from(JSON.stringify(checked.value), 'utf8');
}

/** Decodes one `iot.api-tokens` record; a null value (tombstone) is `{ ok: true, value: null }`. Never throws. */
export function decodeTokenRecord(key: string, value: Buffer | null): Result<ApiTokenRecord | null> {
  if (!tokenIdPattern.test(key)) return { ok: false, reason: 'invalid_token_record', detail: `key ${JSON.stringify(key.slice(0, 40))} is not a token id` };
  if (value === null) return { ok: true, value: null };
  let parsed: unknown;
  try {
    parsed = JSON.parse(value.toString('utf8'));
  } catch {
    return { ok: false, reason: 'invalid_token_record', detail: 'value is not valid JSON' };
  }
  const checked = validateTokenRecord(parsed);
  if (checked.ok && checked.value.id !== key) return { ok: false, reason: 'invalid_token_record', detail: `id ${checked.value.id} does not match the record key ${key}` };
  return checked;
}

// Compared against when the id is unknown, so an unknown id costs what a wrong secret costs.
const unmatchableHash = Buffer.alloc(32);

/**
 * The principal a presented token authenticates, or null: malformed, unknown id, revoked, or a
 * secret whose hash differs (compared in constant time). `lookup` gives the stored record by id.
 */
export function verifyToken(token: string, lookup: (id: string) => ApiTokenRecord | undefined): Principal | null {
  const parsed = parseToken(token);
  if (parsed === null) return null;
  const record = lookup(parsed.id);
  const presented = createHash('sha256').update(parsed.secret, 'utf8').digest();
  const stored = record ? Buffer.from(record.hash, 'hex') : unmatchableHash;
  const matches = timingSafeEqual(presented, stored);
  if (!record || !matches || record.revokedAtMs !== null) return null;
  return { tokenId: record.id, name: record.name, scopes: record.scopes };
}

/** `read,operate` → scopes; every unknown word is named. */
export function parseScopes(text: string): Result<Scope[]> {
  const words = text.split(',').map((word) => word.trim()).filter((word) => word !== '');
  const unknown = words.filter((word) => !(scopes as readonly string[]).includes(word));
  if (unknown.length > 0) return { ok: false, reason: 'unknown_scope', detail: `unknown scope(s) ${unknown.join(', ')}; expected some of ${scopes.join(', ')}` };
  if (words.length === 0) return { ok: false, reason: 'no_scope', detail: `at least one scope is needed: ${scopes.join(', ')}` };
  return { ok: true, value: words as Scope[] };
}
