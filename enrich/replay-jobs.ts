/**
 * The two kinds of job, as executors the job runner drives (core/job.ts):
 *
 * - replay: a replay (replay.ts) of the telemetry topic's ranges, fixed when the job first starts;
 * - redrive: the dead letters that match a filter, sent back through the same decode and
 *   enrichment as live records (with the registry as it is now), their rows written to QuestDB.
 *   Each is written as the original record (its source partition and offset, its headers without
 *   the `dlq.*` ones), so its rows are exactly those the live path would have written: DEDUP keeps
 *   them single however often it is re-driven. Records refused again are counted by reason and
 *   stay in the dead-letter topic, like every other dead letter; nothing is dead-lettered twice.
 *
 * Both resume from a checkpoint: the next offset of each partition and the counters so far.
 */
import { deadLetterHeaders } from '../core/envelope.ts';
import { type JobCounters, type JobExecution, type JobExecutor, type JobPartition, type JobRunState, type RedriveJobRequest, type ReplayJobRequest, type StoredBound } from '../core/job.ts';
import type { ConsumedRecord, KafkaAdminPort, PartitionRange, RangeReaderPort } from '../core/kafka-port.ts';
import type { Logger } from '../core/logger.ts';
import type { OffsetBound } from '../core/offset-bound.ts';
import type { BackoffOptions } from '../core/retry.ts';
import type { DeviceMetadata, UnknownDevicePolicy } from './enrichment.ts';
import type { QuestdbWriter } from './questdb-writer.ts';
import { resolveReplayRanges } from './replay-ranges.ts';
import { createReplay, type ReplayReport } from './replay.ts';

export interface ReplayJobDeps {
  telemetryTopic: string;
  deadLetterTopic: string;
  admin: () => KafkaAdminPort;
  rangeReader: (topic: string, ranges: readonly PartitionRange[]) => RangeReaderPort;
  writer: Pick<QuestdbWriter, 'writeRows'>;
  deviceOf: (deviceId: string) => DeviceMetadata | null;
  unknownDevicePolicy: UnknownDevicePolicy;
  maxRowsPerWrite: number;
  retry: BackoffOptions;
  logger: Logger;
}

function offsetBound(bound: StoredBound): OffsetBound {
  return bound.kind === 'offset' ? { kind: 'offset', offset: BigInt(bound.offset) } : bound;
}

/** Counters of earlier attempts plus this attempt's report. */
function addCounters(before: JobCounters, report: ReplayReport): JobCounters {
  const refused = { ...before.refused };
  for (const [reason, count] of Object.entries(report.refused)) refused[reason] = (refused[reason] ?? 0) + count;
  return { records: before.records + report.records, rows: before.rows + report.rows, refused, skipped: before.skipped + report.skipped, missing: before.missing + report.missing };
}

/** Runs what is left of a plan through a replay of `topic`. */
function execution(deps: ReplayJobDeps, topic: string, from: JobRunState, maxRecordsPerSec: number, select?: (record: ConsumedRecord) => ConsumedRecord | null): JobExecution {
  const remaining = from.partitions.filter((partition) => BigInt(partition.nextOffset) < BigInt(partition.toOffset));
  const ranges = remaining.map(({ partition, nextOffset, toOffset }) => ({ partition, fromOffset: nextOffset, toOffset }));
  const replay = createReplay({
    ranges,
    reader: deps.rangeReader(topic, ranges),
    writer: deps.writer,
    deviceOf: deps.deviceOf,
    unknownDevicePolicy: deps.unknownDevicePolicy,
    maxRowsPerWrite: deps.maxRowsPerWrite,
    retry: deps.retry,
    maxRecordsPerSec,
    ...(select !== undefined && { select }),
    logger: deps.logger,
  });
  const state = (report: ReplayReport): JobRunState => {
    const reached = new Map(report.partitions.map((partition) => [partition.partition, partition.nextOffset]));
    return {
      partitions: from.partitions.map((partition): JobPartition => ({ ...partition, nextOffset: reached.get(partition.partition) ?? partition.nextOffset })),
      counters: addCounters(from.counters, report),
    };
  };
  return {
    async run() {
      if (ranges.length === 0) return { complete: true, error: null };
      const report = await replay.run();
      return { complete: report.complete, error: report.error };
    },
    state: () => state(replay.progress()),
    stop: () => replay.stop(),
  };
}

