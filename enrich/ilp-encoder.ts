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
/** Readings-row prefixes kept (each ~100 bytes): about 30,000 devices with 3 metrics each. */
const maxCachedPrefixes = 100_000;
/** A device whose site, model or units keep changing starts its list over past this. */
const maxPrefixesPerDevice = 16;
const digitZero = 48;
const minusSign = 45;
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
  // Completeness rows' device names repeat: each is escaped and encoded once.
  const symbols = new Map<string, Buffer>();
  // A readings row up to its value (`readings,device=…,ts_source=… value==`) only depends on six
  // strings that repeat for every message of a device and metric: encoded once, then copied whole.
  const prefixes = new Map<string, RowPrefix[]>();
  let cachedPrefixes = 0;

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
      encoded = encodeSymbol(value);
      symbols.set(value, encoded);
    }
    bytes(encoded);
  };
  const prefixOf = (r: CanonicalRow): Buffer => {
    let list = prefixes.get(r.device);
    if (list === undefined) {
      if (cachedPrefixes >= maxCachedPrefixes) {
        prefixes.clear();
        cachedPrefixes = 0;
      }
      list = [];
      prefixes.set(r.device, list);
    }
    for (const p of list) {
      if (p.metric === r.metric && p.unit === r.unit && p.tsSource === r.tsSource && p.site === r.site && p.model === r.model) return p.bytes;
    }
    if (list.length >= maxPrefixesPerDevice) {
      cachedPrefixes -= list.length;
      list.length = 0;
    }
    const encoded = Buffer.concat([
      readingsTable, encodeSymbol(r.device), siteKey, encodeSymbol(r.site), modelKey, encodeSymbol(r.model),
      metricKey, encodeSymbol(r.metric), unitKey, encodeSymbol(r.unit), tsSourceKey, encodeSymbol(r.tsSource), valueKey,
    ]);
    const prefix: RowPrefix = { site: r.site, model: r.model, metric: r.metric, unit: r.unit, tsSource: r.tsSource, bytes: encoded };
    list.push(prefix);
    cachedPrefixes += 1;
    return prefix.bytes;
  };
  /** A safe integer in decimal (at most 17 characters with its sign), without a string in between. */
  const digits = (column: string, value: number): void => {
    if (!Number.isSafeInteger(value)) throw new RangeError(`ILP column ${column}: ${value} is not a safe integer`);
    reserve(17);
    if (value < 0) {
      buffer[position++] = minusSign;
      value = -value;
    }
    // Below 10^8 the digits come from int32 arithmetic; a larger value is split in two such halves.
    if (value < 1e8) {
      position = int32Digits(buffer, position, value, 0);
      return;
    }
    const high = Math.floor(value / 1e8);
    position = int32Digits(buffer, position, high, 0);
    position = int32Digits(buffer, position, value - high * 1e8, 8);
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
        const prefix = prefixOf(r);
        reserve(prefix.length);
        buffer.set(prefix, position);
        position += prefix.length;
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

interface RowPrefix {
  site: string;
  model: string;
  metric: string;
  unit: string;
  tsSource: string;
  bytes: Buffer;
}

/** A symbol value's bytes, escaped as ILP requires. */
function encodeSymbol(value: string): Buffer {
  return Buffer.from(needsEscape.test(value) ? value.replace(escapable, '\\$&') : value, 'utf8');
}

/**
 * Writes `value` (an integer in [0, 10^8)) in decimal at `position`, left-padded with zeros to
 * `width` digits (0: no padding); returns the position after it.
 */
function int32Digits(target: Buffer, position: number, value: number, width: number): number {
  let n = value | 0;
  let count = 1;
  for (let rest = n; rest >= 10; rest = (rest / 10) | 0) count += 1;
  if (count < width) count = width;
  for (let i = position + count - 1; i >= position; i -= 1) {
    target[i] = digitZero + (n % 10);
    n = (n / 10) | 0;
  }
  return position + count;
}
