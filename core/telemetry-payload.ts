/**
 * Telemetry payload decoding: the two JSON schema versions devices publish, validated into one shape.
 *
 *   v1: {"v":1,"ts":<epoch ms>,"seq":<uint>,"metrics":{"<name>":<number>,...}}
 *   v2: {"v":2,"time":"<RFC 3339>","seq":<uint>,"readings":[{"name":"...","value":<number>,"unit":"..."}]}
 *
 * Pure and synchronous. Bad input is data: every refusal is a result with a stable reason code from
 * `telemetryRejections`, never an exception. Metric names and units follow core/metric-grammar.ts.
 */
import { isValidMetricName, isValidUnit, maxUnitLength, metricNameRule } from './metric-grammar.ts';
import type { Result } from './result.ts';

/** A failed Result, usable as any Result<T>. */
type Failure = { ok: false; reason: string; detail?: string };

/** One measurement from a message. `unit` is the device's own unit string, null when it named none. */
export interface TelemetryReading {
  metric: string;
  value: number;
  unit: string | null;
}

/** A decoded telemetry message. `eventTimeMs` is null when the device sent no timestamp. */
export interface Telemetry {
  version: 1 | 2;
  eventTimeMs: number | null;
  seq: number;
  readings: TelemetryReading[];
}

/** Reason codes for refused payloads; counted and written to the dead-letter `dlq.reason` header. */
export const telemetryRejections = {
  invalidJson: 'invalid_json',
  notObject: 'not_object',
  unknownVersion: 'unknown_version',
  missingSeq: 'missing_seq',
  invalidSeq: 'invalid_seq',
  invalidTimestamp: 'invalid_timestamp',
  noReadings: 'no_readings',
  invalidReadings: 'invalid_readings',
  invalidMetricName: 'invalid_metric_name',
  duplicateMetric: 'duplicate_metric',
  nonNumericValue: 'non_numeric_value',
  invalidUnit: 'invalid_unit',
  tooManyReadings: 'too_many_readings',
} as const;

export type TelemetryRejection = (typeof telemetryRejections)[keyof typeof telemetryRejections];

/** Most readings one message may carry; bounds the work and the rows one message can cause. */
export const maxReadingsPerMessage = 256;
/** Event times outside [2000-01-01, 2100-01-01) UTC are refused: a clock that far off is not a clock. */
const minEventTimeMs = Date.UTC(2000, 0, 1);
const maxEventTimeMs = Date.UTC(2100, 0, 1);

// RFC 3339 date-time: the offset (Z or ±hh:mm) is required; 't' and ' ' separators are allowed per §5.6's note.
const rfc3339Pattern =
  /^(\d{4})-(\d{2})-(\d{2})[Tt ](\d{2}):(\d{2}):(\d{2})(\.\d{1,9})?(?:([Zz])|([+-])(\d{2}):(\d{2}))$/;
const daysInMonth = [31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31];
// Bad input is echoed into details and logs; keep it short.
const maxDetailChars = 80;

function fail(reason: TelemetryRejection, detail?: string): Failure {
  return detail === undefined ? { ok: false, reason } : { ok: false, reason, detail };
}

function clip(text: string): string {
  return text.length <= maxDetailChars ? text : `${text.slice(0, maxDetailChars)}…`;
}

function isPlainObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/**
 * Decode one telemetry payload (UTF-8 JSON). Checks, in order: JSON, object, version, seq, timestamp,
 * readings (count, names, values, units). The first problem found is the reason.
 */
