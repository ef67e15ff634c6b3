/**
 * The names of Tributary's QuestDB tables and their columns, shared by the enricher (which creates
 * and writes them, enrich/questdb-schema.ts) and the API (which reads them), so the two cannot drift.
 * A table name is a prefix (validated here) plus a fixed name; names are spliced into SQL unquoted.
 */
import type { Result } from './result.ts';

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
