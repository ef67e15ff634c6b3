/**
 * How many bytes records take in a Kafka record batch (message format v2, the only one
 * @platformatic/kafka writes), so the send queue can cap a batch by the topic's max.message.bytes,
 * which the broker compares with the whole batch, header included.
 */
import type { OutgoingRecord, ProducerSettings } from '../core/kafka-port.ts';

/**
 * The batch header: base offset 8, length 4, leader epoch 4, magic 1, CRC 4, attributes 2,
 * last offset delta 4, first and max timestamps 8 + 8, producer id 8, epoch 2, base sequence 4,
 * record count 4. Kafka's default max.message.bytes (1,048,588) is 1 MiB plus the first 12.
 */
export const recordBatchHeaderBytes = 61;

/** Bytes of a zigzag varint holding `value` (Kafka's signed varints). */
function varintBytes(value: number): number {
  let zigzag = value >= 0 ? value * 2 : -value * 2 - 1;
  let bytes = 1;
  while (zigzag >= 128) {
    zigzag = Math.floor(zigzag / 128);
    bytes += 1;
  }
  return bytes;
}

/** A length-prefixed byte string; null is the length -1 alone. */
function bytesField(length: number | null): number {
  return length === null ? 1 : varintBytes(length) + length;
}

/**
 * The most bytes `record` takes inside an uncompressed batch: attributes 1, timestamp delta (a
 * varlong, at most 10), offset delta (a varint, at most 5), key, value, headers, all behind the
 * record's own length varint. Exact but for those two deltas, which are bounded instead.
 */
export function recordBytes(record: OutgoingRecord): number {
  let body = 1 + 10 + 5;
  body += bytesField(record.key === null ? null : Buffer.byteLength(record.key));
  body += bytesField(record.value === null ? null : record.value.length);
  // Runs per record: a for-in over the plain headers object, without Object.entries' arrays.
  let headerCount = 0;
  for (const name in record.headers) {
    headerCount += 1;
    body += bytesField(Buffer.byteLength(name)) + bytesField(Buffer.byteLength(record.headers[name]!));
  }
  body += varintBytes(headerCount);
  return varintBytes(body) + body;
}

/**
 * A compressed batch body is at most `bytes * (1 + ratio) + constant`: the codecs' published
 * worst cases for incompressible input (zlib's deflateBound plus the gzip wrapper; LZ4_compressBound
 * plus the frame's header, end mark and checksum; ZSTD_COMPRESSBOUND; snappy's MaxCompressedLength).
 */
const compressionBound: Record<ProducerSettings['compression'], { ratio: number; constant: number }> = {
  none: { ratio: 0, constant: 0 },
  gzip: { ratio: 1 / 2048, constant: 64 },
  lz4: { ratio: 1 / 255, constant: 64 },
  zstd: { ratio: 1 / 256, constant: 128 },
  snappy: { ratio: 1 / 6, constant: 64 },
};

/**
 * The most record bytes (summed {@link recordBytes}) one batch may carry so that the batch, header
 * and worst-case compression included, stays within `maxMessageBytes`.
 */
export function batchCapacityBytes(maxMessageBytes: number, compression: ProducerSettings['compression']): number {
  const { ratio, constant } = compressionBound[compression];
  return Math.max(0, Math.floor((maxMessageBytes - recordBatchHeaderBytes - constant) / (1 + ratio)));
}
