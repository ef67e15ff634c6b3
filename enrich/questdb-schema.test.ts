import { describe, expect, it } from 'vitest';
import { completenessColumns, readingsColumns } from '../core/questdb-tables.ts';
import { completenessTableDdl, readingsTableDdl, schemaDdl } from './questdb-schema.ts';

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

describe('schemaDdl', () => {
  it('creates both tables of a prefix', () => {
    expect(schemaDdl('x_')).toEqual([readingsTableDdl('x_'), completenessTableDdl('x_')]);
  });

  it('refuses a prefix that could break out of the SQL', () => {
    for (const prefix of ['1a', 'x;DROP TABLE y;--']) expect(() => readingsTableDdl(prefix), prefix).toThrow(RangeError);
  });
});