export function decodeTelemetry(payload: Buffer | string): Result<Telemetry> {
  let parsed: unknown;
  try {
    parsed = JSON.parse(typeof payload === 'string' ? payload : payload.toString('utf8'));
  } catch {
    return fail(telemetryRejections.invalidJson);
  }
  if (!isPlainObject(parsed)) return fail(telemetryRejections.notObject);

  const version = parsed.v;
  if (version !== 1 && version !== 2) {
    return fail(telemetryRejections.unknownVersion, version === undefined ? 'v is missing' : clip(`v=${JSON.stringify(version)}`));
  }

  const seq = parsed.seq;
  if (seq === undefined || seq === null) return fail(telemetryRejections.missingSeq);
  if (typeof seq !== 'number' || !Number.isSafeInteger(seq) || seq < 0) {
    return fail(telemetryRejections.invalidSeq, 'seq must be an unsigned safe integer');
  }

  const time = version === 1 ? decodeEpochMs(parsed.ts) : decodeRfc3339(parsed.time);
  if (!time.ok) return time;

  const readings = version === 1 ? decodeMetricsObject(parsed.metrics) : decodeReadingsArray(parsed.readings);
  if (!readings.ok) return readings;

  return { ok: true, value: { version, eventTimeMs: time.value, seq, readings: readings.value } };
}

function decodeEpochMs(ts: unknown): Result<number | null> {
  if (ts === undefined || ts === null) return { ok: true, value: null };
  if (typeof ts !== 'number' || !Number.isFinite(ts)) {
    return fail(telemetryRejections.invalidTimestamp, 'ts must be a number of epoch milliseconds');
  }
  if (ts < minEventTimeMs || ts >= maxEventTimeMs) {
    return fail(telemetryRejections.invalidTimestamp, 'ts is outside years 2000..2099');
  }
  return { ok: true, value: ts };
}

function decodeRfc3339(time: unknown): Result<number | null> {
  if (time === undefined || time === null) return { ok: true, value: null };
  if (typeof time !== 'string') return fail(telemetryRejections.invalidTimestamp, 'time must be an RFC 3339 string');
  const m = rfc3339Pattern.exec(time);
  if (m === null) {
    return fail(telemetryRejections.invalidTimestamp, clip(`not RFC 3339 with an offset: ${time}`));
  }
  const year = Number(m[1]);
  const month = Number(m[2]);
  const day = Number(m[3]);
  const hour = Number(m[4]);
  const minute = Number(m[5]);
  const second = Number(m[6]);
  const leap = month === 2 && year % 4 === 0 && (year % 100 !== 0 || year % 400 === 0) ? 1 : 0;
  if (
    month < 1 || month > 12 ||
    day < 1 || day > (daysInMonth[month - 1] ?? 0) + leap ||
    hour > 23 || minute > 59 ||
    second > 60 // 60 is a leap second; Date.UTC rolls it into the next minute
  ) {
    return fail(telemetryRejections.invalidTimestamp, clip(`field out of range: ${time}`));
  }
  let offsetMinutes = 0;
  if (m[8] === undefined) {
    const offsetHours = Number(m[10]);
    const offsetMins = Number(m[11]);
    if (offsetHours > 23 || offsetMins > 59) {
      return fail(telemetryRejections.invalidTimestamp, clip(`offset out of range: ${time}`));
    }
    offsetMinutes = (m[9] === '-' ? -1 : 1) * (offsetHours * 60 + offsetMins);
  }
  // m[7] is ".d…"; as integer nanoseconds / 1e6 so whole milliseconds stay exact, finer digits a fraction.
  const fractionMs = m[7] === undefined ? 0 : Number(m[7].slice(1).padEnd(9, '0')) / 1e6;
  const ms = Date.UTC(year, month - 1, day, hour, minute, second) + fractionMs - offsetMinutes * 60_000;
  if (ms < minEventTimeMs || ms >= maxEventTimeMs) {
    return fail(telemetryRejections.invalidTimestamp, 'time is outside years 2000..2099');
  }
  return { ok: true, value: ms };
}

function checkValue(metric: string, value: unknown): Failure | null {
  if (typeof value === 'number' && Number.isFinite(value)) return null;
  return fail(telemetryRejections.nonNumericValue, clip(`${metric}: expected a finite number`));
}

