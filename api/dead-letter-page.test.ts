import { describe, expect, it } from 'vitest';
import { deadLetterHeaders } from '../core/envelope.ts';
import type { ConsumedRecord } from '../core/kafka-port.ts';
import {
  deadLetterView,
  decodeDeadLetterCursor,
  encodeDeadLetterCursor,
  matchesDeadLetterFilter,
  selectDeadLetterPage,
  summariseDeadLetters,
  type ScannedPartition,
} from './dead-letter-page.ts';

function dead(partition: number, offset: number, options: { device?: string | null; reason?: string; failedAtMs?: number; value?: Buffer | null; timestampMs?: number } = {}): ConsumedRecord {
  return {
    topic: 'iot.telemetry.dlq',
    partition,
    offset: String(offset),
    key: options.device === null ? null : Buffer.from(options.device ?? 'dev-1'),
    value: options.value === undefined ? Buffer.from('{"v":1}') : options.value,
    timestampMs: options.timestampMs ?? 1_000 + offset,
    headers: {
      'mqtt.topic': 'devices/dev-1/telemetry',
      [deadLetterHeaders.errorReason]: options.reason ?? 'invalid_json',
      [deadLetterHeaders.error]: 'detail',
      [deadLetterHeaders.sourceTopic]: 'iot.telemetry',
      [deadLetterHeaders.sourcePartition]: '3',
      [deadLetterHeaders.sourceOffset]: '42',
      [deadLetterHeaders.consumerGroup]: 'tributary-enrich',
      [deadLetterHeaders.failedAtMs]: String(options.failedAtMs ?? 1_796_000_000_000),
    },
  };
}

describe('deadLetterView', () => {
  it('shows the dlq headers as fields, every header as it is, and a UTF-8 value as text', () => {
    const view = deadLetterView(dead(0, 7, { value: Buffer.from('{"v":1,"ts":') }));
    expect(view).toEqual({
      partition: 0,
      offset: '7',
      time: new Date(1007).toISOString(),
      deviceId: 'dev-1',
      reason: 'invalid_json',
      error: 'detail',
      failedAt: new Date(1_796_000_000_000).toISOString(),
      source: { topic: 'iot.telemetry', partition: 3, offset: '42', consumerGroup: 'tributary-enrich' },
      headers: dead(0, 7).headers,
      value: { encoding: 'utf8', data: '{"v":1,"ts":' },
    });
  });

  it('shows a value that is not UTF-8 as base64, and no value as null', () => {
    expect(deadLetterView(dead(0, 1, { value: Buffer.from([0xff, 0xfe, 0x41]) })).value).toEqual({ encoding: 'base64', data: Buffer.from([0xff, 0xfe, 0x41]).toString('base64') });
    expect(deadLetterView(dead(0, 1, { value: null, device: null }))).toMatchObject({ value: null, deviceId: null });
  });
});

describe('matchesDeadLetterFilter', () => {
  const record = dead(0, 1, { device: 'dev-9', reason: 'unknown_device', failedAtMs: 5000 });
  it('selects by reason, device (the key) and failure time in [from, to)', () => {
    expect(matchesDeadLetterFilter(record, {})).toBe(true);
    expect(matchesDeadLetterFilter(record, { reason: 'unknown_device', deviceId: 'dev-9', fromMs: 5000, toMs: 5001 })).toBe(true);
    expect(matchesDeadLetterFilter(record, { reason: 'invalid_json' })).toBe(false);
    expect(matchesDeadLetterFilter(record, { deviceId: 'dev-1' })).toBe(false);
    expect(matchesDeadLetterFilter(record, { fromMs: 5001 })).toBe(false);
    expect(matchesDeadLetterFilter(record, { toMs: 5000 })).toBe(false);
  });

  it('leaves out a record without a failure time when a time bound is given', () => {
    const undated = { ...record, headers: { ...record.headers, [deadLetterHeaders.failedAtMs]: 'soon' } };
    expect(matchesDeadLetterFilter(undated, {})).toBe(true);
    expect(matchesDeadLetterFilter(undated, { fromMs: 0 })).toBe(false);
  });
});

describe('dead-letter cursors', () => {
  it('round-trip the next offset of each partition', () => {
    const cursor = new Map([
      [2, 9_007_199_254_740_993n],
      [0, 5n],
    ]);
    const decoded = decodeDeadLetterCursor(encodeDeadLetterCursor(cursor));
    expect(decoded).toEqual({ ok: true, value: new Map([[0, 5n], [2, 9_007_199_254_740_993n]]) });
  });

  it('refuse anything the listing did not give out', () => {
    for (const text of ['', '!!', Buffer.from('d1.').toString('base64url'), Buffer.from('d1.0:-1').toString('base64url'), Buffer.from('a1.1.2.3').toString('base64url')]) {
      expect(decodeDeadLetterCursor(text), text).toMatchObject({ ok: false, reason: 'invalid_cursor' });
    }
  });
});

describe('selectDeadLetterPage', () => {
  const scanned: ScannedPartition[] = [
    { partition: 0, matches: [dead(0, 1, { timestampMs: 10 }), dead(0, 4, { timestampMs: 40 })], scannedTo: 6n, logEnd: 6n },
    { partition: 1, matches: [dead(1, 0, { timestampMs: 20 }), dead(1, 2, { timestampMs: 30 })], scannedTo: 3n, logEnd: 10n },
  ];

  it('takes the first matches by time, and continues each partition at its first match left off', () => {
    const page = selectDeadLetterPage(scanned, 3);
    expect(page.records.map((record) => `${record.partition}:${record.offset}`)).toEqual(['0:1', '1:0', '1:2']);
    expect(page.cursor).toEqual(new Map([[0, 4n], [1, 3n]]));
    expect(page.complete).toBe(false);
  });

  it('continues after the scanned window when every match fitted, complete once every partition reached its end', () => {
    expect(selectDeadLetterPage(scanned, 10).cursor).toEqual(new Map([[0, 6n], [1, 3n]]));
    const done = selectDeadLetterPage([{ ...scanned[0]!, matches: [] }, { ...scanned[1]!, matches: [], scannedTo: 10n }], 10);
    expect(done).toEqual({ records: [], cursor: new Map([[0, 6n], [1, 10n]]), complete: true });
  });
});

describe('summariseDeadLetters', () => {
  it('counts by reason and device, most first, and names the oldest and newest', () => {
    const records = [
      dead(0, 1, { reason: 'unknown_device', device: 'ghost', timestampMs: 5000 }),
      dead(0, 2, { reason: 'unknown_device', device: 'ghost', timestampMs: 6000 }),
      dead(1, 1, { reason: 'invalid_json', device: 'dev-1', timestampMs: 4000 }),
      dead(1, 2, { reason: 'unknown_device', device: 'other', timestampMs: 7000 }),
    ];
    expect(summariseDeadLetters(records, 2)).toEqual({
      scanned: 4,
      reasons: [
        { reason: 'unknown_device', count: 3 },
        { reason: 'invalid_json', count: 1 },
      ],
      topDevices: [
        { deviceId: 'ghost', count: 2 },
        { deviceId: 'dev-1', count: 1 },
      ],
      oldest: new Date(4000).toISOString(),
      newest: new Date(7000).toISOString(),
    });
    expect(summariseDeadLetters([], 10)).toEqual({ scanned: 0, reasons: [], topDevices: [], oldest: null, newest: null });
  });
});
