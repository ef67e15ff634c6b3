import { describe, expect, it } from 'vitest';
import { deadLetterHeaders, recordHeaders } from '../core/envelope.ts';
import type { ConsumedRecord } from '../core/kafka-port.ts';
import { buildDeadLetter } from './dead-letter.ts';

const record: ConsumedRecord = {
  topic: 'iot.telemetry',
  partition: 7,
  offset: '12345',
  key: Buffer.from('dev-1'),
  value: Buffer.from('{"v":1,'),
  headers: { [recordHeaders.receivedAtMs]: '1767225600000', [recordHeaders.mqttTopic]: 'devices/dev-1/telemetry' },
  timestampMs: 1767225600001,
};

describe('buildDeadLetter', () => {
  it('keeps key, value and headers and adds where the record came from, why and when', () => {
    const built = buildDeadLetter({ record, topic: 'iot.telemetry.dlq', reason: 'invalid_json', detail: 'unexpected end', consumerGroup: 'tributary-enrich', failedAtMs: 1767225601000 });
    expect(built).toEqual({
      topic: 'iot.telemetry.dlq',
      key: 'dev-1',
      value: record.value,
      headers: {
        ...record.headers,
        [deadLetterHeaders.error]: 'unexpected end',
        [deadLetterHeaders.errorReason]: 'invalid_json',
        [deadLetterHeaders.sourceTopic]: 'iot.telemetry',
        [deadLetterHeaders.sourcePartition]: '7',
        [deadLetterHeaders.sourceOffset]: '12345',
        [deadLetterHeaders.consumerGroup]: 'tributary-enrich',
        [deadLetterHeaders.failedAtMs]: '1767225601000',
      },
    });
  });

  it('uses the reason as the error text without a detail, and keeps a missing key and value missing', () => {
    const built = buildDeadLetter({ record: { ...record, key: null, value: null }, topic: 'dlq', reason: 'missing_value', consumerGroup: 'g', failedAtMs: 1 });
    expect(built.key).toBeNull();
    expect(built.value).toBeNull();
    expect(built.headers[deadLetterHeaders.error]).toBe('missing_value');
  });

  it('does not let an original header named like a dlq header survive', () => {
    const forged = { ...record, headers: { ...record.headers, [deadLetterHeaders.errorReason]: 'forged' } };
    expect(buildDeadLetter({ record: forged, topic: 'dlq', reason: 'unknown_version', consumerGroup: 'g', failedAtMs: 1 }).headers[deadLetterHeaders.errorReason]).toBe('unknown_version');
  });
});
