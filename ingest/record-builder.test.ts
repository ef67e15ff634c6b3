import { describe, expect, it } from 'vitest';
import { buildRecord, schemaSniffWindowBytes, sniffContentType, sniffSchemaVersion } from './record-builder.ts';
import type { PublishToRecord } from './record-builder.ts';

function publish(overrides: Partial<PublishToRecord> = {}): PublishToRecord {
  return {
    deviceId: 'd1',
    mqttTopic: 'devices/d1/telemetry',
    qos: 1,
    retain: false,
    payload: Buffer.from('{"v":2,"ts":1700000000000,"metrics":{"t":21.5}}'),
    gatewayId: 'gw-a',
    receivedAtMs: 1_700_000_000_123,
    kafkaTopic: 'iot.telemetry',
    ...overrides,
  };
}

describe('buildRecord', () => {
  it('keys by device id, keeps the payload buffer and writes every header', () => {
    const input = publish();
    const record = buildRecord(input);
    expect(record).toEqual({
      topic: 'iot.telemetry',
      key: 'd1',
      value: input.payload,
      headers: {
        'mqtt.topic': 'devices/d1/telemetry',
        'mqtt.qos': '1',
        'mqtt.retain': 'false',
        'gateway.id': 'gw-a',
        'gateway.received_at_ms': '1700000000123',
        'content-type': 'application/json',
        'schema.version': '2',
      },
    });
    expect(record.value).toBe(input.payload);
  });

  it('writes qos 0/2 and retain true as strings', () => {
    expect(buildRecord(publish({ qos: 0, retain: true })).headers).toMatchObject({
      'mqtt.qos': '0',
      'mqtt.retain': 'true',
    });
    expect(buildRecord(publish({ qos: 2 })).headers['mqtt.qos']).toBe('2');
  });

  it('marks binary payloads as octet-stream and leaves schema.version out', () => {
    const headers = buildRecord(publish({ payload: Buffer.from([0x01, 0x02, 0x7b]) })).headers;
    expect(headers['content-type']).toBe('application/octet-stream');
    expect('schema.version' in headers).toBe(false);
  });

  it('leaves schema.version out of JSON without a recognisable version', () => {
    const headers = buildRecord(publish({ payload: Buffer.from('{"ts":1,"metrics":{}}') })).headers;
    expect(headers['content-type']).toBe('application/json');
    expect(headers['schema.version']).toBeUndefined();
  });
});

describe('sniffContentType', () => {
  it.each([
    ['{}', 'application/json'],
    [' \t\r\n{"a":1}', 'application/json'],
    ['[1,2]', 'application/octet-stream'],
    ['"text"', 'application/octet-stream'],
    ['  ', 'application/octet-stream'],
    ['', 'application/octet-stream'],
    ['\u00a0{}', 'application/octet-stream'],
  ])('%j -> %s', (text, expected) => {
    expect(sniffContentType(Buffer.from(text))).toBe(expected);
  });
});

describe('sniffSchemaVersion', () => {
  it.each([
    ['{"v":1}', 1],
    ['{"v":2}', 2],
    ['{"v": 2,"ts":1}', 2],
    ['  {\n  "v" :\t1 ,\n "ts": 1}', 1],
    ['{"ts":1700000000000,"v":2}', 2],
    ['{"id":"a,b}{","v":1}', 1],
    ['{"k":"v","v":2}', 2],
    ['{"s":"\\"v\\":1","v":2}', 2],
  ])('reads %j as %j', (text, expected) => {
    expect(sniffSchemaVersion(Buffer.from(text))).toBe(expected);
  });

  it.each([
    ['{"v":12}', 'a longer number'],
    ['{"v":21}', 'a longer number starting with 2'],
    ['{"v":1.0}', 'a fraction'],
    ['{"v":1e0}', 'an exponent'],
    ['{"v":3}', 'an unknown version'],
    ['{"v":0}', 'version zero'],
    ['{"v":-1}', 'a negative number'],
    ['{"v":"1"}', 'a string'],
    ['{"v":1', 'a truncated payload'],
    ['{"v"', 'a payload ending after the key'],
    ['{"vv":1}', 'a longer key'],
    ['{"xv":1}', 'a key ending in v'],
    ['{"meta":{"v":1}}', 'a nested v'],
    ['{"list":[{"v":1}]}', 'a v inside an array'],
    ['{"note":"\\"v\\":1"}', 'a v inside a string'],
    ['{"\\u0076":1}', 'an escaped key'],
    ['{}', 'an empty object'],
    ['{"a":1}{"v":1}', 'text after the top-level object'],
    ['[{"v":1}]', 'an array payload'],
    ['v=1', 'non-JSON text'],
    ['', 'an empty payload'],
  ])('gives null for %j (%s)', (text) => {
    expect(sniffSchemaVersion(Buffer.from(text))).toBeNull();
  });

  it('gives null for binary payloads', () => {
    expect(sniffSchemaVersion(Buffer.from([0xff, 0x00, 0x7b, 0x22, 0x76, 0x22, 0x3a, 0x31]))).toBeNull();
  });

  it(`only looks at the first ${schemaSniffWindowBytes} bytes`, () => {
    const padding = 'x'.repeat(schemaSniffWindowBytes);
    expect(sniffSchemaVersion(Buffer.from(`{"pad":"${padding}","v":1}`))).toBeNull();
    const fits = `{"p":"${'x'.repeat(schemaSniffWindowBytes - 14)}","v":1}`;
    expect(fits.length).toBe(schemaSniffWindowBytes);
    expect(sniffSchemaVersion(Buffer.from(fits))).toBe(1);
  });

  it('peeks one byte past the window to see where the version number ends', () => {
    const head = `{"p":"${'x'.repeat(schemaSniffWindowBytes - 13)}","v":`;
    expect(head.length).toBe(schemaSniffWindowBytes - 1);
    expect(sniffSchemaVersion(Buffer.from(`${head}2}`))).toBe(2);
    expect(sniffSchemaVersion(Buffer.from(`${head}23}`))).toBeNull();
  });
});
