/**
 * The enricher's QuestDB adapter: creates the tables over HTTP /exec, writes readings and
 * completeness snapshots over ILP/HTTP. Every write is one HTTP request, which QuestDB applies as
 * one transaction (all rows of the request, or none). Rows are encoded by enrich/ilp-encoder.ts and
 * sent by @questdb/nodejs-client's HTTP transport (ADR 0018).
 */
import { Agent } from 'node:http';
import { SenderOptions, createTransport, type SenderTransport } from '@questdb/nodejs-client';
import { InfraError, describeError } from '../core/errors.ts';
import type { Logger } from '../core/logger.ts';
import { completenessTableName, readingsTableName } from '../core/questdb-tables.ts';
import { retry, type BackoffOptions } from '../core/retry.ts';
import type { DeviceCompleteness } from './completeness.ts';
import type { QuestdbConfig } from './enrich-config.ts';
import type { CanonicalRow } from './enrichment.ts';
import { createIlpEncoder } from './ilp-encoder.ts';
import { schemaDdl } from './questdb-schema.ts';

/** A canonical row and the Kafka record it came from. */
export interface PositionedRow {
  row: CanonicalRow;
  partition: number;
  offset: number;
}

export interface QuestdbWriter {
  /** Creates the tables (idempotent), retrying until QuestDB answers or `stop` is called. */
  start(): Promise<void>;
  /**
   * Writes the rows in one request. Resolves once QuestDB committed them; rejects with a retriable
   * InfraError when it did not, in which case none of them were written and nothing is kept for
   * later: the caller writes them again.
   */
  writeRows(rows: readonly PositionedRow[]): Promise<void>;
  /** Writes one snapshot row per device at `atMs`, in requests of at most maxRowsPerWrite rows. */
  writeCompleteness(devices: readonly DeviceCompleteness[], atMs: number): Promise<void>;
  /**
   * This writer's tables that QuestDB suspended after failing to apply a transaction (disk full,
   * too many open files, …), with its reason. Writes to them are still accepted and kept in the
   * WAL, but no row becomes visible until the table is resumed. Tables suspended on purpose
   * (`SUSPEND WAL`, no error recorded) are not listed: an operator is working on them.
   */
  suspendedTables(): Promise<SuspendedTable[]>;
  /** `ALTER TABLE … RESUME WAL`: QuestDB applies the pending transactions again, from the failed one (none is skipped). */
  resumeTable(table: string): Promise<void>;
  /** The readings requests QuestDB committed since start (group commit: one may carry several `writeRows` calls). */
  readingsRequests(): WriteRequestTotals;
  /** Waits for the write in progress, then closes the HTTP connections. Idempotent. */
  stop(): Promise<void>;
}

/** Committed write requests (each one QuestDB transaction): how many, their rows and their summed duration. */
export interface WriteRequestTotals {
  count: number;
  rows: number;
  seconds: number;
}

export interface SuspendedTable {
  table: string;
  /** QuestDB's class of error, e.g. 'DISK FULL'; may be empty. */
  errorTag: string;
  errorMessage: string;
}

/**
 * Creates the writer; no I/O until `start`. Writes are serialised: the ILP encoder has one buffer,
 * so a completeness snapshot never interleaves with a batch of readings.
 * Failure: a failed request is wrapped once as InfraError('QUESTDB_WRITE_FAILED', retriable) and
 * the encoder's buffer is cleared, so a retry neither duplicates nor silently drops rows.
 * Shutdown: `stop` aborts the start-up retry, waits for the current write and closes connections.
 */
