import { describe, expect, it } from 'vitest';
import { createEncodedStrings, createHeaderEncoder } from './encoded-strings.ts';

describe('createEncodedStrings', () => {
  it('returns the same Buffer for a repeated string, with its UTF-8 bytes', () => {
    const encode = createEncodedStrings(10);
    const first = encode('gerät-7');
    expect(first.equals(Buffer.from('gerät-7', 'utf8'))).toBe(true);
    expect(encode('gerät-7')).toBe(first);
  });

  it('gives up caching once more distinct strings come than it holds, and still encodes correctly', () => {
    const encode = createEncodedStrings(2);
    const a = encode('a');
    expect(encode('a')).toBe(a);
    encode('b');
    const c = encode('c');
    expect(c.toString()).toBe('c');
    expect(encode('c')).not.toBe(c);
    expect(encode('a')).not.toBe(a);
    expect(encode('a').toString()).toBe('a');
  });

  it('keeps cached bytes in their own allocation, not a slice of the shared pool', () => {
    const encode = createEncodedStrings(10);
    const encoded = encode('devices/d1/telemetry');
    expect(encoded.byteOffset).toBe(0);
    expect(encoded.buffer.byteLength).toBe(encoded.length);
  });
});

describe('createHeaderEncoder', () => {
  it('encodes every header in order, sharing Buffers between records', () => {
    const encode = createHeaderEncoder(100);
    const first = encode({ 'mqtt.topic': 'devices/d1/telemetry', 'mqtt.qos': '1', 'gateway.received_at_ms': '1764650000123' });
    const second = encode({ 'mqtt.topic': 'devices/d1/telemetry', 'mqtt.qos': '1', 'gateway.received_at_ms': '1764650000124' });
    const decoded = (headers: Map<Buffer, Buffer>) => [...headers].map(([name, value]) => [name.toString(), value.toString()]);
    expect(decoded(first)).toEqual([['mqtt.topic', 'devices/d1/telemetry'], ['mqtt.qos', '1'], ['gateway.received_at_ms', '1764650000123']]);
    expect(decoded(second)[2]).toEqual(['gateway.received_at_ms', '1764650000124']);
    const [topicName, topic] = [...first][0]!;
    const [topicNameAgain, topicAgain] = [...second][0]!;
    expect(topicNameAgain).toBe(topicName);
    expect(topicAgain).toBe(topic);
  });

  it('bounds each name separately: a header whose values never repeat leaves the others cached', () => {
    const encode = createHeaderEncoder(4);
    for (let i = 0; i < 10; i++) encode({ at: String(i), topic: 't' });
    const [, topic] = [...encode({ at: '99', topic: 't' })][1]!;
    const [, topicAgain] = [...encode({ at: '100', topic: 't' })][1]!;
    expect(topicAgain).toBe(topic);
  });
});
