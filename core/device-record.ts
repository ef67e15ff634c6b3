/**
 * The device registry record: the value of the compacted Kafka topic `iot.devices`, keyed by device id.
 * A null value (tombstone) means the device was deleted. Also the device-id rule and secret hashing,
 * because the gateway checks a connecting device's secret against `secretHash`.
 */
import { randomBytes, scrypt, timingSafeEqual } from 'node:crypto';

import { z } from 'zod';

import { isValidMetricName, isValidUnit, maxUnitLength } from './metric-grammar.ts';
import type { Result } from './result.ts';

/** A linear correction of one metric, applied as `value * scale + offset` in the device's reported unit. */
export interface Calibration {
  scale: number;
  offset: number;
}

/** One registered device. Times are epoch milliseconds. */
export interface DeviceRecord {
  deviceId: string;
  /** `scrypt$N$r$p$<salt b64>$<hash b64>`, from {@link hashSecret}. */
  secretHash: string;
  enabled: boolean;
  site?: string;
  model?: string;
  /** Metric name -> unit the device reports that metric in, e.g. `{ temperature: 'degF' }`. */
  units?: Record<string, string>;
  /** Metric name -> linear correction applied as `value * scale + offset`. */
  calibration?: Record<string, Calibration>;
  createdAtMs: number;
  updatedAtMs: number;
}

const deviceIdPattern = /^[A-Za-z0-9_.-]{1,64}$/;
const deviceIdRule = '1..64 characters of [A-Za-z0-9_.-]';

/**
 * A device id is 1..64 characters of `[A-Za-z0-9_.-]`. It is also the MQTT client id and a topic level, so the
 * character set keeps out `/`, `+`, `#` (topic syntax) and a leading `$` (reserved topics, [MQTT-4.7.2-1]).
 */
export function isValidDeviceId(id: unknown): id is string {
  return typeof id === 'string' && deviceIdPattern.test(id);
}

/**
 * Serialises a record as UTF-8 JSON with a stable field order.
 * Throws on an invalid record: writing one would poison the compacted topic, and it is a programming error.
 */
export function encodeDeviceRecord(rec: DeviceRecord): Buffer {
  const checked = validateDeviceRecord(rec);
  if (!checked.ok) throw new Error(`invalid device record: ${checked.reason}`);
  return Buffer.from(JSON.stringify(checked.value), 'utf8');
}

const utf8 = new TextDecoder('utf-8', { fatal: true });

/**
 * Decodes one `iot.devices` record. `value === null` is a tombstone: `{ ok: true, value: null }`.
 * Never throws; a bad record yields `{ ok: false, reason }` naming the offending field.
 * Unknown top-level fields are ignored (dropped) so that older readers accept records written by newer versions.
 */
export function decodeDeviceRecord(deviceId: string, value: Buffer | null): Result<DeviceRecord | null> {
  if (!isValidDeviceId(deviceId)) return fail(`key ${quote(deviceId)} is not a valid device id`);
  if (value === null) return { ok: true, value: null };
  if (value.length === 0) return fail('value is empty (a deletion is a null value, not an empty one)');
  let text: string;
  try {
    text = utf8.decode(value);
  } catch {
    return fail('value is not valid UTF-8');
  }
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch (error) {
    return fail(`value is not valid JSON: ${error instanceof Error ? error.message : String(error)}`);
  }
  const checked = validateDeviceRecord(parsed);
  if (!checked.ok) return checked;
  if (checked.value.deviceId !== deviceId) {
    return fail(`deviceId ${quote(checked.value.deviceId)} does not match the record key ${quote(deviceId)}`);
  }
  return checked;
}

const maxLabelChars = 256;

/**
 * A map of metric name -> T. It goes through a Map because zod's record drops a "__proto__" key, which is a valid
 * metric name that JSON.parse keeps as data; Object.fromEntries then defines it as an own property.
 */
function metricMap<T>(value: z.ZodType<T>, expected: string): z.ZodType<Record<string, T>> {
  const metricName = z.string().refine(isValidMetricName, {
    error: (issue) => `has an invalid metric name ${quote(String(issue.input))}`,
    params: { onKey: true },
  });
  const toMap = (input: unknown): unknown => (isPlainObject(input) ? new Map(Object.entries(input)) : input);
  return z
    .preprocess(toMap, z.map(metricName, value, { error: `must be an object of ${expected}` }))
    .transform((map) => Object.fromEntries(map));
}

const label = z.string({ error: `must be a non-empty string of at most ${maxLabelChars} characters` }).min(1).max(maxLabelChars);
const timestampMs = z.int({ error: (issue) => `must be a non-negative integer (epoch ms), got ${describe(issue.input)}` }).nonnegative();
const scaleError = (issue: { input?: unknown }): string => `must be a non-zero finite number, got ${describe(issue.input)}`;

