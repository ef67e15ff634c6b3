/**
 * Kafka's Produce request (v11) with uncompressed record batches (message format v2), encoded
 * straight into one buffer. @platformatic/kafka builds each record from a dozen small buffers and
 * concatenates the whole request twice (once for the batch CRC, once for the socket): in a gateway
 * profile at 10,000 msg/s that encoding was a third of the gateway's CPU (ADR 0020). The bytes are
 * the library's own, record for record (produce-request.test.ts compares them); anything this
 * encoder does not cover (compression, keys or values that are not bytes) goes to the library's.
 */
import { crc32c } from '@node-rs/crc32';
import { Producer, Writer, createAPI, kGetApi, produceV11, type API, type Callback } from '@platformatic/kafka';

/** A record as the client's Producer hands it to the Produce API: serialised, partition chosen. */
export interface ProduceMessage {
  topic: string;
  partition: number;
  key?: unknown;
  value?: unknown;
  headers?: Map<unknown, unknown>;
  timestamp?: bigint | number;
}

export interface ProduceRequestOptions {
  compression?: string;
  producerId?: bigint;
  producerEpoch?: number;
  /** The first sequence of each `topic:partition` batch (an idempotent producer's snapshot). */
  sequences?: { getWithDefault(key: string, fallback: number): number };
  transactionalId?: string | null;
  partitionLeaderEpoch?: number;
}

const magic = 2;
const isTransactional = 1 << 4;
/** Base offset 8 and batch length 4: the part of a batch its length does not count. */
const batchLogOverhead = 12;
/** Leader epoch 4, magic 1, CRC 4: between the batch length and what the CRC covers. */
const beforeCrcScope = 9;
/** Attributes 2, last offset delta 4, timestamps 8 + 8, producer id 8, epoch 2, base sequence 4, count 4. */
const crcScopeHeader = 40;

/** Kafka's signed varints are zigzag-encoded; plain arithmetic keeps 64-bit deltas exact up to 2^53. */
const zigzag = (value: number): number => (value >= 0 ? value * 2 : -value * 2 - 1);

function unsignedVarintBytes(value: number): number {
  let bytes = 1;
  while (value >= 128) {
    value = Math.floor(value / 128);
    bytes += 1;
  }
  return bytes;
}

function writeUnsignedVarint(target: Buffer, offset: number, value: number): number {
  while (value >= 128) {
    target[offset++] = (value % 128) | 0x80;
    value = Math.floor(value / 128);
  }
  target[offset++] = value;
  return offset;
}

const bytesFieldSize = (bytes: Uint8Array | undefined): number => (bytes === undefined ? 1 : unsignedVarintBytes(bytes.length * 2) + bytes.length);

function writeBytesField(target: Buffer, offset: number, bytes: Uint8Array | undefined): number {
  if (bytes === undefined) {
    target[offset] = 1; // zigzag(-1): null
    return offset + 1;
  }
  offset = writeUnsignedVarint(target, offset, bytes.length * 2);
  target.set(bytes, offset);
  return offset + bytes.length;
}

const asBytes = (value: unknown): Uint8Array | undefined => (value == null ? undefined : (value as Uint8Array));
const isBytesOrAbsent = (value: unknown): boolean => value == null || value instanceof Uint8Array;

/** Whether every key, value and header is bytes (or absent): what this encoder writes. */
function encodable(messages: readonly ProduceMessage[], options: ProduceRequestOptions): boolean {
  if ((options.compression ?? 'none') !== 'none') return false;
  for (const message of messages) {
    if (!isBytesOrAbsent(message.key) || !isBytesOrAbsent(message.value)) return false;
    if (message.headers) for (const [name, value] of message.headers) if (!(name instanceof Uint8Array) || !isBytesOrAbsent(value)) return false;
  }
  return true;
}

/**
 * Groups by a property in the order the library's request uses: integer-like keys (partitions)
 * ascending, others (topic names) in first-seen order, as a null-prototype object enumerates them.
 */
function groupBy<K extends 'topic' | 'partition'>(messages: readonly ProduceMessage[], property: K): Array<[string, ProduceMessage[]]> {
  const groups: Record<string, ProduceMessage[]> = Object.create(null) as Record<string, ProduceMessage[]>;
  for (const message of messages) (groups[String(message[property])] ??= []).push(message);
  return Object.entries(groups);
}

