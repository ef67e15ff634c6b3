/**
 * The dead-letter listing, pure: what a dead letter looks like to an operator (its `dlq.*` headers
 * from core/envelope.ts, its original key, headers and value), the filter (reason, device = record
 * key, failure time in [from, to), the same meaning as a re-drive's filter), the cursor (the next
 * offset to examine per partition) and the page chosen from one bounded scan.
 */
import { deadLetterHeaders } from '../core/envelope.ts';
import type { ConsumedRecord } from '../core/kafka-port.ts';
import type { Result } from '../core/result.ts';

export interface DeadLetterFilter {
  reason?: string;
  deviceId?: string;
  /** Failure time (dlq.failed_at_ms) at or after, epoch ms. */
  fromMs?: number;
  /** Failure time before, epoch ms. */
  toMs?: number;
}

export interface DeadLetterView {
  partition: number;
  offset: string;
  /** The record's Kafka timestamp (when the enricher published it), RFC 3339. */
  time: string;
  deviceId: string | null;
  reason: string | null;
  error: string | null;
  failedAt: string | null;
  source: { topic: string | null; partition: number | null; offset: string | null; consumerGroup: string | null };
  /** Every header, the original ones and the dlq.* ones. */
  headers: Record<string, string>;
  /** The original value: as text when it is UTF-8, else base64. */
  value: { encoding: 'utf8' | 'base64'; data: string } | null;
}

const utf8 = new TextDecoder('utf-8', { fatal: true });

function valueOf(value: Buffer | null): DeadLetterView['value'] {
  if (value === null) return null;
  try {
    return { encoding: 'utf8', data: utf8.decode(value) };
  } catch {
    return { encoding: 'base64', data: value.toString('base64') };
  }
}

const numberOrNull = (text: string | undefined): number | null => (text !== undefined && /^\d{1,15}$/.test(text) ? Number(text) : null);

export function failedAtMsOf(record: ConsumedRecord): number | null {
  return numberOrNull(record.headers[deadLetterHeaders.failedAtMs]);
}

export function deadLetterView(record: ConsumedRecord): DeadLetterView {
  const { headers } = record;
  const failedAtMs = failedAtMsOf(record);
  return {
    partition: record.partition,
    offset: record.offset,
    time: new Date(record.timestampMs).toISOString(),
    deviceId: record.key === null ? null : record.key.toString('utf8'),
    reason: headers[deadLetterHeaders.errorReason] ?? null,
    error: headers[deadLetterHeaders.error] ?? null,
    failedAt: failedAtMs === null ? null : new Date(failedAtMs).toISOString(),
    source: {
      topic: headers[deadLetterHeaders.sourceTopic] ?? null,
      partition: numberOrNull(headers[deadLetterHeaders.sourcePartition]),
      offset: headers[deadLetterHeaders.sourceOffset] ?? null,
      consumerGroup: headers[deadLetterHeaders.consumerGroup] ?? null,
    },
    headers: { ...headers },
    value: valueOf(record.value),
  };
}

export function matchesDeadLetterFilter(record: ConsumedRecord, filter: DeadLetterFilter): boolean {
  if (filter.reason !== undefined && record.headers[deadLetterHeaders.errorReason] !== filter.reason) return false;
  if (filter.deviceId !== undefined && record.key?.toString('utf8') !== filter.deviceId) return false;
  if (filter.fromMs !== undefined || filter.toMs !== undefined) {
    const failedAtMs = failedAtMsOf(record);
    if (failedAtMs === null) return false;
    if (filter.fromMs !== undefined && failedAtMs < filter.fromMs) return false;
    if (filter.toMs !== undefined && failedAtMs >= filter.toMs) return false;
  }
  return true;
}

/** Where a listing goes on: per partition, the next offset to examine. */
export type DeadLetterCursor = ReadonlyMap<number, bigint>;

export function encodeDeadLetterCursor(cursor: DeadLetterCursor): string {
  const entries = [...cursor].sort(([a], [b]) => a - b).map(([partition, offset]) => `${partition}:${offset}`);
  return Buffer.from(`d1.${entries.join(',')}`).toString('base64url');
}

