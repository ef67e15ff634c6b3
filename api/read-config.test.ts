import { describe, expect, it } from 'vitest';
import { createEnvReader } from '../core/config.ts';
import { readApiReadConfig } from './read-config.ts';

describe('readApiReadConfig', () => {
  it('defaults to the local stack QuestDB with the bounds documented in the settings', () => {
    const env = createEnvReader({});
    const config = readApiReadConfig(env);
    env.finish();
    expect(config).toEqual({
      questdb: { pgUrl: 'postgresql://admin:quest@127.0.0.1:19012/qdb', poolSize: 8, queryTimeoutMs: 10_000, tablePrefix: '' },
      latestLookbackMs: 168 * 3_600_000,
      series: { maxPoints: 2000, maxRangeMs: 400 * 86_400_000 },
      alertFeed: { watermarkMs: 5000, maxPageSize: 500 },
      deadLetters: { scanRecords: 20_000 },
    });
  });

  it('reports a URL that is not postgresql:// and a prefix that could break out of the SQL, together', () => {
    const env = createEnvReader({ TRIBUTARY_API_QUESTDB_PG_URL: 'http://questdb:9000', TRIBUTARY_QUESTDB_TABLE_PREFIX: 'x;drop', TRIBUTARY_API_SERIES_MAX_POINTS: '5' });
    readApiReadConfig(env);
    expect(() => env.finish()).toThrow(/TRIBUTARY_API_QUESTDB_PG_URL[\s\S]*TRIBUTARY_QUESTDB_TABLE_PREFIX|TRIBUTARY_QUESTDB_TABLE_PREFIX[\s\S]*TRIBUTARY_API_QUESTDB_PG_URL/);
    const bounds = createEnvReader({ TRIBUTARY_API_SERIES_MAX_POINTS: '5' });
    readApiReadConfig(bounds);
    expect(() => bounds.finish()).toThrow(/TRIBUTARY_API_SERIES_MAX_POINTS/);
  });
});
