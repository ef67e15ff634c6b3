import { describe, expect, it } from 'vitest';
import { decodeTelemetry } from '../core/telemetry-payload.ts';
import { createTelemetryEncoder } from './telemetry-encoder.ts';
import { buildTelemetryPayload, simulatedMetrics } from './telemetry-generator.ts';

const encode = (encoder: ReturnType<typeof createTelemetryEncoder>, seq: number, sentAtMs: number): Buffer => {
  const target = Buffer.alloc(encoder.maxBytes + 8, 0xff);
  const end = encoder.write(target, 4, seq, sentAtMs);
  expect(target.subarray(0, 4)).toEqual(Buffer.alloc(4, 0xff));
  expect(end - 4).toBeLessThanOrEqual(encoder.maxBytes);
  return target.subarray(4, end);
};

describe('telemetry encoder', () => {
  const sentAtMs = Date.UTC(2026, 11, 2, 5, 59, 59, 987);

  it.each([1, 2] as const)('writes exactly the bytes buildTelemetryPayload builds (v%i), for every readings count and many seqs', (version) => {
    for (let readings = 0; readings <= simulatedMetrics.length + 1; readings += 1) {
      const encoder = createTelemetryEncoder(version, readings);
      for (const seq of [0, 1, 9, 10, 99, 100, 101, 12_345, 999_999, 2 ** 31, 9_007_199_254_740]) {
        for (const at of [sentAtMs, sentAtMs + 1, sentAtMs + seq, 0, 9]) {
          expect(encode(encoder, seq, at).toString('utf8')).toBe(buildTelemetryPayload(version, seq, at, readings));
        }
      }
    }
  });

  it.each([1, 2] as const)('round-trips through the gateway’s own decoder with distinct seq and time (v%i)', (version) => {
    const encoder = createTelemetryEncoder(version, 3);
    for (let seq = 0; seq < 250; seq += 1) {
      const decoded = decodeTelemetry(encode(encoder, seq, sentAtMs + seq));
      expect(decoded.ok, JSON.stringify(decoded)).toBe(true);
      if (!decoded.ok) return;
      expect(decoded.value).toMatchObject({ version, seq, eventTimeMs: sentAtMs + seq });
      expect(decoded.value.readings.map((r) => r.metric)).toEqual(['temperature', 'humidity', 'pressure']);
    }
  });

  it('writes the v2 time again when the millisecond changes back and forth', () => {
    const encoder = createTelemetryEncoder(2, 1);
    for (const at of [sentAtMs, sentAtMs + 1, sentAtMs, sentAtMs]) expect(encode(encoder, 5, at).toString()).toBe(buildTelemetryPayload(2, 5, at, 1));
  });
});
