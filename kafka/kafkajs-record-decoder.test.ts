import { createRequire } from 'node:module';
import { describe, expect, it } from 'vitest';
import { decodeRecord, useFastRecordDecoder, type BatchContext, type KafkajsDecoder } from './kafkajs-record-decoder.ts';

const require = createRequire(import.meta.url);
type RecordDecoderFn = (decoder: KafkajsDecoder, context: BatchContext) => unknown;
// kafkajs's own decoder, taken before anything can replace it in the module cache
const kafkajsDecodeRecord = require('kafkajs/src/protocol/recordBatch/record/v0/decoder.js') as RecordDecoderFn;
const Decoder = require('kafkajs/src/protocol/decoder.js') as new (buffer: Buffer) => KafkajsDecoder;
const Encoder = require('kafkajs/src/protocol/encoder.js') as new () => KafkajsEncoder;
const encodeRecord = require('kafkajs/src/protocol/recordBatch/record/v0/index.js') as (record: object) => KafkajsEncoder;
const encodeHeader = require('kafkajs/src/protocol/recordBatch/header/v0/index.js') as (header: { key: string; value: Buffer | null }) => KafkajsEncoder;
const { RecordBatch: encodeBatch } = require('kafkajs/src/protocol/recordBatch/v0/index.js') as { RecordBatch: (batch: object) => Promise<KafkajsEncoder> };
const Long = require('kafkajs/src/utils/long.js') as { fromValue(value: string): unknown };

interface KafkajsEncoder {
  buffer: Buffer;
  writeInt8(value: number): KafkajsEncoder;
  writeVarLong(value: number): KafkajsEncoder;
  writeVarInt(value: number): KafkajsEncoder;
  writeVarIntBytes(value: Buffer | null): KafkajsEncoder;
  writeVarIntArray(values: KafkajsEncoder[]): KafkajsEncoder;
}

/** A record's body as kafkajs's batch decoder hands it to the record decoder: after its length. */
function recordDecoder(record: object): KafkajsDecoder {
  const body = new Decoder(encodeRecord(record).buffer).readVarIntBytes();
  if (body === null) throw new Error('no record body');
  return new Decoder(body);
}

/** kafkajs's record with each header value as the text ours gives: UTF-8 of its bytes. */
function withTextHeaders(record: unknown): unknown {
  const { headers, ...rest } = record as { headers: Record<string, Buffer | null | Array<Buffer | null>> };
  const text = (value: Buffer | null): string | null => (value === null ? null : value.toString('utf8'));
  return { ...rest, headers: Object.fromEntries(Object.entries(headers).map(([name, value]) => [name, Array.isArray(value) ? value.map(text) : text(value)])) };
}

const context: BatchContext = { firstOffset: '41230', firstTimestamp: '1796300000000', maxTimestamp: '1796300000950', magicByte: 2, isControlBatch: false, timestampType: 0 };
const telemetryHeaders = {
  'mqtt.topic': Buffer.from('devices/dev-1/telemetry'),
  'mqtt.qos': Buffer.from('1'),
  'mqtt.retain': Buffer.from('false'),
  'gateway.id': Buffer.from('gw-a'),
  'received.at.ms': Buffer.from('1796300000123'),
  'content-type': Buffer.from('application/json'),
  'schema.version': Buffer.from('2'),
};

