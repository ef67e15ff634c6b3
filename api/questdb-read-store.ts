/**
 * The dashboard reads' connection to QuestDB: a pg Pool over QuestDB's PostgreSQL wire protocol,
 * parameterised queries only. Timestamps come back as RFC 3339 UTC text with QuestDB's microseconds
 * (pg's own parser would read them in the server process's local time zone, and drop the micros).
 * A failing connection or a query past its timeout is an InfraError (QUESTDB_UNAVAILABLE, retriable)
 * and its connection is discarded; a table that does not exist yet reads as no rows.
 */
import pg from 'pg';
import { describeError, InfraError } from '../core/errors.ts';
import type { SqlQuery } from './telemetry-queries.ts';

export interface ReadStore {
  query<Row>(query: SqlQuery): Promise<Row[]>;
  /** Closes every connection; idempotent. */
  close(): Promise<void>;
}

const timestampOid = 1114;
const int8Oid = 20;

/** `2026-12-02 08:00:00.123456` (QuestDB's text form, UTC) → `2026-12-02T08:00:00.123456Z`. */
function rfc3339(text: string): string {
  return `${text.replace(' ', 'T')}Z`;
}

const types = {
  getTypeParser: ((oid: number, format?: 'text' | 'binary'): ((value: string) => unknown) => {
    if (oid === timestampOid) return rfc3339;
    // Counters (LONG) fit a double up to 2^53, far beyond any count this product keeps.
    if (oid === int8Oid) return Number;
    return (format === 'binary' ? pg.types.getTypeParser(oid, 'binary') : pg.types.getTypeParser(oid, 'text')) as (value: string) => unknown;
  }) as typeof pg.types.getTypeParser,
};

// QuestDB's wording for a missing table, e.g. before the first enricher created it.
const missingTablePattern = /table does not exist/i;
const overloadPattern = /timeout|cancelled|out of memory|memory limit/i;

/** Builds the pool; connects on first query. */
export function createQuestdbReadStore(options: { pgUrl: string; poolSize: number; queryTimeoutMs: number }): ReadStore {
  const pool = new pg.Pool({
    connectionString: options.pgUrl,
    max: options.poolSize,
    // pg-pool discards a connection whose query failed, so a timed-out query's late answer never reaches the next caller.
    query_timeout: options.queryTimeoutMs,
    connectionTimeoutMillis: options.queryTimeoutMs,
    idleTimeoutMillis: 30_000,
    types,
  });
  // An idle connection's error (QuestDB restarted) must not crash the process; the next query reconnects.
  pool.on('error', () => undefined);
  let closed: Promise<void> | null = null;
  return {
    async query<Row>(query: SqlQuery): Promise<Row[]> {
      try {
        const result = await pool.query(query.text, query.values);
        return result.rows as Row[];
      } catch (error) {
        const message = describeError(error);
        if (missingTablePattern.test(message)) return [];
        // QuestDB answered with an error: the query is wrong (a bug, not an outage), unless QuestDB gave up on time or memory.
        if (error instanceof pg.DatabaseError && !overloadPattern.test(message)) throw error;
        throw new InfraError('QUESTDB_UNAVAILABLE', `QuestDB read failed: ${message}`, { retriable: true, cause: error });
      }
    },
    close: () => (closed ??= pool.end()),
  };
}
