/**
 * The enricher: a consumer-group worker that turns telemetry records into QuestDB rows.
 *
 * Per partition batch, in order: decode → enrich (device registry) → completeness → write rows to
 * QuestDB → publish dead letters → publish alerts → commit the next offset. The commit comes last,
 * so a crash at any point re-delivers the batch, and the readings table's DEDUP keys make the
 * second write a no-op (docs/adr/0004-narrow-readings-table.md).
 */
import type { Registry } from 'prom-client';
import { recordHeaders } from '../core/envelope.ts';
import type { DeviceRegistry } from '../core/device-registry.ts';
import { describeError } from '../core/errors.ts';
import type { ConsumedBatch, ConsumedRecord, GroupConsumerPort, KafkaClientFactory, KafkaProducerPort, OutgoingRecord } from '../core/kafka-port.ts';
import { createShutdown } from '../core/lifecycle.ts';
import type { Logger } from '../core/logger.ts';
import { retry } from '../core/retry.ts';
import { createSampledLogger } from '../core/sampled-logger.ts';
import { createAlertEvaluator, type AlertEvaluator, type AlertEvent } from './alert-rules.ts';
import { createCompletenessTracker, type CompletenessTracker } from './completeness.ts';
import { buildDeadLetter } from './dead-letter.ts';
import type { EnrichConfig } from './enrich-config.ts';
import { createEnrichMetrics } from './enrich-metrics.ts';
import type { PositionedRow, QuestdbWriter } from './questdb-writer.ts';
import { rowsOfRecord } from './record-rows.ts';

export interface EnrichWorkerDeps {
  config: EnrichConfig;
  kafka: KafkaClientFactory;
  clientId: string;
  registry: Pick<DeviceRegistry, 'get'>;
  /** Publishes dead letters and alerts; started and stopped by the caller, after/before the worker. */
  producer: KafkaProducerPort;
  /** Started and stopped by the caller, after/before the worker. */
  writer: QuestdbWriter;
  metricsRegistry: Registry;
  logger: Logger;
  /** The consumer crashed and will not restart by itself: the process should exit non-zero. */
  onFatal?: (error: unknown) => void;
  now?: () => number;
}

export interface EnrichWorker {
  start(): Promise<void>;
  stop(): Promise<void>;
  /** Null while the worker makes progress; otherwise what it is waiting for (for /readyz). */
  problem(): string | null;
}

type Stage = 'questdb' | 'dead_letter' | 'alerts';

/**
 * Creates the worker; no I/O until `start`, which joins the consumer group.
 * Failure: QuestDB or Kafka failing inside a batch is retried there with bounded jittered backoff,
 * heartbeating between attempts and reporting `problem()`, without committing; a rebalance during
 * the retries abandons the batch (the next owner re-reads it). While a batch waits, kafkajs fetches
 * nothing more for its broker, so memory stays bounded by one fetch. A table QuestDB suspended
 * (failed WAL apply, e.g. disk full) is resumed every tableCheckIntervalMs and reported by `problem()`.
 * Shutdown: `stop` ends the retries, lets the in-flight batch finish only if its remaining steps
 * succeed at once (else it is left uncommitted for re-delivery), then leaves the group.
 */
