import { describe, expect, it } from 'vitest';
import {
  completenessColumns,
  completenessTableDdl,
  completenessTableName,
  readingsColumns,
  readingsTableDdl,
  readingsTableName,
  schemaDdl,
  validateTablePrefix,
} from './questdb-schema.ts';

function columnsOf(ddl: string): Array<[string, string]> {
  const body = ddl.slice(ddl.indexOf('(') + 1, ddl.indexOf('\n)'));
  return body.split(',').map((line) => line.trim().split(/\s+/) as [string, string]);
}

describe('readingsTableDdl', () => {
  const ddl = readingsTableDdl('tributary_');

  it('creates the prefixed table idempotently, partitioned by day on WAL with the dedup keys', () => {
    expect(ddl.startsWith('CREATE TABLE IF NOT EXISTS tributary_readings (')).toBe(true);
    expect(ddl).toContain(') TIMESTAMP(ts) PARTITION BY DAY WAL\nDEDUP UPSERT KEYS(ts, device, metric, seq)');
  });

  it('declares every exported column once, with the agreed types', () => {
    expect(columnsOf(ddl)).toEqual([
      ['ts', 'TIMESTAMP'],
      ['device', 'SYMBOL'],
      ['site', 'SYMBOL'],
      ['model', 'SYMBOL'],
      ['metric', 'SYMBOL'],
      ['value', 'DOUBLE'],
      ['unit', 'SYMBOL'],
      ['seq', 'LONG'],
      ['ts_source', 'SYMBOL'],
      ['received_at', 'TIMESTAMP'],
      ['kafka_partition', 'INT'],
      ['kafka_offset', 'LONG'],
    ]);
    expect(columnsOf(ddl).map(([name]) => name).sort()).toEqual(Object.values(readingsColumns).sort());
  });
});

describe('completenessTableDdl', () => {
  const ddl = completenessTableDdl('tributary_');

  it('creates device_completeness with the designated ts and dedup on (ts, device)', () => {
    expect(ddl.startsWith('CREATE TABLE IF NOT EXISTS tributary_device_completeness (')).toBe(true);
    expect(ddl).toContain(') TIMESTAMP(ts) PARTITION BY DAY WAL\nDEDUP UPSERT KEYS(ts, device)');
    expect(columnsOf(ddl)).toEqual([
      ['ts', 'TIMESTAMP'],
      ['device', 'SYMBOL'],
      ['received', 'LONG'],
      ['duplicates', 'LONG'],
      ['gaps', 'LONG'],
      ['resets', 'LONG'],
    ]);
    expect(columnsOf(ddl).map(([name]) => name).sort()).toEqual(Object.values(completenessColumns).sort());
  });
});

describe('table names and prefixes', () => {
  it('names tables from the prefix, which may be empty', () => {
    expect(readingsTableName('')).toBe('readings');
    expect(completenessTableName('t1_')).toBe('t1_device_completeness');
    expect(schemaDdl('x_')).toEqual([readingsTableDdl('x_'), completenessTableDdl('x_')]);
  });

  it('accepts identifier prefixes and refuses anything that could break out of the SQL', () => {
    for (const prefix of ['', 'a', '_x', 'Tributary_2_']) expect(validateTablePrefix(prefix), prefix).toEqual({ ok: true, value: prefix });
    for (const prefix of ['1a', 'a-b', 'a b', 'x;DROP TABLE y;--', '"q"', 'a.b', 'é', 'x'.repeat(65)]) {
      expect(validateTablePrefix(prefix), prefix).toMatchObject({ ok: false, reason: 'invalid_table_prefix' });
      expect(() => readingsTableDdl(prefix), prefix).toThrow(RangeError);
      expect(() => completenessTableName(prefix), prefix).toThrow(RangeError);
    }
  });
});
