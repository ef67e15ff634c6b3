import { describe, expect, it } from 'vitest';
import { recordHeaders } from '../core/envelope.ts';
import type { ConsumedRecord } from '../core/kafka-port.ts';
import { rowsOfRecord, type RecordRowsContext } from './record-rows.ts';

const context: RecordRowsContext = {
  deviceOf: (deviceId) => (deviceId === 'dev-1' ? { deviceId, site: 'plant-a', model: 'th-200' } : null),
  unknownDevicePolicy: 'dead-letter',
};

function record(overrides: Partial<ConsumedRecord>): ConsumedRecord {
  return {
    topic: 'iot.telemetry',
    partition: 2,
    offset: '41',
    key: Buffer.from('dev-1'),
    value: Buffer.from(JSON.stringify({ v: 1, ts: 1_750_000_000_000, seq: 9, metrics: { temperature: 21.5, humidity: 40 } })),
    headers: { [recordHeaders.receivedAtMs]: '1750000000250' },
    timestampMs: 1_750_000_000_999,
    ...overrides,
  };
}

describe('rowsOfRecord', () => {
  it('turns a record into enriched rows with the seq and the gateway receive time from the header', () => {
    const result = rowsOfRecord(record({}), context);
    expect(result.ok).toBe(true);
    if (!result.ok) return;
    expect(result.value.deviceId).toBe('dev-1');
    expect(result.value.seq).toBe(9);
    expect(result.value.rows.map((row) => [row.metric, row.value, row.site, row.receivedAtMs])).toEqual([
      ['temperature', 21.5, 'plant-a', 1_750_000_000_250],
      ['humidity', 40, 'plant-a', 1_750_000_000_250],
    ]);
  });

  it('falls back to the Kafka timestamp when the receive-time header is missing or malformed', () => {
    for (const headers of [{}, { [recordHeaders.receivedAtMs]: 'soon' }] as Array<Record<string, string>>) {
      const result = rowsOfRecord(record({ headers }), context);
      expect(result.ok && result.value.rows[0]?.receivedAtMs).toBe(1_750_000_000_999);
    }
  });

  it('refuses bad keys, missing values, undecodable payloads and unknown devices with a stable reason', () => {
    const reasons = [
      record({ key: null }),
      record({ key: Buffer.from('no spaces allowed') }),
      record({ value: null }),
      record({ value: Buffer.from('{not json') }),
      record({ key: Buffer.from('dev-2') }),
    ].map((input) => {
      const result = rowsOfRecord(input, context);
      return result.ok ? 'ok' : result.reason;
    });
    expect(reasons).toEqual(['invalid_device_id', 'invalid_device_id', 'missing_value', 'invalid_json', 'unknown_device']);
  });
});