function checkName(name: unknown): Failure | null {
  if (typeof name === 'string' && isValidMetricName(name)) return null;
  const shown = typeof name === 'string' ? name : JSON.stringify(name) ?? typeof name;
  return fail(telemetryRejections.invalidMetricName, clip(`"${shown}": ${metricNameRule}`));
}

function decodeMetricsObject(metrics: unknown): Result<TelemetryReading[]> {
  if (metrics === undefined || metrics === null) return fail(telemetryRejections.noReadings, 'metrics is missing');
  if (!isPlainObject(metrics)) return fail(telemetryRejections.invalidReadings, 'metrics must be an object');
  // JSON.parse already collapsed duplicate keys (last wins), so v1 names are unique here.
  const names = Object.keys(metrics);
  if (names.length === 0) return fail(telemetryRejections.noReadings);
  if (names.length > maxReadingsPerMessage) {
    return fail(telemetryRejections.tooManyReadings, `${names.length} > ${maxReadingsPerMessage}`);
  }
  const readings: TelemetryReading[] = new Array<TelemetryReading>(names.length);
  for (let i = 0; i < names.length; i++) {
    const metric = names[i] as string;
    const nameProblem = checkName(metric);
    if (nameProblem !== null) return nameProblem;
    const value = metrics[metric];
    const valueProblem = checkValue(metric, value);
    if (valueProblem !== null) return valueProblem;
    readings[i] = { metric, value: value as number, unit: null };
  }
  return { ok: true, value: readings };
}

function decodeReadingsArray(list: unknown): Result<TelemetryReading[]> {
  if (list === undefined || list === null) return fail(telemetryRejections.noReadings, 'readings is missing');
  if (!Array.isArray(list)) return fail(telemetryRejections.invalidReadings, 'readings must be an array');
  const count = list.length;
  if (count === 0) return fail(telemetryRejections.noReadings);
  if (count > maxReadingsPerMessage) {
    return fail(telemetryRejections.tooManyReadings, `${count} > ${maxReadingsPerMessage}`);
  }
  const readings: TelemetryReading[] = new Array<TelemetryReading>(count);
  for (let i = 0; i < count; i++) {
    const entry: unknown = list[i];
    if (!isPlainObject(entry)) return fail(telemetryRejections.invalidReadings, `readings[${i}] must be an object`);
    const nameProblem = checkName(entry.name);
    if (nameProblem !== null) return nameProblem;
    const metric = entry.name as string;
    const valueProblem = checkValue(metric, entry.value);
    if (valueProblem !== null) return valueProblem;
    const unit = decodeUnit(metric, entry.unit);
    if (!unit.ok) return unit;
    readings[i] = { metric, value: entry.value as number, unit: unit.value };
  }
  // Two readings of one metric in one message would collide on the table's DEDUP keys; refuse, don't guess.
  const duplicate = findDuplicateMetric(readings);
  if (duplicate !== null) return fail(telemetryRejections.duplicateMetric, clip(duplicate));
  return { ok: true, value: readings };
}

function decodeUnit(metric: string, unit: unknown): Result<string | null> {
  if (unit === undefined || unit === null || unit === '') return { ok: true, value: null };
  if (typeof unit !== 'string' || !isValidUnit(unit)) {
    return fail(telemetryRejections.invalidUnit, clip(`${metric}: unit must be a string of at most ${maxUnitLength} chars`));
  }
  return { ok: true, value: unit };
}

function findDuplicateMetric(readings: TelemetryReading[]): string | null {
  const count = readings.length;
  // A pairwise scan allocates nothing and beats a Set for the usual handful of readings.
  if (count <= 16) {
    for (let i = 1; i < count; i++) {
      const metric = (readings[i] as TelemetryReading).metric;
      for (let j = 0; j < i; j++) if ((readings[j] as TelemetryReading).metric === metric) return metric;
    }
    return null;
  }
  const seen = new Set<string>();
  for (const reading of readings) {
    if (seen.has(reading.metric)) return reading.metric;
    seen.add(reading.metric);
  }
  return null;
}
