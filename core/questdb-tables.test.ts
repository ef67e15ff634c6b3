import { describe, expect, it } from 'vitest';
import { completenessTableName, readingsTableName, validateTablePrefix } from './questdb-tables.ts';

describe('table names and prefixes', () => {
  it('names tables from the prefix, which may be empty', () => {
    expect(readingsTableName('')).toBe('readings');
    expect(completenessTableName('t1_')).toBe('t1_device_completeness');
  });

  it('accepts identifier prefixes and refuses anything that could break out of the SQL', () => {
    for (const prefix of ['', 'a', '_x', 'Tributary_2_']) expect(validateTablePrefix(prefix), prefix).toEqual({ ok: true, value: prefix });
    for (const prefix of ['1a', 'a-b', 'a b', 'x;DROP TABLE y;--', '"q"', 'a.b', 'é', 'x'.repeat(65)]) {
      expect(validateTablePrefix(prefix), prefix).toMatchObject({ ok: false, reason: 'invalid_table_prefix' });
      expect(() => readingsTableName(prefix), prefix).toThrow(RangeError);
      expect(() => completenessTableName(prefix), prefix).toThrow(RangeError);
    }
  });
});