const calibrationSchema = z.strictObject(
  {
    // a zero scale would flatten every reading to the offset: always a data-entry mistake
    scale: z.number({ error: scaleError }).refine((scale) => scale !== 0, { error: scaleError }),
    offset: z.number({ error: (issue) => `must be a finite number, got ${describe(issue.input)}` }),
  },
  {
    error: (issue) =>
      issue.code === 'unrecognized_keys' ? `has unknown field ${quote(issue.keys[0] ?? '')}` : 'must be an object { scale, offset }',
  },
);

// Field order is the encoding's stable order. Unknown top-level fields are stripped (written by newer versions).
const deviceRecordSchema: z.ZodType<DeviceRecord> = z
  .object(
    {
      deviceId: z.string({ error: (issue) => `must be ${deviceIdRule}, got ${describe(issue.input)}` }).regex(deviceIdPattern),
      secretHash: z
        .string({ error: 'must be a string of the form scrypt$N$r$p$<salt base64>$<hash base64>' })
        .refine((hash) => parseSecretHash(hash) !== null),
      enabled: z.boolean({ error: (issue) => `must be a boolean, got ${describe(issue.input)}` }),
      createdAtMs: timestampMs,
      updatedAtMs: timestampMs,
      site: label.optional(),
      model: label.optional(),
      units: metricMap(
        z.string({ error: `must be a non-empty string of at most ${maxUnitLength} characters` }).refine(isValidUnit),
        'metric -> unit',
      ).optional(),
      calibration: metricMap(calibrationSchema, 'metric -> { scale, offset }').optional(),
    },
    { error: 'must be a JSON object' },
  )
  .refine((rec) => rec.updatedAtMs >= rec.createdAtMs, {
    path: ['updatedAtMs'],
    error: 'must not be earlier than createdAtMs',
    // only compare times that are themselves valid
    when: (payload) => payload.issues.length === 0,
  });

/**
 * Checks any value against the device record schema (the one every writer and reader uses); never throws.
 * A bad value yields `{ ok: false, reason }` naming every offending field, e.g. `site must be a non-empty string ...`.
 */
export function validateDeviceRecord(input: unknown): Result<DeviceRecord> {
  const parsed = deviceRecordSchema.safeParse(input);
  if (parsed.success) return { ok: true, value: parsed.data };
  return fail(parsed.error.issues.map(issueOf).map(describeIssue).join('; '));
}

/** One problem of a device record: the field path (`['calibration', 'temperature', 'scale']`, [] for the record) and what is wrong. */
export interface DeviceRecordIssue {
  path: string[];
  message: string;
}

/** Every problem of a would-be device record, structured (an API points at each); [] when it is valid. */
export function deviceRecordIssues(input: unknown): DeviceRecordIssue[] {
  const parsed = deviceRecordSchema.safeParse(input);
  return parsed.success ? [] : parsed.error.issues.map(issueOf);
}

function issueOf(issue: z.core.$ZodIssue): DeviceRecordIssue {
  // a bad metric name is reported on the map that holds it, not on the name itself
  const path = issue.code === 'custom' && issue.params?.onKey === true ? issue.path.slice(0, -1) : issue.path;
  return { path: path.map(String), message: issue.message };
}

/** One problem as `<field path> <what is wrong>`, e.g. `calibration.temperature.scale must be a non-zero ...`. */
function describeIssue(issue: DeviceRecordIssue): string {
  return `${issue.path.length === 0 ? 'record' : issue.path.join('.')} ${issue.message}`;
}

/** scrypt cost parameters. N is the CPU/memory cost (a power of two), r the block size, p the parallelisation. */
export interface ScryptParams {
  N: number;
  r: number;
  p: number;
  saltBytes: number;
  keyBytes: number;
}

/** Defaults: the interactive-login parameters from the scrypt paper; about 16 MiB and tens of ms per hash. */
export const defaultScryptParams: Readonly<ScryptParams> = { N: 16384, r: 8, p: 1, saltBytes: 16, keyBytes: 32 };

// Bounds on what a stored hash may ask for, so a corrupt or hostile record cannot make verification
// allocate gigabytes or spin for minutes.
const maxScryptMemoryBytes = 64 * 1024 * 1024;
const limits = { maxN: 2 ** 20, maxR: 32, maxP: 16, minSalt: 8, maxSalt: 64, minKey: 16, maxKey: 64 } as const;

function scryptParamsProblem(params: ScryptParams): string | null {
  const { N, r, p, saltBytes, keyBytes } = params;
  if (!Number.isInteger(N) || N < 2 || N > limits.maxN || (N & (N - 1)) !== 0) {
    return `N must be a power of two in 2..${limits.maxN}`;
  }
  if (!Number.isInteger(r) || r < 1 || r > limits.maxR) return `r must be an integer in 1..${limits.maxR}`;
  if (!Number.isInteger(p) || p < 1 || p > limits.maxP) return `p must be an integer in 1..${limits.maxP}`;
  if (128 * N * r > maxScryptMemoryBytes) return `128 * N * r must not exceed ${maxScryptMemoryBytes} bytes`;
  if (!Number.isInteger(saltBytes) || saltBytes < limits.minSalt || saltBytes > limits.maxSalt) {
    return `saltBytes must be an integer in ${limits.minSalt}..${limits.maxSalt}`;
  }
  if (!Number.isInteger(keyBytes) || keyBytes < limits.minKey || keyBytes > limits.maxKey) {
    return `keyBytes must be an integer in ${limits.minKey}..${limits.maxKey}`;
  }
  return null;
}

