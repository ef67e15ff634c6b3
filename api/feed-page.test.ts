import { describe, expect, it } from 'vitest';
import { compareFeedPositions, decodeFeedCursor, encodeFeedCursor, selectFeedPage, type FeedRecord, type PartitionRead } from './feed-page.ts';

const record = (partition: number, offset: number, timestampMs: number): FeedRecord => ({ partition, offset: BigInt(offset), timestampMs, key: null, value: null });
const ids = (records: readonly FeedRecord[]): string[] => records.map((r) => `${r.partition}:${r.offset}`);
const read = (partition: number, records: FeedRecord[], reachedEnd = true): PartitionRead => ({ partition, records, reachedEnd });

describe('feed cursors', () => {
  it('round-trip a position as opaque base64url', () => {
    const position = { timestampMs: 1_796_000_000_123, partition: 7, offset: 9_007_199_254_740_993n };
    const cursor = encodeFeedCursor(position);
    expect(cursor).toMatch(/^[A-Za-z0-9_-]+$/);
    expect(decodeFeedCursor(cursor)).toEqual({ ok: true, value: position });
  });

  it('refuse anything the feed did not give out', () => {
    for (const cursor of ['', 'abc', Buffer.from('a1.1.2').toString('base64url'), Buffer.from('a2.1.2.3').toString('base64url'), Buffer.from('a1.-1.2.3').toString('base64url'), 'a'.repeat(200), 'YTEuMS4yLjM=']) {
      expect(decodeFeedCursor(cursor), cursor).toMatchObject({ ok: false, reason: 'invalid_cursor' });
    }
  });
});

describe('feed order', () => {
  it('is by timestamp, then partition, then offset', () => {
    const sorted = [record(1, 5, 10), record(0, 9, 11), record(0, 1, 10), record(1, 4, 10)].sort(compareFeedPositions);
    expect(ids(sorted)).toEqual(['0:1', '1:4', '1:5', '0:9']);
  });
});

describe('selectFeedPage', () => {
  const reads = [read(0, [record(0, 0, 100), record(0, 1, 200), record(0, 2, 300)]), read(1, [record(1, 0, 150), record(1, 1, 200), record(1, 2, 250)])];

  it('merges partitions into feed order and pages by limit', () => {
    const first = selectFeedPage(reads, { after: null, watermarkMs: 1000, limit: 4 });
    expect(ids(first.records)).toEqual(['0:0', '1:0', '0:1', '1:1']);
    expect(first.full).toBe(true);
    const second = selectFeedPage(reads, { after: first.records.at(-1)!, watermarkMs: 1000, limit: 4 });
    expect(ids(second.records)).toEqual(['1:2', '0:2']);
    expect(second.full).toBe(false);
  });

  it('resumes after a cursor inside a run of equal timestamps without skipping or repeating', () => {
    const page = selectFeedPage(reads, { after: record(0, 1, 200), watermarkMs: 1000, limit: 10 });
    expect(ids(page.records)).toEqual(['1:1', '1:2', '0:2']);
  });

  it('serves nothing at or past the watermark', () => {
    const page = selectFeedPage(reads, { after: null, watermarkMs: 200, limit: 10 });
    expect(ids(page.records)).toEqual(['0:0', '1:0']);
    expect(page.full).toBe(false);
  });

  it('serves nothing beyond the last record of a partition cut off by the scan bound', () => {
    const cut = [read(0, [record(0, 0, 100), record(0, 1, 200)], false), read(1, [record(1, 0, 150), record(1, 1, 250)])];
    expect(ids(selectFeedPage(cut, { after: null, watermarkMs: 1000, limit: 10 }).records)).toEqual(['0:0', '1:0', '0:1']);
    // A cut partition that reached the watermark hides nothing.
    const pastWatermark = [read(0, [record(0, 0, 100), record(0, 1, 900)], false), read(1, [record(1, 0, 150), record(1, 1, 250)])];
    expect(ids(selectFeedPage(pastWatermark, { after: null, watermarkMs: 500, limit: 10 }).records)).toEqual(['0:0', '1:0', '1:1']);
  });
});
