/**
 * One member of the consumer comparison (loadtest/consumer-compare.ts), a process of its own so
 * its CPU is the consumer's alone: joins the group through the named GroupConsumerPort adapter,
 * counts each record against its partition's offset (nothing else, unless a rate is given), and
 * commits each batch after counting it. On SIGTERM it stops the consumer and prints one JSON line
 * (WorkerReport) to stdout.
 *
 *   node loadtest/consumer-compare-worker.ts '<WorkerSpec as JSON>'
 */
import { performance } from 'node:perf_hooks';
import type { GroupConsumerOptions, GroupConsumerPort } from '../core/kafka-port.ts';
import { silentLogger } from '../core/logger.ts';
import { createKafkajsClient } from '../kafka/kafkajs-client.ts';
import { createKafkajsGroupConsumer } from '../kafka/kafkajs-consumer.ts';
import { createPlatformaticGroupConsumer } from './platformatic-consumer.ts';
import { processedRanges, type ConsumerAdapterName, type WorkerReport, type WorkerSpec } from './consumer-compare.ts';

const spec = JSON.parse(process.argv[2] ?? '{}') as WorkerSpec;
const logger = silentLogger();
const counts = spec.endOffsets.map((end) => new Uint8Array(end));
let processed = 0;
let duplicates = 0;
let crashes = 0;
let firstBatchAt: number | null = null;
let cpuAtFirstBatch: NodeJS.CpuUsage | null = null;
let lastCommitAt: number | null = null;
let cpuAtLastCommit: NodeJS.CpuUsage | null = null;
let processedAtLastCommit = 0;
// The rate limit (fault runs): batches wait for their turn so the run lasts long enough for the faults.
let nextFreeAt = performance.now();

const build = (adapter: ConsumerAdapterName, options: GroupConsumerOptions): GroupConsumerPort =>
  adapter === 'kafkajs'
    ? createKafkajsGroupConsumer({ kafka: createKafkajsClient({ brokers: spec.brokers, clientId: spec.clientId, logger }), logger, ...options })
    : createPlatformaticGroupConsumer({ brokers: spec.brokers, clientId: spec.clientId, logger, ...options });

const consumer: GroupConsumerPort = build(spec.adapter, {
  groupId: spec.groupId,
  topics: [spec.topic],
  fromBeginning: true,
  partitionsConcurrently: spec.partitionsConcurrently,
  fetch: spec.fetch,
  onCrash: () => void (crashes += 1),
  onBatch: async (batch) => {
    if (firstBatchAt === null) {
      firstBatchAt = performance.now();
      cpuAtFirstBatch = process.cpuUsage();
    }
    const seen = counts[batch.partition]!;
    for (const record of batch.records) {
      const offset = Number(record.offset);
      if (seen[offset]! > 0) duplicates += 1;
      if (seen[offset]! < 255) seen[offset]! += 1;
    }
    processed += batch.records.length;
    if (spec.ratePerSec !== null) {
      nextFreeAt = Math.max(nextFreeAt, performance.now()) + (batch.records.length / spec.ratePerSec) * 1000;
      await new Promise((resolve) => setTimeout(resolve, nextFreeAt - performance.now()));
    }
    // Commit only after the batch was counted.
    await consumer.commit([{ topic: batch.topic, partition: batch.partition, offset: (BigInt(batch.records.at(-1)!.offset) + 1n).toString() }]);
    lastCommitAt = performance.now();
    cpuAtLastCommit = process.cpuUsage();
    processedAtLastCommit = processed;
  },
});

const startedCpu = process.cpuUsage();
process.once('SIGTERM', () => {
  void (async () => {
    const stopError = await consumer.stop().then(
      () => null,
      (error: unknown) => String(error),
    );
    const totalCpu = process.cpuUsage(startedCpu);
    const first = cpuAtFirstBatch;
    const last = cpuAtLastCommit;
    const windowCpu = first && last ? last.user + last.system - (first.user + first.system) : 0;
    const report: WorkerReport = {
      adapter: spec.adapter,
      processed,
      duplicates,
      crashes,
      stopError,
      windowMs: firstBatchAt !== null && lastCommitAt !== null ? lastCommitAt - firstBatchAt : 0,
      windowRecords: processedAtLastCommit,
      windowCpuUs: windowCpu,
      totalCpuUs: totalCpu.user + totalCpu.system,
      ranges: counts.map(processedRanges),
    };
    process.stdout.write(`${JSON.stringify(report)}\n`);
    process.exit(0);
  })();
});
await consumer.start();
process.stdout.write('started\n');
