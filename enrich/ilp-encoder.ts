/**
 * The enricher's InfluxDB line protocol (ILP, QuestDB protocol version 2) encoder: rows of the
 * readings and completeness tables written straight into one growing Buffer.
 *
 * Why by hand (docs/adr/0018-hand-written-ilp-rows.md): building rows with @questdb/nodejs-client
 * cost 3.5–3.9 µs per readings row (validating every column name on every row, two BigInts per
 * row for the timestamps, a bounds check per character), about a third of an enricher's CPU. Our
 * rows have a fixed shape, so the names are validated and encoded once, here, and each row writes
 * only its values. The bytes are the ones the client's own buffer writes for the same rows
 * (ilp-encoder.test.ts compares them), and the client's HTTP transport still sends them.
 */
import { completenessColumns, readingsColumns } from '../core/questdb-tables.ts';
import type { DeviceCompleteness } from './completeness.ts';
import type { CanonicalRow } from './enrichment.ts';

/** ILP v2's binary double: `name==`, this type byte, then the value as 8 bytes little-endian. */
const binaryDoubleType = 16;
const initialBytes = 64 * 1024;
const maxCachedSymbols = 100_000;
const [letterI, letterT, newline, spaceByte] = ['i', 't', '\n', ' '].map((char) => char.charCodeAt(0)) as [number, number, number, number];

// What ILP escapes in table names, symbol names and symbol values: space, comma, equals, newline,
// carriage return and backslash, each preceded by a backslash. Names here are fixed and plain.
const needsEscape = /[ ,=\n\r\\]/;
const escapable = /[ ,=\n\r\\]/g;

// Table and column names are never escaped: validated once when an encoder is made.
const plainName = /^[A-Za-z_][A-Za-z0-9_]*$/;

export interface IlpEncoder {
  /** Appends one readings row (designated timestamp: the row's `ts` in microseconds). */
  reading(row: CanonicalRow, partition: number, offset: number): void;
  /** Appends one completeness snapshot row at `atMs`. */
  completeness(device: DeviceCompleteness, atMs: number): void;
  /** Rows appended since the last `clear`. */
  rowCount(): number;
  /** A copy of the rows appended since the last `clear`, to send as one request body. */
  take(): Buffer;
  /** Forgets every row appended; the buffer is kept for the next batch. */
  clear(): void;
}

/**
 * Creates an encoder for the two tables' names. Throws RangeError for a name ILP would need to
 * escape (the tables' names come from a validated prefix, so this is a bug, not input).
 * Failure: a value that is not a finite number or a safe integer throws RangeError naming the column;
 * the half-written row is dropped, the rows before it are kept.
 */
