import { NumericMap, produceV11 } from '@platformatic/kafka';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { encodeProduceRequestV11, type ProduceMessage, type ProduceRequestOptions } from './produce-request.ts';

/** The library's own encoding of the same request: the reference the bytes must equal. */
function referenceBytes(acks: number, timeoutMs: number, messages: readonly ProduceMessage[], options: ProduceRequestOptions): Buffer {
  // The library normalises (mutates) the messages it is given.
  const copies = messages.map((message) => ({ ...message }));
  return (produceV11.createRequest(acks, timeoutMs, copies as never, options as never) as unknown as { buffer: Buffer }).buffer;
}

const bytes = (text: string): Buffer => Buffer.from(text, 'utf8');
const headers = (entries: Record<string, string>): Map<Buffer, Buffer> => new Map(Object.entries(entries).map(([name, value]) => [bytes(name), bytes(value)]));

const message = (topic: string, partition: number, index: number, extra: Partial<ProduceMessage> = {}): ProduceMessage => ({
  topic,
  partition,
  key: bytes(`device-${index % 17}`),
  value: Buffer.alloc((index * 37) % 900, index % 251),
  headers: headers({ 'tributary-schema': 'telemetry-v1', 'tributary-received-at-ms': String(1_764_633_600_000 + index) }),
  timestamp: 1_764_633_600_000n + BigInt(index % 5),
  ...extra,
});

function sequences(entries: Record<string, number>): NumericMap {
  const map = new NumericMap();
  for (const [key, value] of Object.entries(entries)) map.set(key, value);
  return map;
}

afterEach(() => {
  vi.restoreAllMocks();
});

describe('encodeProduceRequestV11', () => {
  it('writes the library’s bytes for an idempotent producer’s request over topics and partitions in any order', () => {
    const messages = Array.from({ length: 400 }, (_, index) => message(index % 3 === 0 ? 'telemetry' : 'telemetry-v2', (index * 7) % 12, index));
    const options = { producerId: 4_711n, producerEpoch: 3, sequences: sequences({ 'telemetry:0': 12, 'telemetry-v2:5': 2_147_000_000 }) };
    expect(encodeProduceRequestV11(-1, 30_000, messages, options).equals(referenceBytes(-1, 30_000, messages, options))).toBe(true);
  });

  it('writes null and empty keys, values and headers, large values and out-of-order timestamps as the library does', () => {
    const messages: ProduceMessage[] = [
      message('t', 0, 1, { key: undefined }),
      message('t', 0, 2, { value: undefined }),
      message('t', 0, 3, { key: Buffer.alloc(0), value: Buffer.alloc(0), headers: new Map() }),
      message('t', 0, 4, { headers: undefined }),
      message('t', 0, 5, { value: Buffer.alloc(70_000, 9), timestamp: 1_764_633_500_000n }),
      message('t', 0, 6, { headers: headers({ é: 'ß'.repeat(100), empty: '' }), timestamp: 1_764_633_700_000n }),
      message('t', 0, 7, { timestamp: 1_764_633_600_000 }),
    ];
    const options = { producerId: 1n, producerEpoch: 0 };
    expect(encodeProduceRequestV11(-1, 1_000, messages, options).equals(referenceBytes(-1, 1_000, messages, options))).toBe(true);
  });

  it('writes a non-idempotent, transactional and an acks=0 request as the library does', () => {
    const messages = Array.from({ length: 130 }, (_, index) => message('orders', index % 2, index));
    for (const [acks, options] of [
      [1, {}],
      [-1, { producerId: 9n, producerEpoch: 1, transactionalId: 'tx-é', sequences: sequences({ 'orders:1': 5 }) }],
      [0, {}],
    ] as const) {
      expect(encodeProduceRequestV11(acks, 5_000, messages, options).equals(referenceBytes(acks, 5_000, messages, options)), `acks ${acks}`).toBe(true);
    }
  });

  it('stamps records without a timestamp with the current time, as the library does', () => {
    vi.spyOn(Date, 'now').mockReturnValue(1_764_633_600_123);
    const messages = [message('t', 3, 1, { timestamp: undefined }), message('t', 3, 2, { timestamp: 1_764_633_600_000n }), message('t', 3, 3, { timestamp: undefined })];
    expect(encodeProduceRequestV11(-1, 1_000, messages, {}).equals(referenceBytes(-1, 1_000, messages, {}))).toBe(true);
  });

  it('differs from the library when a record differs: the comparison sees a single changed byte', () => {
    const messages = [message('t', 0, 1), message('t', 0, 2)];
    const ours = encodeProduceRequestV11(-1, 1_000, messages, {});
    const changed = referenceBytes(-1, 1_000, [messages[0]!, { ...messages[1]!, value: Buffer.from((messages[1]!.value as Buffer).map((byte, index) => (index === 0 ? byte ^ 1 : byte))) }], {});
    expect(ours.length).toBe(changed.length);
    expect(ours.equals(changed)).toBe(false);
  });
});
