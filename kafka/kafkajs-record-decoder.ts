/**
 * A faster decoder for one record of a Kafka record batch, for kafkajs 2.2.4's consumers (ADR 0022).
 *
 * kafkajs decodes every consumed record in `protocol/recordBatch/record/v0/decoder.js`, and there it
 * spends most of its time on two things: the headers are folded into an object with a spread per
 * header (each record's 6-7 headers copy the object 6-7 times), and the offset and timestamp are
 * computed with its Long class from the batch's base, parsed from a string again for every record.
 * At 10,000 msg/s that file was a fifth of the enricher's busy time (CPU profile, ADR 0022).
 *
 * This decoder reads the same bytes with kafkajs's own Decoder and returns the same object: headers
 * by assignment, offset and timestamp in plain numbers while they are exact (below 2^53), in Long
 * beyond. Two deliberate differences:
 * - a header named like an Object.prototype member (`toString`, `constructor`) is that header's
 *   value, where kafkajs's fold mistook the inherited function for an earlier value of that name;
 * - header values are UTF-8 text, not Buffers. Every consumer in this process reads them as text
 *   (ConsumedRecord's headers are strings), and a Buffer view per header was the largest share of
 *   what the enricher's scavenges promoted: ~310 MB per 10,000 msg/s run with them, 29–154 MB
 *   without (docs/benchmarks/profiles.md). kafkajs's IHeaders type allows strings.
 *
 * `useFastRecordDecoder` puts it in place of kafkajs's module before kafkajs first loads its batch
 * decoder (which happens at the first fetch, not at import): kafkajs then finds ours in the module
 * cache. Too late, or if kafkajs's files moved, nothing changes and kafkajs decodes as before.
 */
import { createRequire } from 'node:module';
import { createRepeatedText, type RepeatedText } from './repeated-text.ts';

/** The part of kafkajs's `protocol/decoder.js` the record format needs. */
export interface KafkajsDecoder {
  buffer: Buffer;
  offset: number;
  readInt8(): number;
  readVarInt(): number;
  readVarLong(): LongLike;
  readVarIntBytes(): Buffer | null;
}

interface LongLike {
  add(other: LongLike | number): LongLike;
  toString(): string;
}

interface LongClass {
  fromValue(value: string | number | LongLike): LongLike;
}

/** What kafkajs's record batch decoder hands each record: its batch's fields. */
export interface BatchContext {
  firstOffset: string;
  firstTimestamp: string;
  maxTimestamp: string;
  magicByte: number;
  isControlBatch?: boolean;
  timestampType: number;
}

/** A header's value as UTF-8 text (kafkajs would hand a Buffer: see the module comment). */
export type HeaderValue = string | null;

export interface DecodedRecord {
  magicByte: number;
  attributes: number;
  timestamp: string;
  offset: string;
  key: Buffer | null;
  value: Buffer | null;
  headers: Record<string, HeaderValue | HeaderValue[]>;
  isControlRecord: boolean;
  batchContext: BatchContext;
}

const recordDecoderPath = 'kafkajs/src/protocol/recordBatch/record/v0/decoder.js';
const batchDecoderPath = 'kafkajs/src/protocol/recordBatch/v0/decoder.js';
const longPath = 'kafkajs/src/utils/long.js';
/** kafkajs's TimestampTypes.LOG_APPEND_TIME: the broker's time stands for every record of the batch. */
const logAppendTime = 1;
const mostSignificantBit = 0x80;
const otherBits = 0x7f;

const require = createRequire(import.meta.url);
let long: LongClass | null = null;

/** `base + delta` as kafkajs writes it: a decimal string, exact for any 64-bit value. */
function plus(base: string, delta: number | LongLike): string {
  if (typeof delta === 'number') {
    const start = Number(base);
    const sum = start + delta;
    if (Number.isSafeInteger(start) && Number.isSafeInteger(sum)) return String(sum);
  }
  long ??= require(longPath) as LongClass;
  return long.fromValue(base).add(typeof delta === 'number' ? long.fromValue(delta) : delta).toString();
}

