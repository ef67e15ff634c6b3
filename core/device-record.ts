/**
 * The device registry record: the value of the compacted Kafka topic `iot.devices`, keyed by device id.
 * A null value (tombstone) means the device was deleted. Also the device-id rule and secret hashing,
 * because the gateway checks a connecting device's secret against `secretHash`.
 */
import { randomBytes, scrypt, timingSafeEqual } from 'node:crypto';

import type { Result } from './result.ts';

export type { Result };

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
const maxMetricNameChars = 128;
const maxUnitChars = 64;

function validateDeviceRecord(input: unknown): Result<DeviceRecord> {
  if (!isPlainObject(input)) return fail('record must be a JSON object');
  const { deviceId, secretHash, enabled, site, model, units, calibration, createdAtMs, updatedAtMs } = input;

  if (!isValidDeviceId(deviceId)) {
    return fail(`deviceId must be 1..64 characters of [A-Za-z0-9_.-], got ${describe(deviceId)}`);
  }
  if (typeof secretHash !== 'string' || parseSecretHash(secretHash) === null) {
    return fail('secretHash must be a string of the form scrypt$N$r$p$<salt base64>$<hash base64>');
  }
  if (typeof enabled !== 'boolean') return fail(`enabled must be a boolean, got ${describe(enabled)}`);

  const rec: DeviceRecord = { deviceId, secretHash, enabled, createdAtMs: 0, updatedAtMs: 0 };
  if (site !== undefined) {
    if (!isLabel(site)) return fail(`site must be a non-empty string of at most ${maxLabelChars} characters`);
    rec.site = site;
  }
  if (model !== undefined) {
    if (!isLabel(model)) return fail(`model must be a non-empty string of at most ${maxLabelChars} characters`);
    rec.model = model;
  }
  if (units !== undefined) {
    const checked = validateUnits(units);
    if (!checked.ok) return checked;
    rec.units = checked.value;
  }
  if (calibration !== undefined) {
    const checked = validateCalibration(calibration);
    if (!checked.ok) return checked;
    rec.calibration = checked.value;
  }
  if (!isTimestampMs(createdAtMs)) {
    return fail(`createdAtMs must be a non-negative integer (epoch ms), got ${describe(createdAtMs)}`);
  }
  if (!isTimestampMs(updatedAtMs)) {
    return fail(`updatedAtMs must be a non-negative integer (epoch ms), got ${describe(updatedAtMs)}`);
  }
  if (updatedAtMs < createdAtMs) return fail('updatedAtMs must not be earlier than createdAtMs');
  rec.createdAtMs = createdAtMs;
  rec.updatedAtMs = updatedAtMs;
  return { ok: true, value: rec };
}

function validateUnits(units: unknown): Result<Record<string, string>> {
  if (!isPlainObject(units)) return fail('units must be an object of metric -> unit');
  const entries: [string, string][] = [];
  for (const [metric, unit] of Object.entries(units)) {
    if (!isMetricName(metric)) return fail(`units has an invalid metric name ${quote(metric)}`);
    if (typeof unit !== 'string' || unit.length === 0 || unit.length > maxUnitChars) {
      return fail(`units.${metric} must be a non-empty string of at most ${maxUnitChars} characters`);
    }
    entries.push([metric, unit]);
  }
  // fromEntries defines own properties, so a "__proto__" metric cannot replace the prototype
  return { ok: true, value: Object.fromEntries(entries) };
}

function validateCalibration(calibration: unknown): Result<Record<string, Calibration>> {
  if (!isPlainObject(calibration)) return fail('calibration must be an object of metric -> { scale, offset }');
  const entries: [string, Calibration][] = [];
  for (const [metric, entry] of Object.entries(calibration)) {
    if (!isMetricName(metric)) return fail(`calibration has an invalid metric name ${quote(metric)}`);
    if (!isPlainObject(entry)) return fail(`calibration.${metric} must be an object { scale, offset }`);
    const { scale, offset, ...extra } = entry;
    const extraKeys = Object.keys(extra);
    if (extraKeys.length > 0) return fail(`calibration.${metric} has unknown field ${quote(extraKeys[0] ?? '')}`);
    // a zero scale would flatten every reading to the offset: always a data-entry mistake
    if (typeof scale !== 'number' || !Number.isFinite(scale) || scale === 0) {
      return fail(`calibration.${metric}.scale must be a non-zero finite number, got ${describe(scale)}`);
    }
    if (typeof offset !== 'number' || !Number.isFinite(offset)) {
      return fail(`calibration.${metric}.offset must be a finite number, got ${describe(offset)}`);
    }
    entries.push([metric, { scale, offset }]);
  }
  return { ok: true, value: Object.fromEntries(entries) };
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

function isLabel(value: unknown): value is string {
  return typeof value === 'string' && value.length > 0 && value.length <= maxLabelChars;
}

function isMetricName(name: string): boolean {
  return name.length > 0 && name.length <= maxMetricNameChars;
}

function isTimestampMs(value: unknown): value is number {
  return typeof value === 'number' && Number.isSafeInteger(value) && value >= 0;
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
