import { describe, expect, it } from 'vitest';
import { deadLetterHeaders, recordHeaders } from '../core/envelope.ts';
import type { ConsumedRecord } from '../core/kafka-port.ts';
import { redriveSelection } from './replay-jobs.ts';

function deadLetter(overrides: Record<string, string> = {}, key = 'dev-1'): ConsumedRecord {
  return {
    topic: 'iot.telemetry.dlq',
    partition: 0,
    offset: '7',
    key: Buffer.from(key),
    value: Buffer.from('{}'),
    timestampMs: 1,
    headers: {
      [recordHeaders.mqttTopic]: 'devices/dev-1/telemetry',
      [deadLetterHeaders.errorReason]: 'unknown_device',
      [deadLetterHeaders.error]: 'unknown device dev-1',
      [deadLetterHeaders.sourceTopic]: 'iot.telemetry',
      [deadLetterHeaders.sourcePartition]: '3',
      [deadLetterHeaders.sourceOffset]: '1200',
      [deadLetterHeaders.consumerGroup]: 'tributary-enrich',
      [deadLetterHeaders.failedAtMs]: '5000',
      ...overrides,
    },
  };
}

describe('redriveSelection', () => {
  it('gives back the original record: source partition and offset, headers without dlq.*', () => {
    const selected = redriveSelection({}, 'iot.telemetry')(deadLetter());
    expect(selected).toEqual({ topic: 'iot.telemetry', partition: 3, offset: '1200', key: Buffer.from('dev-1'), value: Buffer.from('{}'), timestampMs: 1, headers: { [recordHeaders.mqttTopic]: 'devices/dev-1/telemetry' } });
  });

  it('selects by reason, device and dead-letter time, and only dead letters of the telemetry topic', () => {
    const select = redriveSelection({ reason: 'unknown_device', deviceId: 'dev-1', fromMs: 5000, toMs: 6000 }, 'iot.telemetry');
    expect(select(deadLetter())).not.toBeNull();
    expect(select(deadLetter({ [deadLetterHeaders.errorReason]: 'invalid_json' }))).toBeNull();
    expect(select(deadLetter({}, 'dev-2'))).toBeNull();
    expect(select(deadLetter({ [deadLetterHeaders.failedAtMs]: '4999' }))).toBeNull();
    expect(select(deadLetter({ [deadLetterHeaders.failedAtMs]: '6000' }))).toBeNull();
    expect(select(deadLetter({ [deadLetterHeaders.sourceTopic]: 'iot.events' }))).toBeNull();
    expect(select(deadLetter({ [deadLetterHeaders.sourceOffset]: 'x' }))).toBeNull();
  });
});
