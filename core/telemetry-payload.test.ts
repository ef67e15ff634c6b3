import { describe, expect, it } from 'vitest';
import {
  decodeTelemetry,
  maxReadingsPerMessage,
  telemetryRejections as R,
  type Telemetry,
} from './telemetry-payload.ts';
import type { Result } from './result.ts';

const t0 = Date.UTC(2025, 5, 1, 12, 0, 0);

function ok(result: Result<Telemetry>): Telemetry {
  if (!result.ok) throw new Error(`expected ok, got ${result.reason} (${result.detail ?? ''})`);
  return result.value;
}

function reasonOf(payload: unknown): string {
  const result = decodeTelemetry(typeof payload === 'string' ? payload : JSON.stringify(payload));
  return result.ok ? 'ok' : result.reason;
}

function v2Time(time: unknown): Result<Telemetry> {
  return decodeTelemetry(JSON.stringify({ v: 2, time, seq: 1, readings: [{ name: 'x', value: 1 }] }));
}

describe('decodeTelemetry v1', () => {
  it('decodes metrics into readings without units', () => {
    const t = ok(decodeTelemetry(JSON.stringify({ v: 1, ts: t0, seq: 7, metrics: { temperature: 21.5, 'battery.pct': 90 } })));
    expect(t).toEqual({
      version: 1,
      eventTimeMs: t0,
      seq: 7,
      readings: [
        { metric: 'temperature', value: 21.5, unit: null },
        { metric: 'battery.pct', value: 90, unit: null },
      ],
    });
  });

  it('accepts a Buffer payload', () => {
    const t = ok(decodeTelemetry(Buffer.from(JSON.stringify({ v: 1, ts: t0, seq: 0, metrics: { a: -1 } }))));
    expect(t.seq).toBe(0);
    expect(t.readings).toEqual([{ metric: 'a', value: -1, unit: null }]);
  });

  it('gives a null event time when ts is missing or null', () => {
    expect(ok(decodeTelemetry('{"v":1,"seq":1,"metrics":{"a":1}}')).eventTimeMs).toBeNull();
    expect(ok(decodeTelemetry('{"v":1,"ts":null,"seq":1,"metrics":{"a":1}}')).eventTimeMs).toBeNull();
  });

  it('refuses timestamps that are not sane epoch milliseconds', () => {
    expect(reasonOf({ v: 1, ts: '2025-01-01', seq: 1, metrics: { a: 1 } })).toBe(R.invalidTimestamp);
    expect(reasonOf({ v: 1, ts: 1_700_000_000, seq: 1, metrics: { a: 1 } })).toBe(R.invalidTimestamp); // seconds, not ms
    expect(reasonOf({ v: 1, ts: Date.UTC(2100, 0, 1), seq: 1, metrics: { a: 1 } })).toBe(R.invalidTimestamp);
    expect(reasonOf('{"v":1,"ts":1e999,"seq":1,"metrics":{"a":1}}')).toBe(R.invalidTimestamp);
    expect(reasonOf({ v: 1, ts: Date.UTC(2000, 0, 1), seq: 1, metrics: { a: 1 } })).toBe('ok');
  });

  it('refuses missing, empty or non-object metrics', () => {
    expect(reasonOf({ v: 1, ts: t0, seq: 1 })).toBe(R.noReadings);
    expect(reasonOf({ v: 1, ts: t0, seq: 1, metrics: {} })).toBe(R.noReadings);
    expect(reasonOf({ v: 1, ts: t0, seq: 1, metrics: [1, 2] })).toBe(R.invalidReadings);
    expect(reasonOf({ v: 1, ts: t0, seq: 1, metrics: 5 })).toBe(R.invalidReadings);
  });

  it('refuses non-numeric values: strings, booleans, null, objects and overflowing numbers', () => {
    for (const value of ['1', true, null, { x: 1 }, [1]]) {
      expect(reasonOf({ v: 1, ts: t0, seq: 1, metrics: { a: value } }), JSON.stringify(value)).toBe(R.nonNumericValue);
    }
    expect(reasonOf('{"v":1,"seq":1,"metrics":{"a":-1e400}}')).toBe(R.nonNumericValue);
  });

  it('names the metric in the detail of a bad value', () => {
    const result = decodeTelemetry(JSON.stringify({ v: 1, seq: 1, metrics: { good: 1, humidity: 'wet' } }));
    expect(result).toMatchObject({ ok: false, reason: R.nonNumericValue });
    expect(!result.ok && result.detail).toContain('humidity');
  });

  it('refuses bad metric names', () => {
    expect(reasonOf({ v: 1, seq: 1, metrics: { 'temp erature': 1 } })).toBe(R.invalidMetricName);
    expect(reasonOf({ v: 1, seq: 1, metrics: { '': 1 } })).toBe(R.invalidMetricName);
    expect(reasonOf({ v: 1, seq: 1, metrics: { ['x'.repeat(65)]: 1 } })).toBe(R.invalidMetricName);
    expect(reasonOf({ v: 1, seq: 1, metrics: { ['x'.repeat(64)]: 1 } })).toBe('ok');
  });

  it('caps the number of readings', () => {
    const metrics = (n: number) => Object.fromEntries(Array.from({ length: n }, (_, i) => [`m${i}`, i]));
    expect(reasonOf({ v: 1, seq: 1, metrics: metrics(maxReadingsPerMessage) })).toBe('ok');
    expect(reasonOf({ v: 1, seq: 1, metrics: metrics(maxReadingsPerMessage + 1) })).toBe(R.tooManyReadings);
  });
});