const cases: Array<[string, object, BatchContext]> = [
  ['a telemetry record', { offsetDelta: 3, timestampDelta: 17, key: Buffer.from('dev-1'), value: Buffer.from('{"v":2}'), headers: telemetryHeaders }, context],
  ['no key, no value, no headers', { offsetDelta: 0, timestampDelta: 0, key: null, value: null }, context],
  ['a repeated header, unicode', { offsetDelta: 1, timestampDelta: -5, key: Buffer.from('k'), value: Buffer.alloc(0), headers: { trace: [Buffer.from('a'), Buffer.from('b'), Buffer.from('c')], 'naïve-ключ': Buffer.from('✓') } }, context],
  ['deltas beyond 32 and 49 bits', { offsetDelta: 2 ** 30, timestampDelta: 2 ** 52 + 3, key: Buffer.from('k'), value: Buffer.from('v') }, context],
  ['a negative timestamp delta past 49 bits', { offsetDelta: 7, timestampDelta: -(2 ** 55), key: null, value: Buffer.from('v') }, context],
  ['a base offset beyond 2^53', { offsetDelta: 9, timestampDelta: 1, key: null, value: Buffer.from('v') }, { ...context, firstOffset: '9223372036854775000' }],
  ['a log-append-time batch', { offsetDelta: 2, timestampDelta: 40, key: null, value: Buffer.from('v') }, { ...context, timestampType: 1 }],
  ['a control batch', { offsetDelta: 0, timestampDelta: 0, key: Buffer.from([0, 0, 0, 1]), value: Buffer.from([0, 0, 0, 0, 0, 0]) }, { ...context, isControlBatch: true }],
];

describe('decodeRecord', () => {
  it.each(cases)('decodes %s as kafkajs does, header values as text', (_name, record, batchContext) => {
    const ours = recordDecoder(record);
    const theirs = recordDecoder(record);
    expect(decodeRecord(ours, batchContext)).toEqual(withTextHeaders(kafkajsDecodeRecord(theirs, batchContext)));
    expect(ours.offset).toBe(theirs.offset);
  });

  it('decodes null header values, also repeated, as kafkajs does', () => {
    // kafkajs's record encoder cannot write a null header value; the format can (length -1)
    const headers = [encodeHeader({ key: 'a', value: null }), encodeHeader({ key: 'a', value: Buffer.from('x') }), encodeHeader({ key: 'b', value: null })];
    const body = (): KafkajsDecoder => new Decoder(new Encoder().writeInt8(0).writeVarLong(2).writeVarInt(1).writeVarIntBytes(null).writeVarIntBytes(Buffer.from('v')).writeVarIntArray(headers).buffer);
    const decoded = decodeRecord(body(), context);
    expect(decoded).toEqual(withTextHeaders(kafkajsDecodeRecord(body(), context)));
    expect(decoded.headers).toEqual({ a: [null, 'x'], b: null });
  });

  it('keeps a header named like an Object member as its value, where kafkajs folds in the inherited function', () => {
    const decoded = decodeRecord(recordDecoder({ key: null, value: null, headers: { toString: Buffer.from('x'), constructor: [Buffer.from('1'), Buffer.from('2')] } }), context);
    expect(decoded.headers).toEqual({ toString: 'x', constructor: ['1', '2'] });
  });

  it("is what kafkajs's batch decoder uses once installed", async () => {
    expect(useFastRecordDecoder()).toBe('patched');
    const decodeBatch = require('kafkajs/src/protocol/recordBatch/v0/decoder.js') as (decoder: KafkajsDecoder) => Promise<{ records: Array<{ offset: string; timestamp: string; headers: object }> }>;
    const batch = await encodeBatch({
      firstOffset: Long.fromValue('100'),
      firstTimestamp: 1796300000000,
      maxTimestamp: 1796300000010,
      lastOffsetDelta: 1,
      records: [0, 1].map((offsetDelta) => encodeRecord({ offsetDelta, timestampDelta: offsetDelta * 5, key: Buffer.from('k'), value: Buffer.from('v'), headers: { toString: Buffer.from('h') } })),
    });
    const decoded = await decodeBatch(new Decoder(batch.buffer));
    expect(decoded.records.map((record) => [record.offset, record.timestamp])).toEqual([
      ['100', '1796300000000'],
      ['101', '1796300000005'],
    ]);
    // kafkajs's own decoder would have given [Function, Buffer] here
    expect(decoded.records[0]!.headers).toEqual({ toString: 'h' });
    expect(useFastRecordDecoder()).toBe('patched');
  });
});
