import { describe, expect, it } from 'vitest';
import type { Telemetry } from '../core/telemetry-payload.ts';
import { enrichTelemetry, enrichmentRejections, type CanonicalRow, type DeviceMetadata, type EnrichmentInput } from './enrichment.ts';

const receivedAtMs = Date.UTC(2025, 5, 1, 12, 0, 5);
const eventTimeMs = Date.UTC(2025, 5, 1, 12, 0, 0);

const sensor: DeviceMetadata = {
  deviceId: 'dev-1',
  site: 'plant-a',
  model: 'th-200',
  units: { temperature: 'degF', pressure: 'hPa' },
};

function telemetry(readings: Telemetry['readings'], eventTime: number | null = eventTimeMs): Telemetry {
  return { version: 2, eventTimeMs: eventTime, seq: 17, readings };
}

function input(overrides: Partial<EnrichmentInput>): EnrichmentInput {
  return {
    deviceId: 'dev-1',
    telemetry: telemetry([{ metric: 'temperature', value: 212, unit: null }]),
    receivedAtMs,
    device: sensor,
    unknownDevicePolicy: 'dead-letter',
    ...overrides,
  };
}

function rows(overrides: Partial<EnrichmentInput>): CanonicalRow[] {
  const result = enrichTelemetry(input(overrides));
  if (!result.ok) throw new Error(`expected rows, got ${result.reason} (${result.detail ?? ''})`);
  return result.value;
}

describe('enrichTelemetry', () => {
  it('builds one row per reading with registry labels and the device event time', () => {
    const out = rows({
      telemetry: telemetry([
        { metric: 'temperature', value: 212, unit: null },
        { metric: 'pressure', value: 1013.25, unit: null },
      ]),
    });
    expect(out).toEqual([
      { ts: eventTimeMs, tsSource: 'device', receivedAtMs, device: 'dev-1', site: 'plant-a', model: 'th-200', metric: 'temperature', value: 100, unit: 'degC', seq: 17 },
      { ts: eventTimeMs, tsSource: 'device', receivedAtMs, device: 'dev-1', site: 'plant-a', model: 'th-200', metric: 'pressure', value: 101325, unit: 'Pa', seq: 17 },
    ]);
  });

  it('falls back to the gateway receive time when the device sent none', () => {
    const [row] = rows({ telemetry: telemetry([{ metric: 'count', value: 3, unit: null }], null) });
    expect(row).toMatchObject({ ts: receivedAtMs, tsSource: 'gateway', receivedAtMs });
  });

  it("prefers the reading's own unit over the registry's", () => {
    const [row] = rows({ telemetry: telemetry([{ metric: 'temperature', value: 300, unit: 'K' }]) });
    expect(row?.unit).toBe('degC');
    expect(row?.value).toBeCloseTo(26.85, 10);
  });

  it("stores no unit ('') when neither the reading nor the registry names one", () => {
    const [row] = rows({ telemetry: telemetry([{ metric: 'count', value: 3, unit: null }]) });
    expect(row).toMatchObject({ metric: 'count', value: 3, unit: '' });
  });

  it('applies calibration in the reported unit before converting', () => {
    const device: DeviceMetadata = { ...sensor, calibration: { temperature: { scale: 2, offset: 32 } } };
    // 90 °F * 2 + 32 = 212 °F = 100 °C; converting first would give (32.2 °C * 2 + 32) = 96.4.
    const [row] = rows({ device, telemetry: telemetry([{ metric: 'temperature', value: 90, unit: null }]) });
    expect(row).toMatchObject({ value: 100, unit: 'degC' });
  });

  it('calibrates unitless readings too', () => {
    const device: DeviceMetadata = { deviceId: 'dev-1', calibration: { level: { scale: 0.5, offset: -1 } } };
    const [row] = rows({ device, telemetry: telemetry([{ metric: 'level', value: 10, unit: null }]) });
    expect(row).toMatchObject({ value: 4, unit: '' });
  });

  it('dead-letters an unknown device under the dead-letter policy', () => {
    expect(enrichTelemetry(input({ device: null }))).toEqual({ ok: false, reason: enrichmentRejections.unknownDevice, detail: 'dev-1' });
  });

  it("stores an unknown device as site and model 'unknown' under store-unknown, with units from the reading only", () => {
    const out = rows({
      device: null,
      unknownDevicePolicy: 'store-unknown',
      telemetry: telemetry([
        { metric: 'temperature', value: 212, unit: null },
        { metric: 'voltage', value: 3300, unit: 'mV' },
      ]),
    });
    expect(out.map((r) => [r.site, r.model, r.metric, r.value, r.unit])).toEqual([
      ['unknown', 'unknown', 'temperature', 212, ''],
      ['unknown', 'unknown', 'voltage', 3.3, 'V'],
    ]);
  });

  it("labels a known device without site or model as 'unknown'", () => {
    const [row] = rows({ device: { deviceId: 'dev-1', site: '' } });
    expect(row).toMatchObject({ site: 'unknown', model: 'unknown' });
  });

  it('refuses the whole message when any reading has an unsupported unit, naming the metric', () => {
    const result = enrichTelemetry(
      input({
        telemetry: telemetry([
          { metric: 'temperature', value: 20, unit: 'degC' },
          { metric: 'light', value: 300, unit: 'lux' },
        ]),
      }),
    );
    expect(result).toEqual({ ok: false, reason: enrichmentRejections.unsupportedUnit, detail: 'light: lux' });
  });

  it('refuses an unsupported unit that comes from the registry', () => {
    const device: DeviceMetadata = { deviceId: 'dev-1', units: { depth: 'fathom' } };
    const result = enrichTelemetry(input({ device, telemetry: telemetry([{ metric: 'depth', value: 2, unit: null }]) }));
    expect(result).toMatchObject({ ok: false, reason: enrichmentRejections.unsupportedUnit });
  });

  it('refuses a non-finite calibration and a value that overflows', () => {
    const badCalibration: DeviceMetadata = { deviceId: 'dev-1', calibration: { a: { scale: Number.NaN, offset: 0 } } };
    expect(enrichTelemetry(input({ device: badCalibration, telemetry: telemetry([{ metric: 'a', value: 1, unit: null }]) }))).toEqual({
      ok: false,
      reason: enrichmentRejections.invalidCalibration,
      detail: 'a',
    });
    const huge: DeviceMetadata = { deviceId: 'dev-1', calibration: { a: { scale: Number.MAX_VALUE, offset: 0 } } };
    expect(enrichTelemetry(input({ device: huge, telemetry: telemetry([{ metric: 'a', value: 10, unit: null }]) }))).toMatchObject({
      ok: false,
      reason: enrichmentRejections.valueOutOfRange,
    });
  });

  it('does not mistake Object.prototype members for registry entries', () => {
    const device: DeviceMetadata = { deviceId: 'dev-1', units: {}, calibration: {} };
    const out = rows({
      device,
      telemetry: telemetry([
        { metric: 'constructor', value: 1, unit: null },
        { metric: 'toString', value: 2, unit: null },
      ]),
    });
    expect(out.map((r) => [r.metric, r.value, r.unit])).toEqual([
      ['constructor', 1, ''],
      ['toString', 2, ''],
    ]);
  });

  it('uses the record key as the device id', () => {
    const [row] = rows({ deviceId: 'dev-9', device: { ...sensor, deviceId: 'dev-9' } });
    expect(row?.device).toBe('dev-9');
  });
});
