/**
 * Reads the dead-letter topic for the API in bounded scans through the product's Kafka ports: a
 * listing examines at most `scanRecords` records per request (shared out over the partitions) from
 * its cursor, or from the `from` time (offsetsForTime: a dead letter is published after it failed,
 * so none that failed since `from` sits before that offset); the summary counts the newest
 * `scanRecords`. No state between requests.
 */
import type { KafkaAdminPort, KafkaClientFactory, PartitionRange } from '../core/kafka-port.ts';
import {
  matchesDeadLetterFilter,
  selectDeadLetterPage,
  summariseDeadLetters,
  type DeadLetterCursor,
  type DeadLetterFilter,
  type DeadLetterSummary,
  type ScannedPartition,
} from './dead-letter-page.ts';
import { readTopicRanges } from './topic-ranges.ts';
import type { ConsumedRecord } from '../core/kafka-port.ts';

export interface DeadLetterListing {
  records: ConsumedRecord[];
  cursor: DeadLetterCursor;
  /** Every partition was examined to the log end it had when the request began. */
  complete: boolean;
  scanned: number;
}

export interface DeadLetterReader {
  list(filter: DeadLetterFilter, after: DeadLetterCursor | null, limit: number): Promise<DeadLetterListing>;
  /** Counts over the newest dead letters (since `fromMs`, when given). */
  summary(fromMs?: number): Promise<DeadLetterSummary & { total: number; complete: boolean }>;
}

const topDeviceCount = 10;

export function createDeadLetterReader(deps: { kafka: KafkaClientFactory; admin: KafkaAdminPort; topic: string; clientId: string; scanRecords: number }): DeadLetterReader {
  const { kafka, admin, topic } = deps;
  const offsetOf = (list: ReadonlyArray<{ partition: number; offset: string }>, partition: number): bigint => BigInt(list.find((entry) => entry.partition === partition)?.offset ?? '0');
  const clamp = (value: bigint, low: bigint, high: bigint): bigint => (value < low ? low : value > high ? high : value);

  /** Per partition: low, high, and where a read from `fromMs` starts. */
  const offsets = async (fromMs: number | undefined) => {
    const [lows, highs, atTime] = await Promise.all([admin.startOffsets(topic), admin.endOffsets(topic), fromMs === undefined ? null : admin.offsetsForTime(topic, fromMs)]);
    return highs.map(({ partition }) => {
      const low = offsetOf(lows, partition);
      const high = offsetOf(highs, partition);
      return { partition, low, high, fromTime: atTime === null ? low : clamp(offsetOf(atTime, partition), low, high) };
    });
  };

  return {
    async list(filter, after, limit) {
      if (!(await admin.topicExists(topic))) return { records: [], cursor: new Map(), complete: true, scanned: 0 };
      const partitions = await offsets(filter.fromMs);
      const share = BigInt(Math.max(1, Math.ceil(deps.scanRecords / Math.max(1, partitions.length))));
      const ranges: PartitionRange[] = partitions.map(({ partition, low, high, fromTime }) => {
        const from = clamp(after?.get(partition) ?? fromTime, low, high);
        return { partition, fromOffset: from.toString(), toOffset: (from + share < high ? from + share : high).toString() };
      });
      const read = await readTopicRanges(kafka, { clientId: deps.clientId, topic, ranges });
      let scanned = 0;
      const scannedPartitions: ScannedPartition[] = ranges.map((range) => {
        const records = read.get(range.partition) ?? [];
        scanned += records.length;
        return {
          partition: range.partition,
          matches: records.filter((record) => matchesDeadLetterFilter(record, filter)),
          scannedTo: BigInt(range.toOffset),
          logEnd: partitions.find((entry) => entry.partition === range.partition)?.high ?? 0n,
        };
      });
      return { ...selectDeadLetterPage(scannedPartitions, limit), scanned };
    },

    async summary(fromMs) {
      if (!(await admin.topicExists(topic))) return { ...summariseDeadLetters([], topDeviceCount), total: 0, complete: true };
      const partitions = await offsets(fromMs);
      const share = BigInt(Math.max(1, Math.ceil(deps.scanRecords / Math.max(1, partitions.length))));
      // The newest records of each partition: what an operator looks at first.
      const ranges: PartitionRange[] = partitions.map(({ partition, high, fromTime }) => ({
        partition,
        fromOffset: (high - fromTime > share ? high - share : fromTime).toString(),
        toOffset: high.toString(),
      }));
      const total = partitions.reduce((sum, { high, fromTime }) => sum + Number(high - fromTime), 0);
      const read = await readTopicRanges(kafka, { clientId: deps.clientId, topic, ranges });
      const records = [...read.values()].flat().filter((record) => fromMs === undefined || matchesDeadLetterFilter(record, { fromMs }));
      const summary = summariseDeadLetters(records, topDeviceCount);
      const examined = [...read.values()].reduce((sum, list) => sum + list.length, 0);
      return { ...summary, total, complete: examined >= total };
    },
  };
}
