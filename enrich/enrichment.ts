/**
 * Enrichment: one decoded telemetry message plus the device's registry entry → canonical rows, one per
 * reading, ready for the QuestDB writer. Pure; no I/O.
 */
import type { Result } from '../core/result.ts';
import type { Telemetry, TelemetryReading } from '../core/telemetry-payload.ts';
import { normaliseUnit, unitRejections } from './units.ts';

/**
 * The registry fields enrichment reads; a structural subset of core/device-record.ts's DeviceRecord,
 * declared here so this module depends only on the shape.
 */
export interface DeviceMetadata {
  deviceId: string;
  site?: string;
  model?: string;
  /** metric → the unit the device reports it in, for readings that carry no unit of their own. */
  units?: Record<string, string>;
  /** metric → linear correction applied in the device's reported unit. */
  calibration?: Record<string, { scale: number; offset: number }>;
}

/** What to do with telemetry from a device the registry does not know. */
export type UnknownDevicePolicy = 'dead-letter' | 'store-unknown';

/** One stored reading: a row of the readings table (Kafka partition/offset are added by the writer). */
export interface CanonicalRow {
  /** Epoch ms: the device's event time, or the gateway receive time when the device sent none. */
  ts: number;
  tsSource: 'device' | 'gateway';
  receivedAtMs: number;
  device: string;
  /** 'unknown' when the registry has none. */
  site: string;
  /** 'unknown' when the registry has none. */
  model: string;
  metric: string;
  value: number;
  /** Canonical unit; '' when the reading has none. */
  unit: string;
  seq: number;
}

export interface EnrichmentInput {
  /** The Kafka record key. */
  deviceId: string;
  telemetry: Telemetry;
  /** From the `gateway.received_at_ms` header, so a redelivery yields the same rows. */
  receivedAtMs: number;
  device: DeviceMetadata | null;
  unknownDevicePolicy: UnknownDevicePolicy;
}

/** Reason codes from `enrichTelemetry`. */
export const enrichmentRejections = {
  unknownDevice: 'unknown_device',
  unsupportedUnit: unitRejections.unsupportedUnit,
  invalidCalibration: 'invalid_calibration',
  valueOutOfRange: unitRejections.valueOutOfRange,
} as const;

/** Site and model recorded for devices without them. */
const unknownLabel = 'unknown';

/**
 * Build one canonical row per reading.
 *
 * Unit: the reading's own unit (v2), else the registry's `units[metric]`, else none (stored as '').
 * Calibration `value * scale + offset` is applied in the device's reported unit BEFORE normalising,
 * because calibrations are measured against the device's own output (a +0.5 °F offset is not +0.5 °C).
 *
 * All or nothing: if any reading fails (unsupported unit, bad calibration, overflow) the whole message
 * is refused, so it is dead-lettered intact; a partly stored message is harder to reason about and to
 * replay than a dead-lettered one.
 */
export function enrichTelemetry(input: EnrichmentInput): Result<CanonicalRow[]> {
  const { deviceId, telemetry, receivedAtMs, device } = input;
  if (device === null && input.unknownDevicePolicy === 'dead-letter') {
    return { ok: false, reason: enrichmentRejections.unknownDevice, detail: deviceId };
  }
  const site = device?.site || unknownLabel;
  const model = device?.model || unknownLabel;
  const units = device?.units;
  const calibration = device?.calibration;
  const fromDevice = telemetry.eventTimeMs !== null;
  const ts = telemetry.eventTimeMs ?? receivedAtMs;
  const tsSource = fromDevice ? 'device' : 'gateway';

  const readings = telemetry.readings;
  const rows: CanonicalRow[] = new Array<CanonicalRow>(readings.length);
  for (let i = 0; i < readings.length; i++) {
    const { metric, value: reported, unit: ownUnit } = readings[i] as TelemetryReading;
    // Object.hasOwn: a metric named "constructor" must not find Object.prototype's.
    const unit = ownUnit ?? (units !== undefined && Object.hasOwn(units, metric) ? units[metric] : undefined) ?? null;

    let value = reported;
    if (calibration !== undefined && Object.hasOwn(calibration, metric)) {
      const c = calibration[metric];
      if (c === undefined || !Number.isFinite(c.scale) || !Number.isFinite(c.offset)) {
        return { ok: false, reason: enrichmentRejections.invalidCalibration, detail: metric };
      }
      value = value * c.scale + c.offset;
    }

    let canonicalUnit = '';
    if (unit !== null && unit !== '') {
      const normalised = normaliseUnit(value, unit);
      if (!normalised.ok) {
        const unsupported = normalised.reason === unitRejections.unsupportedUnit;
        return { ok: false, reason: normalised.reason, detail: unsupported ? `${metric}: ${unit}` : metric };
      }
      value = normalised.value.value;
      canonicalUnit = normalised.value.unit ?? '';
    }
    // calibration alone can overflow too
    if (!Number.isFinite(value)) {
      return { ok: false, reason: enrichmentRejections.valueOutOfRange, detail: metric };
    }

    rows[i] = { ts, tsSource, receivedAtMs, device: deviceId, site, model, metric, value, unit: canonicalUnit, seq: telemetry.seq };
  }
  return { ok: true, value: rows };
}