/**
 * A zigzag varlong as a number while it fits in 7 bytes (49 bits: exact); longer ones (never written
 * for a timestamp delta within one batch in practice) through kafkajs's Long reader.
 */
function readVarLong(decoder: KafkajsDecoder): number | LongLike {
  const { buffer } = decoder;
  let result = 0;
  let scale = 1;
  for (let position = decoder.offset; position < decoder.offset + 7; position++) {
    const byte = buffer[position];
    if (byte === undefined) break;
    result += (byte & otherBits) * scale;
    scale *= 128;
    if (byte < mostSignificantBit) {
      decoder.offset = position + 1;
      return result % 2 === 0 ? result / 2 : -(result + 1) / 2;
    }
  }
  return decoder.readVarLong();
}

/** Header names, by their position in the record: the same few in every record. */
const headerNames = createRepeatedText(16);
/** Header values, by their position: most are the same in every record (gateway id, QoS, content type). */
const headerValues = createRepeatedText(16);

/** Length-prefixed text at the decoder's position, without an intermediate Buffer; null when absent (length -1). */
function readText(decoder: KafkajsDecoder, texts: RepeatedText, index: number): string | null {
  const length = decoder.readVarInt();
  if (length === -1) return null;
  const start = decoder.offset;
  decoder.offset += length;
  return texts(decoder.buffer, start, start + length, index);
}

function readHeaders(decoder: KafkajsDecoder): Record<string, HeaderValue | HeaderValue[]> {
  const headers: Record<string, HeaderValue | HeaderValue[]> = {};
  const count = decoder.readVarInt();
  for (let index = 0; index < count; index++) {
    // a null name is keyed as kafkajs keys it: 'null'
    const name = readText(decoder, headerNames, index) ?? 'null';
    const value = readText(decoder, headerValues, index);
    if (!Object.hasOwn(headers, name)) {
      // assignment keeps the object fast; only `__proto__` needs defining to be an own property
      if (name === '__proto__') Object.defineProperty(headers, name, { value, enumerable: true, writable: true, configurable: true });
      else headers[name] = value;
    } else {
      const earlier = headers[name] as HeaderValue | HeaderValue[];
      headers[name] = Array.isArray(earlier) ? [...earlier, value] : [earlier, value];
    }
  }
  return headers;
}

/** One record, decoded from `decoder` (positioned at its attributes) as kafkajs's decoder would. */
export function decodeRecord(decoder: KafkajsDecoder, batchContext: BatchContext): DecodedRecord {
  const attributes = decoder.readInt8();
  const timestampDelta = readVarLong(decoder);
  const timestamp = batchContext.timestampType === logAppendTime && batchContext.maxTimestamp ? batchContext.maxTimestamp : plus(batchContext.firstTimestamp, timestampDelta);
  const offset = plus(batchContext.firstOffset, decoder.readVarInt());
  const key = decoder.readVarIntBytes();
  const value = decoder.readVarIntBytes();
  const headers = readHeaders(decoder);
  return { magicByte: batchContext.magicByte, attributes, timestamp, offset, key, value, headers, isControlRecord: batchContext.isControlBatch ?? false, batchContext };
}

let installed: 'patched' | 'too-late' | 'unpatched' | null = null;

/**
 * Makes kafkajs decode records with `decodeRecord`, once per process. 'too-late' when kafkajs had
 * already loaded its batch decoder (it keeps its own record decoder then), 'unpatched' when its
 * files are not where 2.2.4 has them.
 */
export function useFastRecordDecoder(): 'patched' | 'too-late' | 'unpatched' {
  if (installed !== null) return installed;
  try {
    const recordModule = require.resolve(recordDecoderPath);
    if (require.cache[require.resolve(batchDecoderPath)] !== undefined) installed = 'too-late';
    else {
      require(recordModule);
      const cached = require.cache[recordModule];
      if (cached === undefined || typeof cached.exports !== 'function') installed = 'unpatched';
      else {
        cached.exports = decodeRecord;
        installed = 'patched';
      }
    }
  } catch {
    installed = 'unpatched';
  }
  return installed;
}
