/**
 * Replay: re-reads fixed offset ranges of the telemetry topic and writes their rows to QuestDB
 * again, through the same record → rows path as the live enricher (record-rows.ts).
 *
 * Safe while live traffic flows: it reads outside the enricher group (never moves its offsets),
 * and a replayed reading has the DEDUP keys of the live one, so it overwrites itself instead of
 * adding a row. It re-enriches with the registry as it is now, so a replay after fixing a device's
 * site or calibration corrects the stored rows. It does not publish dead letters or alerts again
 * (the live path did); refused records are counted by reason and sampled in the report.
 */
import type { ConsumedRecord, PartitionRange, RangeReaderPort } from '../core/kafka-port.ts';
import { describeError } from '../core/errors.ts';
import type { Logger } from '../core/logger.ts';
import { retry, sleep, type BackoffOptions } from '../core/retry.ts';
import type { DeviceMetadata, UnknownDevicePolicy } from './enrichment.ts';
import type { PositionedRow, QuestdbWriter } from './questdb-writer.ts';
import { rowsOfRecord } from './record-rows.ts';

export interface ReplayPartitionReport extends PartitionRange {
  /** Everything below this offset was written (equals toOffset when the partition is done). */
  nextOffset: string;
  records: number;
  rows: number;
  refused: number;
  /** Offsets of the range below nextOffset that held no record when read (e.g. deleted by retention meanwhile). */
  missing: number;
}

export interface ReplayReport {
  complete: boolean;
  partitions: ReplayPartitionReport[];
  records: number;
  rows: number;
  /** Offsets in the ranges that held no record (see ReplayPartitionReport.missing). */
  missing: number;
  /** Records read but not selected (`select` returned null). */
  skipped: number;
  refused: Record<string, number>;
  /** The first refused records, to look up in the dead-letter topic. */
  refusedSamples: Array<{ partition: number; offset: string; reason: string; detail?: string }>;
  durationMs: number;
  recordsPerSec: number;
  /** Why the replay ended early, if it did. */
  error: string | null;
}

export interface Replay {
  /** Reads every range and writes its rows; resolves with the report, also when stopped early. */
  run(): Promise<ReplayReport>;
  /** Where the replay stands now (for progress output). */
  progress(): ReplayReport;
  /** Ends the replay after the write in progress; `run` then resolves with complete = false. */
  stop(): Promise<void>;
}

const maxRefusedSamples = 20;

/** A partition's report before anything of its range was read. */
export function unreadPartition(range: PartitionRange): ReplayPartitionReport {
  return { ...range, nextOffset: range.fromOffset, records: 0, rows: 0, refused: 0, missing: 0 };
}

/** The report over the partitions' counts; complete when every range was read to its end without error. */
export function replayReport(
  partitions: readonly ReplayPartitionReport[],
  outcome: Pick<ReplayReport, 'refused' | 'refusedSamples' | 'durationMs' | 'error'> & { skipped?: number },
): ReplayReport {
  const list = partitions.map((partition) => ({ ...partition }));
  const sum = (field: 'records' | 'rows' | 'missing'): number => list.reduce((total, partition) => total + partition[field], 0);
  const records = sum('records');
  return {
    complete: outcome.error === null && list.every((partition) => partition.nextOffset === partition.toOffset),
    partitions: list,
    records,
    rows: sum('rows'),
    missing: sum('missing'),
    skipped: outcome.skipped ?? 0,
    refused: { ...outcome.refused },
    refusedSamples: [...outcome.refusedSamples],
    durationMs: outcome.durationMs,
    recordsPerSec: outcome.durationMs > 0 ? Math.round((records * 1000) / outcome.durationMs) : 0,
    error: outcome.error,
  };
}