export function createQuestdbWriter(deps: { config: QuestdbConfig; retry: BackoffOptions; logger: Logger }): QuestdbWriter {
  const { config } = deps;
  const logger = deps.logger.child({ component: 'questdb-writer' });
  const readings = readingsTableName(config.tablePrefix);
  const completeness = completenessTableName(config.tablePrefix);
  const encoder = createIlpEncoder({ readings, completeness });
  const host = new URL(config.url).host;
  const stopping = new AbortController();
  // Our own agent, so `stop` can close the keep-alive connections the client's shared one would keep open.
  const agent = new Agent({ keepAlive: true, maxSockets: 4 });
  let transport: SenderTransport | null = null;
  let queue: Promise<unknown> = Promise.resolve();
  let stopped: Promise<void> | undefined;

  const serialised = <T>(operation: () => Promise<T>): Promise<T> => {
    const result = queue.then(operation);
    queue = result.catch(() => undefined);
    return result;
  };

  const exec = async (sql: string): Promise<unknown> => {
    let response: Response;
    try {
      response = await fetch(`${config.url}/exec?query=${encodeURIComponent(sql)}`, { signal: AbortSignal.timeout(config.requestTimeoutMs) });
    } catch (error) {
      throw new InfraError('QUESTDB_UNAVAILABLE', `QuestDB at ${config.url} did not answer: ${describeError(error)}`, { retriable: true, cause: error });
    }
    const body = await response.text();
    // A refused statement is our bug or a conflicting table; retrying cannot help.
    if (response.status >= 400 && response.status < 500) throw new Error(`QuestDB refused ${JSON.stringify(sql.slice(0, 60))}: ${body.slice(0, 300)}`);
    if (!response.ok) throw new InfraError('QUESTDB_UNAVAILABLE', `QuestDB /exec answered ${response.status}: ${body.slice(0, 300)}`, { retriable: true });
    return JSON.parse(body) as unknown;
  };

  /**
   * Appends rows with `encode` and sends them as one request; the encoder is empty afterwards, sent
   * or not. Only the request's failure is retriable: a row the encoder refuses is a bug, thrown as is.
   */
  const send = async (encode: () => void): Promise<void> => {
    const target = ready();
    try {
      encode();
      const rowCount = encoder.rowCount();
      await target.send(encoder.take()).catch((error: unknown) => {
        throw new InfraError('QUESTDB_WRITE_FAILED', `QuestDB did not take ${rowCount} rows: ${describeError(error)}`, { retriable: true, cause: error });
      });
    } finally {
      encoder.clear();
    }
  };

  // Group commit: rows from batches of different partitions that arrive while a write is out are
  // sent together in the next request (one QuestDB transaction), up to maxRowsPerWrite. Each
  // caller's promise settles with the request that carried its last row.
  const waiting: Array<{ rows: readonly PositionedRow[]; resolve: () => void; reject: (error: unknown) => void }> = [];
  const requests: WriteRequestTotals = { count: 0, rows: 0, seconds: 0 };

  const writeWaiting = async (): Promise<void> => {
    while (waiting.length > 0) {
      const group = [waiting.shift()!];
      let rowCount = group[0]!.rows.length;
      while (waiting.length > 0 && rowCount + waiting[0]!.rows.length <= config.maxRowsPerWrite) {
        rowCount += waiting[0]!.rows.length;
        group.push(waiting.shift()!);
      }
      try {
        const started = performance.now();
        await writeReadings(group.flatMap((caller) => caller.rows));
        requests.count += 1;
        requests.rows += rowCount;
        requests.seconds += (performance.now() - started) / 1000;
        for (const caller of group) caller.resolve();
      } catch (error) {
        for (const caller of group) caller.reject(error);
      }
    }
  };

  const writeReadings = (rows: readonly PositionedRow[]): Promise<void> =>
    send(() => {
      for (const { row, partition, offset } of rows) encoder.reading(row, partition, offset);
    });

  const ready = (): SenderTransport => {
    if (transport === null) throw new Error('questdb writer: start() must resolve before writing');
    return transport;
  };

  return {
    async start() {
      await retry(
        async () => {
          for (const statement of schemaDdl(config.tablePrefix)) await exec(statement);
        },
        {
          ...deps.retry,
          signal: stopping.signal,
          onRetry: (error, attempt, delayMs) => logger.warn({ err: error, attempt, delayMs }, 'waiting for QuestDB to create the tables'),
        },
      );
      const timeoutMs = config.requestTimeoutMs;
      // protocol_version=2 (binary doubles, QuestDB 9+) is fixed, so creating the transport needs no /settings round trip.
      // retry_timeout=0: the caller retries, heartbeating between attempts; retries inside one call could outlast the consumer session.
      const options = await SenderOptions.fromConfig(
        `http::addr=${host};protocol_version=2;auto_flush=off;stdlib_http=on;request_timeout=${timeoutMs};retry_timeout=0`,
        { agent, log: (level, message) => logger[level === 'info' ? 'debug' : level]({ questdbClient: true }, String(message)) },
      );
      transport = createTransport(options);
      logger.info({ url: config.url, readings, completeness }, 'QuestDB tables ready');
    },

    writeRows(rows) {
      return new Promise<void>((resolve, reject) => {
        waiting.push({ rows, resolve, reject });
        if (waiting.length === 1) void serialised(writeWaiting);
      });
    },

    async writeCompleteness(devices, atMs) {
      for (let start = 0; start < devices.length; start += config.maxRowsPerWrite) {
        const chunk = devices.slice(start, start + config.maxRowsPerWrite);
        await serialised(() =>
          send(() => {
            for (const device of chunk) encoder.completeness(device, atMs);
          }),
        );
      }
    },

    async suspendedTables() {
      const names = [readings, completeness].map((name) => `'${name}'`).join(', ');
      const answer = (await exec(`select name, errorTag, errorMessage from wal_tables() where suspended and name in (${names})`)) as { dataset?: unknown[][] };
      return (answer.dataset ?? [])
        .map(([table, errorTag, errorMessage]) => ({ table: String(table), errorTag: typeof errorTag === 'string' ? errorTag : '', errorMessage: typeof errorMessage === 'string' ? errorMessage : '' }))
        .filter((table) => table.errorTag !== '' || table.errorMessage !== '');
    },

    async resumeTable(table) {
      await exec(`alter table "${table}" resume wal`);
    },

    readingsRequests: () => ({ ...requests }),

    stop() {
      stopped ??= (async () => {
        stopping.abort(new Error('questdb writer stopping'));
        await queue;
        await transport?.close();
        transport = null;
        agent.destroy();
      })();
      return stopped;
    },
  };
}