const timestampOf = (message: ProduceMessage, now: number): number => (message.timestamp === undefined ? now : Number(message.timestamp));

interface PreparedBatch {
  partition: number;
  messages: ProduceMessage[];
  /** Each record's bytes after its length varint. */
  bodies: number[];
  /** Each record's timestamp less the first's. */
  deltas: number[];
  firstTimestamp: number;
  maxTimestamp: number;
  /** The whole batch, base offset included. */
  bytes: number;
}

function prepareBatch(partition: number, messages: ProduceMessage[], now: number): PreparedBatch {
  const firstTimestamp = timestampOf(messages[0]!, now);
  let maxTimestamp = firstTimestamp;
  const bodies = new Array<number>(messages.length);
  const deltas = new Array<number>(messages.length);
  let recordsBytes = 0;
  for (let index = 0; index < messages.length; index += 1) {
    const message = messages[index]!;
    const timestamp = timestampOf(message, now);
    if (timestamp > maxTimestamp) maxTimestamp = timestamp;
    deltas[index] = timestamp - firstTimestamp;
    let body = 1 + unsignedVarintBytes(zigzag(deltas[index]!)) + unsignedVarintBytes(index * 2);
    body += bytesFieldSize(asBytes(message.key)) + bytesFieldSize(asBytes(message.value));
    const headers = message.headers;
    body += unsignedVarintBytes((headers?.size ?? 0) * 2);
    if (headers) for (const [name, value] of headers) body += bytesFieldSize(name as Uint8Array) + bytesFieldSize(asBytes(value));
    bodies[index] = body;
    recordsBytes += unsignedVarintBytes(body * 2) + body;
  }
  return { partition, messages, bodies, deltas, firstTimestamp, maxTimestamp, bytes: batchLogOverhead + beforeCrcScope + crcScopeHeader + recordsBytes };
}

function writeBatch(target: Buffer, start: number, batch: PreparedBatch, options: ProduceRequestOptions): number {
  const { messages, bodies, deltas, firstTimestamp } = batch;
  const first = messages[0]!;
  let offset = start;
  target.writeBigInt64BE(0n, offset);
  target.writeInt32BE(batch.bytes - batchLogOverhead, offset + 8);
  target.writeInt32BE(options.partitionLeaderEpoch ?? 0, offset + 12);
  target.writeInt8(magic, offset + 16);
  const crcAt = offset + 17;
  const crcFrom = offset + 21;
  offset = crcFrom;
  target.writeInt16BE(options.transactionalId ? isTransactional : 0, offset);
  target.writeInt32BE(messages.length - 1, offset + 2);
  target.writeBigInt64BE(BigInt(firstTimestamp), offset + 6);
  target.writeBigInt64BE(BigInt(batch.maxTimestamp), offset + 14);
  target.writeBigInt64BE(options.producerId ?? -1n, offset + 22);
  target.writeInt16BE(options.producerEpoch ?? 0, offset + 30);
  target.writeInt32BE(options.sequences?.getWithDefault(`${first.topic}:${first.partition}`, 0) ?? 0, offset + 32);
  target.writeInt32BE(messages.length, offset + 36);
  offset += crcScopeHeader;
  for (let index = 0; index < messages.length; index += 1) {
    const message = messages[index]!;
    offset = writeUnsignedVarint(target, offset, bodies[index]! * 2);
    target[offset++] = 0; // record attributes
    offset = writeUnsignedVarint(target, offset, zigzag(deltas[index]!));
    offset = writeUnsignedVarint(target, offset, index * 2);
    offset = writeBytesField(target, offset, asBytes(message.key));
    offset = writeBytesField(target, offset, asBytes(message.value));
    const headers = message.headers;
    offset = writeUnsignedVarint(target, offset, (headers?.size ?? 0) * 2);
    if (headers) {
      for (const [name, value] of headers) {
        offset = writeBytesField(target, offset, name as Uint8Array);
        offset = writeBytesField(target, offset, asBytes(value));
      }
    }
  }
  target.writeUInt32BE(crc32c(target.subarray(crcFrom, offset)), crcAt);
  return offset;
}

