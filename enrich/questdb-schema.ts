/**
 * QuestDB table definitions (QuestDB 9.3) as functions of a table-name prefix. The table and column
 * names come from core/questdb-tables.ts, shared by the DDL here, the row writer and the API's reads,
 * so they cannot drift.
 * See docs/adr/0004-narrow-readings-table.md for why the readings table is narrow and how its DEDUP
 * keys make redelivery and replay idempotent.
 */
import { completenessColumns, completenessTableName, readingsColumns, readingsTableName } from '../core/questdb-tables.ts';

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
