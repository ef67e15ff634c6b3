/**
 * What QuestDB holds for a benchmark run: row counts, duplicate rows, and every stored message as
 * a (device, seq) ledger. Reads over QuestDB's HTTP API: /exec for small answers, /exp (streamed
 * CSV) for the per-message listing, which can be millions of lines.
 */
import { createMessageLedger, type MessageLedger } from './message-ledger.ts';

/** Runs one SQL statement over /exec and returns the dataset rows. */
export async function questdbExec(httpUrl: string, sql: string, timeoutMs = 30_000): Promise<unknown[][]> {
  const response = await fetch(`${httpUrl}/exec?query=${encodeURIComponent(sql)}`, { signal: AbortSignal.timeout(timeoutMs) });
  const body = (await response.json()) as { dataset?: unknown[][]; error?: string };
  if (!response.ok || body.error !== undefined) throw new Error(`QuestDB: ${body.error ?? `HTTP ${response.status}`} (${sql.slice(0, 120)})`);
  return body.dataset ?? [];
}

/** Rows in `table`, or 0 while the table does not exist yet (the enricher creates it). */
export async function questdbRowCount(httpUrl: string, table: string): Promise<number> {
  try {
    const [[count] = []] = await questdbExec(httpUrl, `SELECT count() FROM '${table}'`, 5000);
    return Number(count ?? 0);
  } catch (error) {
    if (error instanceof Error && /does not exist/.test(error.message)) return 0;
    throw error;
  }
}

/**
 * Whether every transaction committed to `table`'s WAL is applied (so queries see it) and the table
 * is not suspended; false while the table does not exist.
 */
export async function questdbWalApplied(httpUrl: string, table: string): Promise<boolean> {
  const [row] = await questdbExec(httpUrl, `SELECT suspended, writerTxn, sequencerTxn FROM wal_tables() WHERE name = '${table}'`, 5000);
  return row !== undefined && row[0] === false && Number(row[1]) >= Number(row[2]);
}

/** Drops every table whose name starts with `prefix`; returns their names. */
export async function dropQuestdbTables(httpUrl: string, prefix: string): Promise<string[]> {
  const tables = (await questdbExec(httpUrl, 'SELECT table_name FROM tables()')).map(([name]) => String(name)).filter((name) => name.startsWith(prefix));
  for (const table of tables) await questdbExec(httpUrl, `DROP TABLE IF EXISTS '${table}'`);
  return tables;
}

/** Splits one CSV line from /exp (fields quoted only when they must be, `""` escapes a quote). */
export function parseCsvLine(line: string): string[] {
  const fields: string[] = [];
  let field = '';
  let quoted = false;
  for (let i = 0; i < line.length; i += 1) {
    const char = line[i]!;
    if (quoted) {
      if (char === '"' && line[i + 1] === '"') {
        field += '"';
        i += 1;
      } else if (char === '"') quoted = false;
      else field += char;
    } else if (char === '"') quoted = true;
    else if (char === ',') {
      fields.push(field);
      field = '';
    } else field += char;
  }
  fields.push(field);
  return fields;
}

/** Streams a query's result as CSV lines (header skipped) to `onRow`. */
export async function questdbExport(httpUrl: string, sql: string, onRow: (fields: string[]) => void, timeoutMs = 300_000): Promise<void> {
  const response = await fetch(`${httpUrl}/exp?query=${encodeURIComponent(sql)}`, { signal: AbortSignal.timeout(timeoutMs) });
  if (!response.ok || response.body === null) throw new Error(`QuestDB /exp: HTTP ${response.status}: ${(await response.text()).slice(0, 200)}`);
  const decoder = new TextDecoder();
  let pending = '';
  let header = true;
  const take = (line: string): void => {
    if (line === '') return;
    if (header) header = false;
    else onRow(parseCsvLine(line));
  };
  for await (const chunk of response.body) {
    pending += decoder.decode(chunk as Uint8Array, { stream: true });
    let newline = pending.indexOf('\n');
    while (newline >= 0) {
      take(pending.slice(0, newline).replace(/\r$/, ''));
      pending = pending.slice(newline + 1);
      newline = pending.indexOf('\n');
    }
  }
  take((pending + decoder.decode()).replace(/\r$/, ''));
}

export interface QuestdbAudit {
  rows: number;
  /** Distinct (device, metric, seq): the identity of one reading. */
  distinctReadings: number;
  /** rows - distinctReadings: readings stored more than once. */
  duplicateRows: number;
  /** Messages with at least one row, as a ledger by device index. */
  messages: MessageLedger;
  /** Messages with fewer or more rows than readings per message. */
  incompleteMessages: number;
  /** Rows of devices not in this run (0 unless the table is shared). */
  foreignRows: number;
}

/** How long the audit's whole-table count may take: 2 minutes, and 4 s more per million rows (the export: at least 5 minutes). */
function auditTimeoutMs(rows: number): number {
  return 120_000 + Math.ceil(rows / 1_000_000) * 4000;
}

/**
 * Audits `table`: counts, then one line per stored message (device, seq, rows) into a ledger.
 * Each message should have exactly `readingsPerMessage` rows.
 */
export async function auditQuestdb(options: { httpUrl: string; table: string; deviceCount: number; deviceIndexOf: (deviceId: string) => number | undefined; readingsPerMessage: number }): Promise<QuestdbAudit> {
  const { httpUrl, table } = options;
  const rows = await questdbRowCount(httpUrl, table);
  // Both queries read the whole table: a long run's needs more time than a short one's.
  const timeoutMs = auditTimeoutMs(rows);
  const [[distinct] = []] = rows === 0 ? [[0]] : await questdbExec(httpUrl, `SELECT count() FROM (SELECT DISTINCT device, metric, seq FROM '${table}')`, timeoutMs);
  const messages = createMessageLedger(options.deviceCount);
  let incompleteMessages = 0;
  let foreignRows = 0;
  if (rows > 0) {
    await questdbExport(httpUrl, `SELECT device, seq, count() FROM '${table}' GROUP BY device, seq`, ([device = '', seq = '', count = '']) => {
      const index = options.deviceIndexOf(device);
      if (index === undefined) {
        foreignRows += Number(count);
        return;
      }
      messages.add(index, Number(seq));
      if (Number(count) !== options.readingsPerMessage) incompleteMessages += 1;
    }, Math.max(300_000, timeoutMs));
  }
  const distinctReadings = Number(distinct ?? 0);
  return { rows, distinctReadings, duplicateRows: rows - distinctReadings, messages, incompleteMessages, foreignRows };
}