function deriveKey(secret: string | Buffer, salt: Buffer, params: ScryptParams): Promise<Buffer> {
  const { N, r, p, keyBytes } = params;
  return new Promise((resolve, reject) => {
    // headroom over 128 * N * r, which OpenSSL's own estimate slightly exceeds
    scrypt(secret, salt, keyBytes, { N, r, p, maxmem: 2 * maxScryptMemoryBytes }, (error, key) => {
      if (error) reject(error);
      else resolve(key);
    });
  });
}

/**
 * Hashes a device secret with scrypt and a random 16-byte salt into a self-describing string
 * `scrypt$N$r$p$<salt base64>$<hash base64>`. `params` overrides the defaults (tests use a small N).
 * Rejects on an empty secret or out-of-range parameters (programming errors).
 */
export async function hashSecret(secret: string | Buffer, params: Partial<ScryptParams> = {}): Promise<string> {
  const full: ScryptParams = { ...defaultScryptParams, ...params };
  const problem = scryptParamsProblem(full);
  if (problem !== null) throw new RangeError(`hashSecret: ${problem}`);
  if (secret.length === 0) throw new RangeError('hashSecret: secret must not be empty');
  const salt = randomBytes(full.saltBytes);
  const key = await deriveKey(secret, salt, full);
  return ['scrypt', full.N, full.r, full.p, salt.toString('base64'), key.toString('base64')].join('$');
}

/**
 * Checks a secret against a stored {@link hashSecret} string in constant time (for equal-length hashes).
 * Resolves false, never rejects, when `stored` is malformed or asks for out-of-range parameters.
 */
export async function verifySecret(secret: string | Buffer, stored: string): Promise<boolean> {
  const parsed = parseSecretHash(stored);
  if (parsed === null) return false;
  let key: Buffer;
  try {
    key = await deriveKey(secret, parsed.salt, parsed.params);
  } catch {
    return false;
  }
  return timingSafeEqual(key, parsed.hash);
}

/**
 * A well-formed hash with the default parameters that no secret matches (its key is random bytes). Verifying
 * against it costs what verifying a real device's secret costs, so refusing an unknown id takes as long.
 */
export function unmatchableSecretHash(): string {
  const { N, r, p, saltBytes, keyBytes } = defaultScryptParams;
  return ['scrypt', N, r, p, randomBytes(saltBytes).toString('base64'), randomBytes(keyBytes).toString('base64')].join('$');
}

/** The shortest secret an operator may give a device (`devices add --secret`, the import's secret column, the API); a generated one has 43 characters. */
export const minSecretChars = 8;

/** A new device secret: 32 random bytes, base64url (43 characters, no padding). */
export function generateSecret(): string {
  return randomBytes(32).toString('base64url');
}

const decimalPattern = /^[1-9][0-9]{0,9}$/;

function parseSecretHash(stored: string): { params: ScryptParams; salt: Buffer; hash: Buffer } | null {
  const parts = stored.split('$');
  if (parts.length !== 6 || parts[0] !== 'scrypt') return null;
  const [, nText = '', rText = '', pText = '', saltText = '', hashText = ''] = parts;
  if (!decimalPattern.test(nText) || !decimalPattern.test(rText) || !decimalPattern.test(pText)) return null;
  const salt = decodeCanonicalBase64(saltText);
  const hash = decodeCanonicalBase64(hashText);
  if (salt === null || hash === null) return null;
  const params: ScryptParams = {
    N: Number(nText),
    r: Number(rText),
    p: Number(pText),
    saltBytes: salt.length,
    keyBytes: hash.length,
  };
  if (scryptParamsProblem(params) !== null) return null;
  return { params, salt, hash };
}

function decodeCanonicalBase64(text: string): Buffer | null {
  if (text.length === 0) return null;
  const bytes = Buffer.from(text, 'base64');
  // Buffer.from silently skips junk characters; a round trip proves the text was clean base64
  return bytes.toString('base64') === text ? bytes : null;
}

function isPlainObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function fail(reason: string): { ok: false; reason: string } {
  return { ok: false, reason };
}

function quote(text: string): string {
  return JSON.stringify(text.length > 80 ? `${text.slice(0, 80)}…` : text);
}

function describe(value: unknown): string {
  if (value === undefined) return 'nothing';
  if (typeof value === 'string') return quote(value);
  if (Array.isArray(value)) return 'an array';
  if (value === null) return 'null';
  if (typeof value === 'object') return 'an object';
  if (typeof value === 'number' || typeof value === 'boolean') return String(value);
  return typeof value;
}