export function createReplay(deps: {
  ranges: readonly PartitionRange[];
  reader: RangeReaderPort;
  writer: Pick<QuestdbWriter, 'writeRows'>;
  deviceOf: (deviceId: string) => DeviceMetadata | null;
  unknownDevicePolicy: UnknownDevicePolicy;
  maxRowsPerWrite: number;
  retry: BackoffOptions;
  /** Caps the read rate so a large replay leaves QuestDB room for live traffic; 0 = no cap. */
  maxRecordsPerSec: number;
  /**
   * Which records to write, and as what: the record itself, another (a dead letter's original),
   * or null to skip it. Every record by default.
   */
  select?: (record: ConsumedRecord) => ConsumedRecord | null;
  logger: Logger;
  now?: () => number;
}): Replay {
  const now = deps.now ?? Date.now;
  const logger = deps.logger.child({ component: 'replay' });
  const stopping = new AbortController();
  const partitions = new Map<number, ReplayPartitionReport>(deps.ranges.map((range) => [range.partition, unreadPartition(range)]));
  const refused: Record<string, number> = {};
  const refusedSamples: ReplayReport['refusedSamples'] = [];
  let skipped = 0;
  const context = { deviceOf: deps.deviceOf, unknownDevicePolicy: deps.unknownDevicePolicy };
  let startedMs = now();
  let endedMs: number | null = null;
  let error: string | null = null;
  const recordsRead = (): number => [...partitions.values()].reduce((sum, partition) => sum + partition.records, 0);

  const report = (): ReplayReport => replayReport([...partitions.values()], { refused, refusedSamples, durationMs: (endedMs ?? now()) - startedMs, error, skipped });

  const rowsOfSlice = (slice: readonly ConsumedRecord[], partition: ReplayPartitionReport): PositionedRow[] => {
    const rows: PositionedRow[] = [];
    for (const read of slice) {
      const record = deps.select === undefined ? read : deps.select(read);
      if (record === null) {
        skipped += 1;
        continue;
      }
      const result = rowsOfRecord(record, context);
      if (!result.ok) {
        partition.refused += 1;
        refused[result.reason] = (refused[result.reason] ?? 0) + 1;
        if (refusedSamples.length < maxRefusedSamples) refusedSamples.push({ partition: read.partition, offset: read.offset, reason: result.reason, ...(result.detail !== undefined && { detail: result.detail }) });
        continue;
      }
      for (const row of result.value.rows) rows.push({ row, partition: record.partition, offset: Number(record.offset) });
    }
    return rows;
  };

  const write = async (rows: readonly PositionedRow[]): Promise<void> => {
    for (let start = 0; start < rows.length; start += deps.maxRowsPerWrite) {
      const chunk = rows.slice(start, start + deps.maxRowsPerWrite);
      await retry(() => deps.writer.writeRows(chunk), {
        ...deps.retry,
        signal: stopping.signal,
        onRetry: (failure, attempt, delayMs) => logger.warn({ err: failure, attempt, delayMs }, 'QuestDB write failed; retrying'),
      });
    }
  };

  return {
    async run() {
      startedMs = now();
      try {
        await deps.reader.read(async (batch) => {
          const partition = partitions.get(batch.partition);
          if (partition === undefined) throw new Error(`the reader delivered partition ${batch.partition}, which is not being replayed`);
          // With a rate cap, a fetched batch is written in slices of a tenth of a second's worth,
          // each when it is due, so the pace is smooth and progress moves slice by slice.
          const sliceSize = deps.maxRecordsPerSec > 0 ? Math.max(1, Math.ceil(deps.maxRecordsPerSec / 10)) : batch.records.length;
          for (let start = 0; start < batch.records.length; start += sliceSize) {
            const slice = batch.records.slice(start, start + sliceSize);
            if (deps.maxRecordsPerSec > 0) {
              const dueAtMs = startedMs + (recordsRead() * 1000) / deps.maxRecordsPerSec;
              if (dueAtMs > now()) await sleep(dueAtMs - now(), stopping.signal);
            }
            // Our producers write no transaction markers: an offset skipped here held no record.
            partition.missing += Number(BigInt(slice[0]!.offset) - BigInt(partition.nextOffset));
            const rows = rowsOfSlice(slice, partition);
            await write(rows);
            partition.records += slice.length;
            partition.rows += rows.length;
            partition.nextOffset = (BigInt(slice.at(-1)!.offset) + 1n).toString();
          }
        });
        // Not stopped: the reader read every range to its end (offsets the log skips included).
        if (!stopping.signal.aborted) {
          for (const partition of partitions.values()) {
            partition.missing += Number(BigInt(partition.toOffset) - BigInt(partition.nextOffset));
            partition.nextOffset = partition.toOffset;
          }
        }
      } catch (failure) {
        if (!stopping.signal.aborted) {
          error = describeError(failure);
          logger.error({ err: failure }, 'replay failed');
        }
      } finally {
        endedMs = now();
      }
      return report();
    },
    progress: report,
    async stop() {
      stopping.abort(new Error('replay stopped'));
      await deps.reader.stop();
    },
  };
}