describe('decodeTelemetry v2', () => {
  it('decodes readings with their units', () => {
    const t = ok(
      decodeTelemetry(
        JSON.stringify({
          v: 2,
          time: '2025-06-01T12:00:00Z',
          seq: 42,
          readings: [
            { name: 'temperature', value: 70.1, unit: 'degF' },
            { name: 'count', value: 3 },
            { name: 'ratio', value: 0.5, unit: '' },
          ],
        }),
      ),
    );
    expect(t).toEqual({
      version: 2,
      eventTimeMs: t0,
      seq: 42,
      readings: [
        { metric: 'temperature', value: 70.1, unit: 'degF' },
        { metric: 'count', value: 3, unit: null },
        { metric: 'ratio', value: 0.5, unit: null },
      ],
    });
  });

  it('applies the offset and keeps fractional seconds', () => {
    expect(ok(v2Time('2025-06-01T14:00:00+02:00')).eventTimeMs).toBe(t0);
    expect(ok(v2Time('2025-06-01T07:30:00-04:30')).eventTimeMs).toBe(t0);
    expect(ok(v2Time('2025-06-01t12:00:00.250z')).eventTimeMs).toBe(t0 + 250);
    expect(ok(v2Time('2025-06-01 12:00:00.007Z')).eventTimeMs).toBe(t0 + 7);
    expect(ok(v2Time('2025-06-01T12:00:00.123456Z')).eventTimeMs).toBeCloseTo(t0 + 123.456, 3);
    expect(ok(v2Time('2024-02-29T00:00:00Z')).eventTimeMs).toBe(Date.UTC(2024, 1, 29));
  });

  it('gives a null event time when time is missing', () => {
    expect(ok(decodeTelemetry('{"v":2,"seq":1,"readings":[{"name":"a","value":1}]}')).eventTimeMs).toBeNull();
  });

  it('refuses times that are not RFC 3339 with an offset', () => {
    for (const time of [
      '2025-06-01T12:00:00', // no offset: local time of an unknown zone
      '2025-06-01',
      '2025-06-01T12:00Z',
      'June 1 2025 12:00 UTC',
      '2025-13-01T00:00:00Z',
      '2025-02-29T00:00:00Z', // not a leap year
      '2025-04-31T00:00:00Z',
      '2025-06-01T24:00:00Z',
      '2025-06-01T12:00:00+24:00',
      '1999-12-31T23:59:59Z',
      '2100-01-01T00:00:00Z',
      1_748_779_200_000,
    ]) {
      const result = v2Time(time);
      expect(result.ok ? 'ok' : result.reason, String(time)).toBe(R.invalidTimestamp);
    }
  });

  it('refuses a missing, empty or non-array readings list and non-object entries', () => {
    expect(reasonOf({ v: 2, seq: 1 })).toBe(R.noReadings);
    expect(reasonOf({ v: 2, seq: 1, readings: [] })).toBe(R.noReadings);
    expect(reasonOf({ v: 2, seq: 1, readings: { a: 1 } })).toBe(R.invalidReadings);
    expect(reasonOf({ v: 2, seq: 1, readings: [42] })).toBe(R.invalidReadings);
  });

  it('refuses bad names, values and units inside readings', () => {
    expect(reasonOf({ v: 2, seq: 1, readings: [{ value: 1 }] })).toBe(R.invalidMetricName);
    expect(reasonOf({ v: 2, seq: 1, readings: [{ name: 'a/b', value: 1 }] })).toBe(R.invalidMetricName);
    expect(reasonOf({ v: 2, seq: 1, readings: [{ name: 'a', value: '1' }] })).toBe(R.nonNumericValue);
    expect(reasonOf({ v: 2, seq: 1, readings: [{ name: 'a' }] })).toBe(R.nonNumericValue);
    expect(reasonOf({ v: 2, seq: 1, readings: [{ name: 'a', value: 1, unit: 5 }] })).toBe(R.invalidUnit);
    expect(reasonOf({ v: 2, seq: 1, readings: [{ name: 'a', value: 1, unit: 'u'.repeat(33) }] })).toBe(R.invalidUnit);
  });

  it('refuses two readings of the same metric, for short and long lists', () => {
    expect(reasonOf({ v: 2, seq: 1, readings: [{ name: 'a', value: 1 }, { name: 'a', value: 2 }] })).toBe(R.duplicateMetric);
    const many = Array.from({ length: 40 }, (_, i) => ({ name: `m${i}`, value: i }));
    expect(reasonOf({ v: 2, seq: 1, readings: many })).toBe('ok');
    expect(reasonOf({ v: 2, seq: 1, readings: [...many, { name: 'm3', value: 0 }] })).toBe(R.duplicateMetric);
  });

  it('caps the number of readings', () => {
    const readings = Array.from({ length: maxReadingsPerMessage + 1 }, (_, i) => ({ name: `m${i}`, value: i }));
    expect(reasonOf({ v: 2, seq: 1, readings })).toBe(R.tooManyReadings);
  });
});

