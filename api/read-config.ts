/**
 * Settings of the API's read paths: the QuestDB connection the dashboard reads use (PostgreSQL wire
 * protocol), their bounds, and the bounds of the alert feed and the dead-letter listing. The entry
 * point adds `apiReadSettings` to the `api` command's table and reads them once through its EnvReader.
 */
import type { EnvReader } from '../core/config.ts';
import { validateTablePrefix } from '../core/questdb-tables.ts';
import { intSetting, readSettings, stringSetting } from '../core/settings.ts';
import { sharedSettings } from '../core/shared-settings.ts';

export const apiReadSettings = {
  questdbPgUrl: stringSetting({
    name: 'TRIBUTARY_API_QUESTDB_PG_URL',
    // The stack launcher's QuestDB PG port (base+12) with QuestDB's default credentials and database.
    default: 'postgresql://admin:quest@127.0.0.1:19012/qdb',
    help: "QuestDB's PostgreSQL wire endpoint the dashboard reads query, postgresql://user:password@host:port/qdb",
  }),
  tablePrefix: sharedSettings.questdbTablePrefix,
  questdbPoolSize: intSetting({ name: 'TRIBUTARY_API_QUESTDB_POOL_SIZE', default: 8, min: 1, max: 256, help: 'QuestDB connections the dashboard reads share' }),
  questdbQueryTimeoutMs: intSetting({ name: 'TRIBUTARY_API_QUESTDB_QUERY_TIMEOUT_MS', default: 10_000, min: 100, max: 300_000, help: 'a dashboard query not answered within this fails with 503 (its connection is dropped)' }),
  latestLookbackHours: intSetting({ name: 'TRIBUTARY_API_LATEST_LOOKBACK_HOURS', default: 168, min: 1, max: 87_600, help: "the latest-value reads look this far back (QuestDB scans a device's partitions backwards; older readings are not \"latest\")" }),
  seriesMaxPoints: intSetting({ name: 'TRIBUTARY_API_SERIES_MAX_POINTS', default: 2000, min: 10, max: 100_000, help: 'most points one series request may ask for ((to - from) / step); more is refused with 422' }),
  seriesMaxRangeDays: intSetting({ name: 'TRIBUTARY_API_SERIES_MAX_RANGE_DAYS', default: 400, min: 1, max: 36_500, help: 'longest time range one series request may cover' }),
  alertFeedWatermarkMs: intSetting({
    name: 'TRIBUTARY_API_ALERT_FEED_WATERMARK_MS',
    default: 5000,
    min: 0,
    max: 600_000,
    help: 'the alert feed serves only alerts older than this, so no later alert can sort before a page already served (docs/adr/0016-alerts-feed.md)',
  }),
  alertFeedMaxPageSize: intSetting({ name: 'TRIBUTARY_API_ALERT_FEED_MAX_PAGE', default: 500, min: 1, max: 10_000, help: 'most alerts in one feed page (the limit a client may ask for)' }),
  deadLetterScanRecords: intSetting({
    name: 'TRIBUTARY_API_DEAD_LETTER_SCAN_RECORDS',
    default: 20_000,
    min: 100,
    max: 1_000_000,
    help: 'dead letters one listing request reads at most before it answers with what it found and a cursor to go on',
  }),
} as const;

export interface ApiReadConfig {
  questdb: { pgUrl: string; poolSize: number; queryTimeoutMs: number; tablePrefix: string };
  latestLookbackMs: number;
  series: { maxPoints: number; maxRangeMs: number };
  alertFeed: { watermarkMs: number; maxPageSize: number };
  deadLetters: { scanRecords: number };
}

/** Reads the settings; problems go to `env` (reported together by `env.finish()`). */
export function readApiReadConfig(env: EnvReader): ApiReadConfig {
  const s = readSettings(env, apiReadSettings);
  if (!/^postgres(?:ql)?:\/\/[^/\s]+\/\S+$/.test(s.questdbPgUrl)) env.problem(`TRIBUTARY_API_QUESTDB_PG_URL=${JSON.stringify(s.questdbPgUrl)}: expected postgresql://user:password@host:port/database`);
  if (!validateTablePrefix(s.tablePrefix).ok) env.problem(`TRIBUTARY_QUESTDB_TABLE_PREFIX=${JSON.stringify(s.tablePrefix)}: letters, digits and _ only, not starting with a digit, at most 64`);
  return {
    questdb: { pgUrl: s.questdbPgUrl, poolSize: s.questdbPoolSize, queryTimeoutMs: s.questdbQueryTimeoutMs, tablePrefix: s.tablePrefix },
    latestLookbackMs: s.latestLookbackHours * 3_600_000,
    series: { maxPoints: s.seriesMaxPoints, maxRangeMs: s.seriesMaxRangeDays * 86_400_000 },
    alertFeed: { watermarkMs: s.alertFeedWatermarkMs, maxPageSize: s.alertFeedMaxPageSize },
    deadLetters: { scanRecords: s.deadLetterScanRecords },
  };
}
