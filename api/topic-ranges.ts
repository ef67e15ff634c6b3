/**
 * Reads offset ranges of a topic's partitions once through the product's range reader (nothing
 * committed) and hands back each partition's records in offset order: the API's bounded scans of
 * the alerts and dead-letter topics.
 */
import type { ConsumedRecord, KafkaClientFactory, PartitionRange } from '../core/kafka-port.ts';

export async function readTopicRanges(kafka: KafkaClientFactory, options: { clientId: string; topic: string; ranges: readonly PartitionRange[] }): Promise<Map<number, ConsumedRecord[]>> {
  const records = new Map<number, ConsumedRecord[]>(options.ranges.map((range) => [range.partition, []]));
  const ranges = options.ranges.filter((range) => BigInt(range.fromOffset) < BigInt(range.toOffset));
  if (ranges.length === 0) return records;
  const reader = kafka.rangeReader({ clientId: options.clientId, topic: options.topic, ranges, partitionsConcurrently: ranges.length });
  await reader.read((batch) => {
    records.get(batch.partition)?.push(...batch.records);
    return Promise.resolve();
  });
  return records;
}
