/**
 * One telemetry record → its canonical rows, or the reason it is refused. Shared by the live worker
 * and replay, so a replayed record becomes exactly the rows the live path would write (and DEDUP
 * makes the second write overwrite the first). Pure; no I/O.
 */
import { isValidDeviceId } from '../core/device-record.ts';
import { recordHeaders } from '../core/envelope.ts';
import type { ConsumedRecord } from '../core/kafka-port.ts';
import type { Result } from '../core/result.ts';
import { decodeTelemetry } from '../core/telemetry-payload.ts';
import { recordRejections } from './dead-letter.ts';
import { enrichTelemetry, type CanonicalRow, type DeviceMetadata, type UnknownDevicePolicy } from './enrichment.ts';

export interface RecordRows {
  deviceId: string;
  seq: number;
  rows: CanonicalRow[];
}

export interface RecordRowsContext {
  deviceOf: (deviceId: string) => DeviceMetadata | null;
  unknownDevicePolicy: UnknownDevicePolicy;
}

export function rowsOfRecord(record: ConsumedRecord, context: RecordRowsContext): Result<RecordRows> {
  const deviceId = record.key?.toString('utf8') ?? '';
  if (!isValidDeviceId(deviceId)) return { ok: false, reason: recordRejections.invalidDeviceId, detail: describeKey(record.key) };
  if (record.value === null) return { ok: false, reason: recordRejections.missingValue };
  const decoded = decodeTelemetry(record.value);
  if (!decoded.ok) return decoded;
  const enriched = enrichTelemetry({
    deviceId,
    telemetry: decoded.value,
    receivedAtMs: receivedAtOf(record),
    device: context.deviceOf(deviceId),
    unknownDevicePolicy: context.unknownDevicePolicy,
  });
  if (!enriched.ok) return enriched;
  return { ok: true, value: { deviceId, seq: decoded.value.seq, rows: enriched.value } };
}

/** The gateway's receive time: the same value on every redelivery, unlike our clock, so rows stay identical for DEDUP. */
function receivedAtOf(record: ConsumedRecord): number {
  const header = record.headers[recordHeaders.receivedAtMs];
  if (header !== undefined && /^\d{1,15}$/.test(header)) return Number(header);
  return record.timestampMs;
}

function describeKey(key: Buffer | null): string {
  return key === null ? 'no key' : `key ${JSON.stringify(key.toString('utf8').slice(0, 80))}`;
}
