import { describe, expect, it } from 'vitest';
import { decodeTelemetry } from '../core/telemetry-payload.ts';
import { buildTelemetryPayload, probeMetric, schemaVersionOf, seqOfPayload, simulatedMetrics } from './telemetry-generator.ts';

describe('telemetry generator', () => {
  const sentAtMs = Date.UTC(2025, 5, 1, 12, 0, 0, 123);

  it.each([1, 2] as const)('builds v%i payloads the pipeline decodes, with seq and send time', (version) => {
    const payload = buildTelemetryPayload(version, 41, sentAtMs, 3);
    const decoded = decodeTelemetry(payload);
    expect(decoded.ok, JSON.stringify(decoded)).toBe(true);
    if (!decoded.ok) return;
    expect(decoded.value).toMatchObject({ version, seq: 41, eventTimeMs: sentAtMs });
    expect(decoded.value.readings.map((r) => r.metric)).toEqual(['temperature', 'humidity', 'pressure']);
    expect(decoded.value.readings[0]!.metric).toBe(probeMetric);
    if (version === 2) expect(decoded.value.readings.map((r) => r.unit)).toEqual(['degC', '%', 'hPa']);
  });

  it('clamps the readings count to the known metrics', () => {
    const decoded = decodeTelemetry(buildTelemetryPayload(1, 0, sentAtMs, 99));
    expect(decoded.ok && decoded.value.readings.length).toBe(simulatedMetrics.length);
    const one = decodeTelemetry(buildTelemetryPayload(2, 0, sentAtMs, 0));
    expect(one.ok && one.value.readings.length).toBe(1);
  });

  it('gives the same values for the same seq', () => {
    expect(buildTelemetryPayload(1, 7, sentAtMs, 8)).toBe(buildTelemetryPayload(1, 7, sentAtMs, 8));
  });

  it('reads the seq back cheaply', () => {
    expect(seqOfPayload(Buffer.from(buildTelemetryPayload(2, 123_456, sentAtMs, 2)))).toBe(123_456);
    expect(seqOfPayload('{"v":1}')).toBeNull();
  });

  it('spreads v2 devices evenly at the requested share', () => {
    const count = (percent: number, devices: number): number =>
      Array.from({ length: devices }, (_, i) => schemaVersionOf(i, percent)).filter((v) => v === 2).length;
    expect(count(0, 100)).toBe(0);
    expect(count(100, 100)).toBe(100);
    expect(count(30, 1000)).toBe(300);
    expect(count(50, 3)).toBe(1);
    expect([0, 1, 2, 3].map((i) => schemaVersionOf(i, 50))).toEqual([1, 2, 1, 2]);
  });
});