/**
 * The request's bytes, as the library's `produceV11.createRequest` writes them (without the request
 * header the connection adds). Messages without a timestamp get the current time, as there.
 */
export function encodeProduceRequestV11(acks: number, timeoutMs: number, messages: readonly ProduceMessage[], options: ProduceRequestOptions): Buffer {
  const now = Date.now();
  const transactionalId = options.transactionalId == null ? null : Buffer.from(options.transactionalId, 'utf8');
  let size = (transactionalId === null ? 1 : unsignedVarintBytes(transactionalId.length + 1) + transactionalId.length) + 2 + 4;
  const topics = groupBy(messages, 'topic').map(([topic, inTopic]) => {
    const name = Buffer.from(topic, 'utf8');
    const batches = groupBy(inTopic, 'partition').map(([partition, inPartition]) => prepareBatch(Number(partition), inPartition, now));
    size += unsignedVarintBytes(name.length + 1) + name.length + unsignedVarintBytes(batches.length + 1) + 1;
    for (const batch of batches) size += 4 + unsignedVarintBytes(batch.bytes + 1) + batch.bytes + 1;
    return { name, batches };
  });
  size += unsignedVarintBytes(topics.length + 1) + 1;

  const target = Buffer.allocUnsafe(size);
  let offset = 0;
  if (transactionalId === null) target[offset++] = 0;
  else {
    offset = writeUnsignedVarint(target, offset, transactionalId.length + 1);
    target.set(transactionalId, offset);
    offset += transactionalId.length;
  }
  offset = target.writeInt16BE(acks, offset);
  offset = target.writeInt32BE(timeoutMs, offset);
  offset = writeUnsignedVarint(target, offset, topics.length + 1);
  for (const { name, batches } of topics) {
    offset = writeUnsignedVarint(target, offset, name.length + 1);
    target.set(name, offset);
    offset += name.length;
    offset = writeUnsignedVarint(target, offset, batches.length + 1);
    for (const batch of batches) {
      offset = target.writeInt32BE(batch.partition, offset);
      offset = writeUnsignedVarint(target, offset, batch.bytes + 1);
      offset = writeBatch(target, offset, batch, options);
      target[offset++] = 0; // partition's tagged fields
    }
    target[offset++] = 0; // topic's tagged fields
  }
  target[offset++] = 0; // request's tagged fields
  if (offset !== size) throw new Error(`produce request encoded into ${offset} of ${size} bytes`);
  return target;
}

function createRequest(acks: number, timeoutMs: number, messages: ProduceMessage[], options: ProduceRequestOptions = {}): Writer | Promise<Writer> {
  if (!encodable(messages, options)) {
    // As the library's own API chooses: gzip is compressed asynchronously.
    return options.compression === 'gzip'
      ? produceV11.createRequestAsync(acks, timeoutMs, messages as never, options as never)
      : produceV11.createRequest(acks, timeoutMs, messages as never, options as never);
  }
  const writer = Writer.create().append(encodeProduceRequestV11(acks, timeoutMs, messages, options));
  if (acks === 0) writer.context.noResponse = true;
  return writer;
}

/** The library's Produce v11 API with this encoder; its response parser unchanged. */
const produceApiV11 = createAPI(0, 11, createRequest as never, produceV11.parseResponse);

/**
 * The client's Producer, sending its Produce v11 requests through this encoder. Everything else
 * (idempotent sequences, retries, metadata, the response) stays the library's: the client looks its
 * APIs up by name through this one method, and a broker that negotiates another version keeps the
 * library's encoder for it.
 */
export class EncodingProducer extends Producer<Buffer, Buffer, Buffer, Buffer> {
  override [kGetApi]<RequestArguments extends unknown[], ResponseType>(name: string, callback: Callback<API<RequestArguments, ResponseType>>): void {
    if (name !== 'Produce') {
      super[kGetApi](name, callback);
      return;
    }
    super[kGetApi]<RequestArguments, ResponseType>(name, (error, api) => {
      callback(error, api === (produceV11.api as unknown) ? (produceApiV11 as unknown as API<RequestArguments, ResponseType>) : api);
    });
  }
}
