/**
 * The alert feed's order and pages, pure. Records are ordered by (timestamp, partition, offset);
 * with broker-assigned timestamps (LogAppendTime) each partition is already in that order, so a
 * page is a merge of the partitions' next records. Only records older than the watermark are served:
 * any record appended later gets a later timestamp, so it can never sort before a page already
 * served, and a full page never changes (docs/adr/0016-alerts-feed.md).
 */
import type { Result } from '../core/result.ts';

/** A position in the feed: the record (timestamp, partition, offset) last served. */
export interface FeedPosition {
  timestampMs: number;
  partition: number;
  offset: bigint;
}

export interface FeedRecord extends FeedPosition {
  key: Buffer | null;
  value: Buffer | null;
}

/** What was read of one partition, in offset order. */
export interface PartitionRead {
  partition: number;
  records: readonly FeedRecord[];
  /** True when the read reached the partition's log end; false when it stopped at the scan bound. */
  reachedEnd: boolean;
}

/** Negative when `a` comes first in the feed. */
export function compareFeedPositions(a: FeedPosition, b: FeedPosition): number {
  if (a.timestampMs !== b.timestampMs) return a.timestampMs - b.timestampMs;
  if (a.partition !== b.partition) return a.partition - b.partition;
  return a.offset < b.offset ? -1 : a.offset > b.offset ? 1 : 0;
}

const cursorPrefix = 'a1.';

/** The opaque cursor of a position: base64url, versioned so its form can change. */
export function encodeFeedCursor(position: FeedPosition): string {
  return Buffer.from(`${cursorPrefix}${position.timestampMs}.${position.partition}.${position.offset}`).toString('base64url');
}

export function decodeFeedCursor(cursor: string): Result<FeedPosition> {
  const text = /^[A-Za-z0-9_-]{1,128}$/.test(cursor) ? Buffer.from(cursor, 'base64url').toString('latin1') : '';
  const match = /^a1\.(\d{1,15})\.(\d{1,9})\.(\d{1,19})$/.exec(text);
  if (!match) return { ok: false, reason: 'invalid_cursor', detail: 'not a cursor this feed gave out' };
  return { ok: true, value: { timestampMs: Number(match[1]), partition: Number(match[2]), offset: BigInt(match[3]!) } };
}

/**
 * The next page after `after` (from the feed's start when null): at most `limit` records with
 * timestamps below `watermarkMs`, in feed order. A partition read up to its scan bound (not its end,
 * not past the watermark) may hold more records after its last one read, so nothing beyond that last
 * record is served from any partition: the page is then shorter, never out of order.
 * `full` means `limit` records: such a page is final.
 */
export function selectFeedPage(reads: readonly PartitionRead[], options: { after: FeedPosition | null; watermarkMs: number; limit: number }): { records: FeedRecord[]; full: boolean } {
  const { after, watermarkMs, limit } = options;
  const candidates: FeedRecord[] = [];
  let frontier: FeedPosition | null = null;
  for (const read of reads) {
    let pastWatermark = false;
    for (const record of read.records) {
      if (record.timestampMs >= watermarkMs) {
        // Timestamps only grow along a partition: the rest of it is past the watermark too.
        pastWatermark = true;
        break;
      }
      if (after === null || compareFeedPositions(record, after) > 0) candidates.push(record);
    }
    const last = read.records.at(-1);
    if (!pastWatermark && !read.reachedEnd && last !== undefined && (frontier === null || compareFeedPositions(last, frontier) < 0)) frontier = last;
  }
  candidates.sort(compareFeedPositions);
  const bounded = frontier === null ? candidates : candidates.filter((record) => compareFeedPositions(record, frontier) <= 0);
  const records = bounded.slice(0, limit);
  return { records, full: records.length === limit };
}