export function createEnrichWorker(deps: EnrichWorkerDeps): EnrichWorker {
  const { config, producer, writer } = deps;
  const now = deps.now ?? Date.now;
  const logger = deps.logger.child({ component: 'enrich-worker' });
  const sampled = createSampledLogger(logger, { perInterval: 5, intervalMs: 60_000 });
  const stopping = new AbortController();
  const failing = new Map<Stage, { since: number; error: string }>();
  const suspended = new Map<string, { since: number; error: string }>();
  const inFlight = new Set<Promise<void>>();
  const timers: Array<{ stop: () => Promise<void> }> = [];
  let consumer: GroupConsumerPort | null = null;
  let crashed: string | null = null;
  // Per assignment: a device whose partition moved to another worker must not be reported silent here.
  let assignment = '';
  let tracker: CompletenessTracker = createCompletenessTracker();
  let alerts: AlertEvaluator = createAlertEvaluator(config.alertRules, { silenceAfterMs: config.silenceAfterMs });
  const metrics = createEnrichMetrics(deps.metricsRegistry, { completeness: () => tracker.totals(), questdbRequests: () => writer.readingsRequests() });

  const alertRecord = (event: AlertEvent): OutgoingRecord => ({
    topic: config.topics.alerts,
    key: event.deviceId,
    value: Buffer.from(JSON.stringify(event)),
    headers: { [recordHeaders.contentType]: 'application/json' },
  });

  /** Runs one step of a batch until it succeeds, the worker stops, or the consumer loses the batch. */
  const persist = async (stage: Stage, operation: () => Promise<void>, control: { isRunning: () => boolean; heartbeat: () => Promise<void> }): Promise<void> => {
    await retry(
      async (attempt) => {
        if (attempt > 0) {
          if (!control.isRunning()) throw new Error(`batch abandoned: the consumer stopped or lost the partition while ${stage} failed`);
          // Keeps the group membership while we wait; throws on a rebalance, which abandons the batch.
          await control.heartbeat();
        }
        await operation();
      },
      {
        ...config.retry,
        signal: stopping.signal,
        onRetry: (error, attempt, delayMs) => {
          const message = describeError(error);
          if (!failing.has(stage)) failing.set(stage, { since: now(), error: message });
          else failing.get(stage)!.error = message;
          if (stage === 'questdb') metrics.writeFailures.inc();
          else metrics.publishFailures.inc({ topic_role: stage });
          sampled.warn(stage, { err: error, stage, attempt, delayMs }, `${stage} failed; retrying the batch step`);
        },
      },
    );
    if (failing.delete(stage)) logger.info({ stage }, `${stage} recovered`);
  };

  const handleBatch = async (batch: ConsumedBatch, control: { isRunning: () => boolean; heartbeat: () => Promise<void> }): Promise<void> => {
    const startedMs = now();
    const rows: PositionedRow[] = [];
    const deadLetters: OutgoingRecord[] = [];
    const alertRecords: OutgoingRecord[] = [];
    const alertKinds: AlertEvent['kind'][] = [];
    const refused: string[] = [];
    metrics.consumed.inc(batch.records.length);
    metrics.batchRecords.observe(batch.records.length);

    const refuse = (record: ConsumedRecord, reason: string, detail?: string): void => {
      refused.push(reason);
      deadLetters.push(buildDeadLetter({ record, topic: config.topics.deadLetter, reason, detail, consumerGroup: config.groupId, failedAtMs: startedMs }));
      sampled.warn(reason, { partition: record.partition, offset: record.offset, reason, detail }, 'dead-lettering a telemetry record');
    };

    const context = { deviceOf: (deviceId: string) => deps.registry.get(deviceId) ?? null, unknownDevicePolicy: config.unknownDevicePolicy };
    for (const record of batch.records) {
      const result = rowsOfRecord(record, context);
      if (!result.ok) {
        refuse(record, result.reason, result.detail);
        continue;
      }
      const { deviceId, seq, rows: recordRows } = result.value;
      const observation = tracker.observe(deviceId, seq);
      if (observation === 'duplicate') metrics.seqDuplicates.inc();
      else if (observation === 'reset') metrics.seqResets.inc();
      const offset = Number(record.offset);
      for (const row of recordRows) {
        rows.push({ row, partition: record.partition, offset });
        for (const event of alerts.onRow(row)) {
          alertRecords.push(alertRecord(event));
          alertKinds.push(event.kind);
        }
      }
      if (recordRows[0]) metrics.eventLag.observe((startedMs - recordRows[0].ts) / 1000);
    }

    for (let start = 0; start < rows.length; start += config.questdb.maxRowsPerWrite) {
      const chunk = rows.slice(start, start + config.questdb.maxRowsPerWrite);
      await persist(
        'questdb',
        async () => {
          const writeStarted = performance.now();
          await writer.writeRows(chunk);
          metrics.writeSeconds.observe((performance.now() - writeStarted) / 1000);
        },
        control,
      );
      metrics.rowsWritten.inc(chunk.length);
    }
    // Kafka acknowledged (acks=all) before the commit: a refused record is never only in memory.
    if (deadLetters.length > 0) await persist('dead_letter', () => producer.sendMany(deadLetters), control);
    for (const reason of refused) metrics.deadLettered.inc({ reason });
    if (alertRecords.length > 0) await persist('alerts', () => producer.sendMany(alertRecords), control);
    for (const kind of alertKinds) metrics.alertsPublished.inc({ kind });

    const last = batch.records.at(-1);
    if (last === undefined || consumer === null) return;
    // Only now: every row is in QuestDB and every dead letter and alert in Kafka.
    await consumer.commit([{ topic: batch.topic, partition: batch.partition, offset: (BigInt(last.offset) + 1n).toString() }]);
    metrics.committed.inc(batch.records.length);
    metrics.batchSeconds.observe((now() - startedMs) / 1000);
    logger.debug(
      { partition: batch.partition, records: batch.records.length, rows: rows.length, deadLettered: deadLetters.length, alerts: alertRecords.length, nextOffset: (BigInt(last.offset) + 1n).toString(), ms: now() - startedMs },
      'batch committed',
    );
  };

  const onBatch = async (batch: ConsumedBatch, control: { isRunning: () => boolean; heartbeat: () => Promise<void> }): Promise<void> => {
    // Once stopping, new batches are left for the next owner: nothing is written or committed.
    if (stopping.signal.aborted) return;
    const work = handleBatch(batch, control);
    inFlight.add(work);
    try {
      await work;
    } catch (error) {
      // Stopped mid-retry: leave the batch uncommitted; it is re-delivered to the next owner.
      if (stopping.signal.aborted) return;
      throw error;
    } finally {
      inFlight.delete(work);
    }
  };

  const onPartitionsAssigned = (partitions: ReadonlyArray<{ topic: string; partition: number }>): void => {
    const next = partitions.map(({ topic, partition }) => `${topic}:${partition}`).sort().join(',');
    if (next === assignment) return;
    assignment = next;
    // Counters and alert state restart with each new assignment: devices we no longer own must not
    // turn into gaps or silence alarms here.
    tracker = createCompletenessTracker();
    alerts = createAlertEvaluator(config.alertRules, { silenceAfterMs: config.silenceAfterMs });
    logger.info({ partitions: partitions.length }, 'partitions assigned');
  };

  const every = (name: string, intervalMs: number, task: () => Promise<void>): void => {
    let timer: NodeJS.Timeout | undefined;
    let running: Promise<void> = Promise.resolve();
    let stopped = false;
    const arm = (): void => {
      if (stopped) return;
      timer = setTimeout(() => {
        running = task().catch((error: unknown) => sampled.warn(name, { err: error, task: name }, `${name} failed`)).finally(arm);
      }, intervalMs);
      timer.unref();
    };
    arm();
    timers.push({
      stop: async () => {
        stopped = true;
        clearTimeout(timer);
        await running;
      },
    });
  };

  return {
    async start() {
      consumer = deps.kafka.groupConsumer({
        clientId: deps.clientId,
        groupId: config.groupId,
        topics: [config.topics.telemetry],
        // A new group reads the whole retained topic: starting at the end would skip stored telemetry.
        fromBeginning: true,
        // Batches of several partitions in flight at once let the writer put them into one
        // QuestDB transaction (group commit) instead of one small transaction per partition.
        partitionsConcurrently: config.partitionsConcurrently,
        fetch: config.fetch,
        onBatch,
        onPartitionsAssigned,
        onCrash: (error) => {
          crashed = describeError(error);
          deps.onFatal?.(error);
        },
      });
      await consumer.start();
      every('silence check', config.silenceCheckIntervalMs, async () => {
        const events = alerts.checkSilence(now());
        if (events.length === 0) return;
        await producer.sendMany(events.map(alertRecord));
        metrics.alertsPublished.inc({ kind: 'device_silent' }, events.length);
      });
      every('completeness snapshot', config.completenessSnapshotIntervalMs, async () => {
        const { devices } = tracker.snapshot();
        if (devices.length > 0) await writer.writeCompleteness(devices, now());
      });
      // QuestDB suspends a table whose WAL apply failed and never resumes it by itself: writes are
      // still accepted (so their offsets are committed) but stay invisible until someone does.
      every('suspended table check', config.tableCheckIntervalMs, async () => {
        const tables = await writer.suspendedTables();
        metrics.tablesSuspended.set(tables.length);
        for (const name of suspended.keys()) {
          if (tables.some(({ table }) => table === name)) continue;
          suspended.delete(name);
          logger.info({ table: name }, 'QuestDB table applies its WAL again');
        }
        for (const { table, errorTag, errorMessage } of tables) {
          const error = `${errorTag || 'error'}: ${errorMessage}`;
          if (!suspended.has(table)) logger.error({ table, errorTag, errorMessage }, 'QuestDB suspended a table; resuming it (the failed transaction is applied again, none skipped)');
          suspended.set(table, { since: suspended.get(table)?.since ?? now(), error });
          await writer.resumeTable(table);
          metrics.tableResumes.inc({ error_tag: errorTag });
        }
      });
      every('consumer lag poll', config.lagPollIntervalMs, async () => {
        if (consumer === null) return;
        for (const { topic, partition, lag } of await consumer.lagByPartition()) metrics.consumerLag.set({ topic, partition: String(partition) }, lag);
      });
      logger.info({ groupId: config.groupId, topic: config.topics.telemetry }, 'enrich worker consuming');
    },

    stop: createShutdown(() => [
      { name: 'stop retrying', stop: () => stopping.abort(new Error('enrich worker stopping')) },
      { name: 'timers', stop: async () => void (await Promise.all(timers.map((timer) => timer.stop()))) },
      // Before the consumer stops: kafkajs drops commits once it is stopping.
      { name: 'in-flight batch', stop: async () => void (await Promise.allSettled([...inFlight])) },
      { name: 'group consumer', stop: () => consumer?.stop() },
    ]),

    problem() {
      if (crashed !== null) return `consumer crashed: ${crashed}`;
      const [table, suspension] = [...suspended][0] ?? [];
      if (table !== undefined && suspension !== undefined) return `QuestDB table ${table} suspended for ${Math.round((now() - suspension.since) / 1000)} s (${suspension.error}); resuming it every ${config.tableCheckIntervalMs} ms`;
      const [stage, state] = [...failing][0] ?? [];
      if (stage === undefined || state === undefined) return null;
      return `${stage} failing for ${Math.round((now() - state.since) / 1000)} s: ${state.error}`;
    },
  };
}