export function decodeDeadLetterCursor(text: string): Result<DeadLetterCursor> {
  const decoded = /^[A-Za-z0-9_-]{1,8192}$/.test(text) ? Buffer.from(text, 'base64url').toString('latin1') : '';
  const match = /^d1\.((?:\d{1,9}:\d{1,19})(?:,\d{1,9}:\d{1,19})*)$/.exec(decoded);
  if (!match) return { ok: false, reason: 'invalid_cursor', detail: 'not a cursor this listing gave out' };
  const cursor = new Map<number, bigint>();
  for (const entry of match[1]!.split(',')) {
    const [partition, offset] = entry.split(':') as [string, string];
    cursor.set(Number(partition), BigInt(offset));
  }
  return { ok: true, value: cursor };
}

/** One partition's scanned window: the matching records in offset order, and where the window ended. */
export interface ScannedPartition {
  partition: number;
  matches: readonly ConsumedRecord[];
  /** Offset after the window (exclusive). */
  scannedTo: bigint;
  /** The partition's log end when the scan began. */
  logEnd: bigint;
}

const order = (a: ConsumedRecord, b: ConsumedRecord): number =>
  a.timestampMs - b.timestampMs || a.partition - b.partition || (BigInt(a.offset) < BigInt(b.offset) ? -1 : BigInt(a.offset) > BigInt(b.offset) ? 1 : 0);

/**
 * The page from one scan: the first `limit` matches in (time, partition, offset) order, and the
 * cursor: in a partition with a match left off the page, its offset (it is listed next time); in
 * the others, the end of the window. `complete` when every partition was examined to its log end.
 */
export function selectDeadLetterPage(scanned: readonly ScannedPartition[], limit: number): { records: ConsumedRecord[]; cursor: DeadLetterCursor; complete: boolean } {
  const records = scanned.flatMap((partition) => partition.matches).sort(order).slice(0, limit);
  const onPage = new Set(records);
  const cursor = new Map<number, bigint>();
  for (const partition of scanned) {
    const firstLeft = partition.matches.find((record) => !onPage.has(record));
    cursor.set(partition.partition, firstLeft === undefined ? partition.scannedTo : BigInt(firstLeft.offset));
  }
  const complete = scanned.every((partition) => (cursor.get(partition.partition) ?? 0n) >= partition.logEnd);
  return { records, cursor, complete };
}

export interface DeadLetterSummary {
  scanned: number;
  reasons: Array<{ reason: string; count: number }>;
  topDevices: Array<{ deviceId: string; count: number }>;
  oldest: string | null;
  newest: string | null;
}

/** Counts by reason (most first) and the devices with the most dead letters. */
export function summariseDeadLetters(records: Iterable<ConsumedRecord>, topDeviceCount: number): DeadLetterSummary {
  const reasons = new Map<string, number>();
  const devices = new Map<string, number>();
  let scanned = 0;
  let oldest = Number.POSITIVE_INFINITY;
  let newest = Number.NEGATIVE_INFINITY;
  for (const record of records) {
    scanned++;
    const reason = record.headers[deadLetterHeaders.errorReason] ?? 'unknown';
    reasons.set(reason, (reasons.get(reason) ?? 0) + 1);
    if (record.key !== null) {
      const deviceId = record.key.toString('utf8');
      devices.set(deviceId, (devices.get(deviceId) ?? 0) + 1);
    }
    oldest = Math.min(oldest, record.timestampMs);
    newest = Math.max(newest, record.timestampMs);
  }
  const ranked = <K extends string>(counts: Map<string, number>, name: K): Array<Record<K, string> & { count: number }> =>
    [...counts].sort(([a, x], [b, y]) => y - x || (a < b ? -1 : 1)).map(([key, count]) => ({ [name]: key, count }) as Record<K, string> & { count: number });
  return {
    scanned,
    reasons: ranked(reasons, 'reason'),
    topDevices: ranked(devices, 'deviceId').slice(0, topDeviceCount),
    oldest: scanned === 0 ? null : new Date(oldest).toISOString(),
    newest: scanned === 0 ? null : new Date(newest).toISOString(),
  };
}