export function createReplayJobExecutor(deps: ReplayJobDeps): JobExecutor<ReplayJobRequest> {
  return {
    async plan(request) {
      const admin = deps.admin();
      try {
        const partitions = request.partitions === 'all' ? ['all'] : request.partitions.map(String);
        const plan = await resolveReplayRanges(admin, deps.telemetryTopic, partitions, offsetBound(request.from), offsetBound(request.to));
        if (!plan.ok) throw new Error(plan.detail ?? plan.reason);
        return { partitions: plan.value.ranges.map((range) => ({ ...range, nextOffset: range.fromOffset })), notes: plan.value.notes };
      } finally {
        await admin.close();
      }
    },
    start: (request, from) => execution(deps, deps.telemetryTopic, from, request.maxRatePerSec),
  };
}

/**
 * The original telemetry record of a dead letter, when it is one the filter selects; null for
 * every other dead letter (another source topic, reason, device or time).
 */
export function redriveSelection(filter: RedriveJobRequest['filter'], telemetryTopic: string): (record: ConsumedRecord) => ConsumedRecord | null {
  return (record) => {
    const headers = record.headers;
    if (headers[deadLetterHeaders.sourceTopic] !== telemetryTopic) return null;
    if (filter.reason !== undefined && headers[deadLetterHeaders.errorReason] !== filter.reason) return null;
    if (filter.deviceId !== undefined && record.key?.toString('utf8') !== filter.deviceId) return null;
    const failedAtMs = Number(headers[deadLetterHeaders.failedAtMs]);
    if (filter.fromMs !== undefined && !(failedAtMs >= filter.fromMs)) return null;
    if (filter.toMs !== undefined && !(failedAtMs < filter.toMs)) return null;
    const partition = Number(headers[deadLetterHeaders.sourcePartition]);
    const offset = headers[deadLetterHeaders.sourceOffset];
    if (!Number.isInteger(partition) || partition < 0 || offset === undefined || !/^\d{1,19}$/.test(offset)) return null;
    const dlqNames = new Set<string>(Object.values(deadLetterHeaders));
    const original = Object.fromEntries(Object.entries(headers).filter(([name]) => !dlqNames.has(name)));
    return { topic: telemetryTopic, partition, offset, key: record.key, value: record.value, headers: original, timestampMs: record.timestampMs };
  };
}

export function createRedriveJobExecutor(deps: ReplayJobDeps): JobExecutor<RedriveJobRequest> {
  return {
    async plan() {
      // Every dead letter there is now; the filter is applied while reading.
      const admin = deps.admin();
      try {
        if (!(await admin.topicExists(deps.deadLetterTopic))) return { partitions: [], notes: [`the dead-letter topic ${deps.deadLetterTopic} does not exist yet: nothing to re-drive`] };
        const [lows, highs] = await Promise.all([admin.startOffsets(deps.deadLetterTopic), admin.endOffsets(deps.deadLetterTopic)]);
        const highByPartition = new Map(highs.map(({ partition, offset }) => [partition, offset]));
        const partitions = lows
          .map(({ partition, offset }) => ({ partition, fromOffset: offset, toOffset: highByPartition.get(partition) ?? offset, nextOffset: offset }))
          .filter((range) => BigInt(range.toOffset) > BigInt(range.fromOffset))
          .sort((a, b) => a.partition - b.partition);
        return { partitions, notes: partitions.length === 0 ? ['the dead-letter topic is empty'] : [] };
      } finally {
        await admin.close();
      }
    },
    start: (request, from) => execution(deps, deps.deadLetterTopic, from, request.maxRatePerSec, redriveSelection(request.filter, deps.telemetryTopic)),
  };
}

