/**
 * QuestDB table definitions (QuestDB 9.3) as functions of a table-name prefix. The column names are
 * exported constants used by both the DDL here and the row writer, so the two cannot drift.
 * See docs/adr/0004-narrow-readings-table.md for why the readings table is narrow and how its DEDUP
 * keys make redelivery and replay idempotent.
 */
import type { Result } from '../core/result.ts';

/** Columns of the readings table: one row per reading. */
export const readingsColumns = {
  /** Designated timestamp: device event time, or gateway receive time when the device sent none. */
  ts: 'ts',
  device: 'device',
  site: 'site',
  model: 'model',
  metric: 'metric',
  value: 'value',
  unit: 'unit',
  seq: 'seq',
  /** 'device' | 'gateway': where `ts` came from. */
  tsSource: 'ts_source',
  receivedAt: 'received_at',
  kafkaPartition: 'kafka_partition',
  kafkaOffset: 'kafka_offset',
} as const;

/** Columns of the device_completeness table: periodic per-device snapshots of the sequence counters. */
export const completenessColumns = {
  ts: 'ts',
  device: 'device',
  /** Distinct messages, duplicates excluded. */
  received: 'received',
  duplicates: 'duplicates',
  gaps: 'gaps',
  resets: 'resets',
} as const;

type ReadingsColumn = (typeof readingsColumns)[keyof typeof readingsColumns];
type CompletenessColumn = (typeof completenessColumns)[keyof typeof completenessColumns];

// Symbol capacity scales automatically since QuestDB 9.0, so no CAPACITY clauses.
const readingsColumnTypes: ReadonlyArray<readonly [ReadingsColumn, string]> = [
  [readingsColumns.ts, 'TIMESTAMP'],
  [readingsColumns.device, 'SYMBOL'],
  [readingsColumns.site, 'SYMBOL'],
  [readingsColumns.model, 'SYMBOL'],
  [readingsColumns.metric, 'SYMBOL'],
  [readingsColumns.value, 'DOUBLE'],
  [readingsColumns.unit, 'SYMBOL'],
  [readingsColumns.seq, 'LONG'],
  [readingsColumns.tsSource, 'SYMBOL'],
  [readingsColumns.receivedAt, 'TIMESTAMP'],
  [readingsColumns.kafkaPartition, 'INT'],
  [readingsColumns.kafkaOffset, 'LONG'],
];

const completenessColumnTypes: ReadonlyArray<readonly [CompletenessColumn, string]> = [
  [completenessColumns.ts, 'TIMESTAMP'],
  [completenessColumns.device, 'SYMBOL'],
  [completenessColumns.received, 'LONG'],
  [completenessColumns.duplicates, 'LONG'],
  [completenessColumns.gaps, 'LONG'],
  [completenessColumns.resets, 'LONG'],
];

/** One reading is identified by when, which device, which metric and which message. */
const readingsDedupKeys: readonly ReadingsColumn[] = [readingsColumns.ts, readingsColumns.device, readingsColumns.metric, readingsColumns.seq];
/** One snapshot per device per snapshot time. */
const completenessDedupKeys: readonly CompletenessColumn[] = [completenessColumns.ts, completenessColumns.device];

// A prefix is spliced into SQL unquoted: allow only identifier characters.
const prefixPattern = /^(?:[A-Za-z_][A-Za-z0-9_]{0,63})?$/;

/** Check a table-name prefix ('' allowed): letters, digits and '_', not starting with a digit, at most 64 chars. */
export function validateTablePrefix(prefix: string): Result<string> {
  if (prefixPattern.test(prefix)) return { ok: true, value: prefix };
  return { ok: false, reason: 'invalid_table_prefix', detail: 'letters, digits and _ only, not starting with a digit, at most 64' };
}

function checked(prefix: string): string {
  // Config validates the prefix first; reaching here with a bad one is a bug, and SQL must not be built from it.
  if (!prefixPattern.test(prefix)) throw new RangeError(`invalid table prefix "${prefix}"`);
  return prefix;
}

/** The readings table's name for a prefix. Throws RangeError for a prefix `validateTablePrefix` refuses. */
export function readingsTableName(prefix: string): string {
  return `${checked(prefix)}readings`;
}

/** The completeness table's name for a prefix. Throws RangeError for a prefix `validateTablePrefix` refuses. */
export function completenessTableName(prefix: string): string {
  return `${checked(prefix)}device_completeness`;
}

function createTable(name: string, columns: ReadonlyArray<readonly [string, string]>, dedupKeys: readonly string[]): string {
  const body = columns.map(([column, type]) => `  ${column} ${type}`).join(',\n');
  return (
    `CREATE TABLE IF NOT EXISTS ${name} (\n${body}\n) TIMESTAMP(${columns[0]?.[0] ?? ''}) PARTITION BY DAY WAL\n` +
    `DEDUP UPSERT KEYS(${dedupKeys.join(', ')})`
  );
}

/** CREATE TABLE IF NOT EXISTS for the readings table. Throws RangeError for an invalid prefix. */
export function readingsTableDdl(prefix: string): string {
  return createTable(readingsTableName(prefix), readingsColumnTypes, readingsDedupKeys);
}

/** CREATE TABLE IF NOT EXISTS for the device_completeness table. Throws RangeError for an invalid prefix. */
export function completenessTableDdl(prefix: string): string {
  return createTable(completenessTableName(prefix), completenessColumnTypes, completenessDedupKeys);
}

/** Every statement the enricher runs at start-up, in order; each is idempotent. */
export function schemaDdl(prefix: string): string[] {
  return [readingsTableDdl(prefix), completenessTableDdl(prefix)];
}