export function createIlpEncoder(tables: { readings: string; completeness: string }): IlpEncoder {
  for (const name of [tables.readings, tables.completeness, ...Object.values(readingsColumns), ...Object.values(completenessColumns)]) {
    if (!plainName.test(name)) throw new RangeError(`ILP name "${name}" would need escaping`);
  }
  const c = readingsColumns;
  const k = completenessColumns;
  const key = (text: string): Buffer => Buffer.from(text, 'latin1');
  const readingsTable = key(`${tables.readings},${c.device}=`);
  const siteKey = key(`,${c.site}=`);
  const modelKey = key(`,${c.model}=`);
  const metricKey = key(`,${c.metric}=`);
  const unitKey = key(`,${c.unit}=`);
  const tsSourceKey = key(`,${c.tsSource}=`);
  const valueKey = key(` ${c.value}==`);
  const seqKey = key(`,${c.seq}=`);
  const receivedAtKey = key(`,${c.receivedAt}=`);
  const partitionKey = key(`,${c.kafkaPartition}=`);
  const offsetKey = key(`,${c.kafkaOffset}=`);
  const completenessTable = key(`${tables.completeness},${k.device}=`);
  const receivedKey = key(` ${k.received}=`);
  const duplicatesKey = key(`,${k.duplicates}=`);
  const gapsKey = key(`,${k.gaps}=`);
  const resetsKey = key(`,${k.resets}=`);

  let buffer = Buffer.allocUnsafe(initialBytes);
  let position = 0;
  let rows = 0;
  // Symbol values repeat (a device, its site, model, metrics, units): each is escaped and encoded once.
  const symbols = new Map<string, Buffer>();

  /** Room for `bytes` more; doubles the buffer, keeping what is written. */
  const reserve = (count: number): void => {
    if (position + count <= buffer.length) return;
    let size = buffer.length * 2;
    while (size < position + count) size *= 2;
    const grown = Buffer.allocUnsafe(size);
    buffer.copy(grown, 0, 0, position);
    buffer = grown;
  };
  // A byte loop: for the few bytes of a name or value it is cheaper than a native copy.
  const bytes = (data: Buffer): void => {
    reserve(data.length);
    for (let i = 0; i < data.length; i += 1) buffer[position + i] = data[i]!;
    position += data.length;
  };
  const symbol = (value: string): void => {
    let encoded = symbols.get(value);
    if (encoded === undefined) {
      if (symbols.size >= maxCachedSymbols) symbols.clear();
      encoded = Buffer.from(needsEscape.test(value) ? value.replace(escapable, '\\$&') : value, 'utf8');
      symbols.set(value, encoded);
    }
    bytes(encoded);
  };
  /** A safe integer in decimal (at most 17 characters with its sign). */
  const digits = (column: string, value: number): void => {
    if (!Number.isSafeInteger(value)) throw new RangeError(`ILP column ${column}: ${value} is not a safe integer`);
    reserve(17);
    position += buffer.write(String(value), position, 'latin1');
  };
  const integer = (column: string, value: number): void => {
    digits(column, value);
    buffer[position++] = letterI;
  };
  /** A timestamp in microseconds, then `t` (and the row's newline when it is the designated one). */
  const micros = (column: string, value: number, endsRow: boolean): void => {
    digits(column, value);
    reserve(2);
    buffer[position++] = letterT;
    if (endsRow) buffer[position++] = newline;
  };
  const double = (column: string, value: number): void => {
    if (!Number.isFinite(value)) throw new RangeError(`ILP column ${column}: ${value} is not a finite number`);
    reserve(9);
    buffer[position] = binaryDoubleType;
    buffer.writeDoubleLE(value, position + 1);
    position += 9;
  };
  const space = (): void => {
    reserve(1);
    buffer[position++] = spaceByte;
  };
  /** Writes one row; a throw leaves the buffer as it was before the row. */
  const row = (write: () => void): void => {
    const start = position;
    try {
      write();
    } catch (error) {
      position = start;
      throw error;
    }
    rows += 1;
  };

  return {
    reading(r, partition, offset) {
      row(() => {
        bytes(readingsTable);
        symbol(r.device);
        bytes(siteKey);
        symbol(r.site);
        bytes(modelKey);
        symbol(r.model);
        bytes(metricKey);
        symbol(r.metric);
        bytes(unitKey);
        symbol(r.unit);
        bytes(tsSourceKey);
        symbol(r.tsSource);
        bytes(valueKey);
        double(c.value, r.value);
        bytes(seqKey);
        integer(c.seq, r.seq);
        bytes(receivedAtKey);
        micros(c.receivedAt, Math.trunc(r.receivedAtMs) * 1000, false);
        bytes(partitionKey);
        integer(c.kafkaPartition, partition);
        bytes(offsetKey);
        integer(c.kafkaOffset, offset);
        // Microseconds keep a device's sub-millisecond event time; rounding is deterministic, so replays match.
        space();
        micros(c.ts, Math.round(r.ts * 1000), true);
      });
    },

    completeness(device, atMs) {
      row(() => {
        bytes(completenessTable);
        symbol(device.deviceId);
        bytes(receivedKey);
        integer(k.received, device.received);
        bytes(duplicatesKey);
        integer(k.duplicates, device.duplicates);
        bytes(gapsKey);
        integer(k.gaps, device.gaps);
        bytes(resetsKey);
        integer(k.resets, device.resets);
        space();
        micros(k.ts, Math.trunc(atMs) * 1000, true);
      });
    },

    rowCount: () => rows,

    take: () => Buffer.from(buffer.subarray(0, position)),

    clear() {
      position = 0;
      rows = 0;
    },
  };
}