describe('decodeTelemetry envelope checks', () => {
  it('refuses invalid JSON and non-objects', () => {
    expect(reasonOf('{"v":1,')).toBe(R.invalidJson);
    expect(reasonOf('')).toBe(R.invalidJson);
    expect(decodeTelemetry(Buffer.from([0xff, 0xfe, 0x00]))).toMatchObject({ ok: false, reason: R.invalidJson });
    expect(reasonOf('null')).toBe(R.notObject);
    expect(reasonOf('[1,2]')).toBe(R.notObject);
    expect(reasonOf('42')).toBe(R.notObject);
  });

  it('refuses unknown or missing versions', () => {
    expect(reasonOf({ seq: 1, metrics: { a: 1 } })).toBe(R.unknownVersion);
    expect(reasonOf({ v: 3, seq: 1, metrics: { a: 1 } })).toBe(R.unknownVersion);
    expect(reasonOf({ v: '1', seq: 1, metrics: { a: 1 } })).toBe(R.unknownVersion);
  });

  it('refuses a missing or invalid seq', () => {
    expect(reasonOf({ v: 1, metrics: { a: 1 } })).toBe(R.missingSeq);
    expect(reasonOf({ v: 2, seq: null, readings: [{ name: 'a', value: 1 }] })).toBe(R.missingSeq);
    for (const seq of [-1, 1.5, '1', 2 ** 53, true]) {
      expect(reasonOf({ v: 1, seq, metrics: { a: 1 } }), String(seq)).toBe(R.invalidSeq);
    }
    expect(reasonOf({ v: 1, seq: Number.MAX_SAFE_INTEGER, metrics: { a: 1 } })).toBe('ok');
  });

  it('keeps details short when echoing bad input', () => {
    const result = decodeTelemetry(JSON.stringify({ v: 1, seq: 1, metrics: { ['bad name '.repeat(100)]: 1 } }));
    expect(result.ok).toBe(false);
    expect(!result.ok && (result.detail ?? '').length).toBeLessThanOrEqual(81);
  });

  it('every reason code is distinct', () => {
    const codes = Object.values(R);
    expect(new Set(codes).size).toBe(codes.length);
  });
});
