/**
 * Reads pages of the alert feed from the alerts topic through the product's Kafka ports: per
 * partition, seek to the cursor's timestamp (offsetsForTime), read a bounded range (range reader,
 * nothing committed), and merge (feed-page.ts). No state between requests: any API replica answers
 * any cursor the same way.
 */
import type { KafkaAdminPort, KafkaClientFactory, PartitionRange } from '../core/kafka-port.ts';
import { selectFeedPage, type FeedPosition, type FeedRecord, type PartitionRead } from './feed-page.ts';
import { readTopicRanges } from './topic-ranges.ts';

export interface AlertFeed {
  /** The next page after `after` (from the oldest retained alert when null). */
  page(after: FeedPosition | null, limit: number): Promise<{ records: FeedRecord[]; full: boolean }>;
}

/**
 * Records read past a partition's start beyond the page size: covers the alerts of the cursor's own
 * millisecond that were served already. More is never wrong, only a shorter page (feed-page.ts).
 */
const sameTimestampSlack = 256;

export function createAlertFeed(deps: { kafka: KafkaClientFactory; admin: KafkaAdminPort; topic: string; clientId: string; watermarkMs: number; now?: () => number }): AlertFeed {
  const { kafka, admin, topic } = deps;
  const now = deps.now ?? Date.now;
  const offsetOf = (list: ReadonlyArray<{ partition: number; offset: string }>, partition: number): bigint => BigInt(list.find((entry) => entry.partition === partition)?.offset ?? '0');

  return {
    async page(after, limit) {
      // Taken before the offsets: whatever is appended from here on is stamped later than this.
      const watermarkMs = now() - deps.watermarkMs;
      if (!(await admin.topicExists(topic))) return { records: [], full: false };
      const [lows, highs, atTime] = await Promise.all([admin.startOffsets(topic), admin.endOffsets(topic), after === null ? null : admin.offsetsForTime(topic, after.timestampMs)]);
      const ranges: Array<PartitionRange & { reachedEnd: boolean }> = highs.map(({ partition }) => {
        const low = offsetOf(lows, partition);
        const high = offsetOf(highs, partition);
        let from = atTime === null ? low : offsetOf(atTime, partition);
        if (after !== null && partition === after.partition && from <= after.offset) from = after.offset + 1n;
        if (from < low) from = low;
        if (from > high) from = high;
        const to = from + BigInt(limit + sameTimestampSlack) < high ? from + BigInt(limit + sameTimestampSlack) : high;
        return { partition, fromOffset: from.toString(), toOffset: to.toString(), reachedEnd: to === high };
      });
      const read = await readTopicRanges(kafka, { clientId: deps.clientId, topic, ranges });
      const reads: PartitionRead[] = ranges.map((range) => ({
        partition: range.partition,
        records: (read.get(range.partition) ?? []).map((record) => ({ partition: record.partition, offset: BigInt(record.offset), timestampMs: record.timestampMs, key: record.key, value: record.value })),
        reachedEnd: range.reachedEnd,
      }));
      return selectFeedPage(reads, { after, watermarkMs, limit });
    },
  };
}
