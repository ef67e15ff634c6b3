/**
 * The jobs of an API process, composed: the job store (following the job-state topic), the
 * submitter, and — unless disabled — a job runner whose replay and re-drive executors write to
 * QuestDB through the enricher's writer, decode and enrichment. Every API replica runs one; the
 * runners share the work as one consumer group.
 */
import type { Registry } from 'prom-client';
import type { DeviceRegistry } from '../core/device-registry.ts';
import type { KafkaClientFactory, KafkaProducerPort } from '../core/kafka-port.ts';
import { createShutdown, type StopStep } from '../core/lifecycle.ts';
import type { Logger } from '../core/logger.ts';
import { topicSpecs } from '../core/topic-specs.ts';
import type { EnrichConfig } from '../enrich/enrich-config.ts';
import { createQuestdbWriter } from '../enrich/questdb-writer.ts';
import { createRedriveJobExecutor, createReplayJobExecutor, type ReplayJobDeps } from '../enrich/replay-jobs.ts';
import { createJobRunner, type JobRunner, type JobTopics } from '../jobs/job-runner.ts';
import { createJobStore, type JobStore } from '../jobs/job-store.ts';
import { createJobSubmitter, type JobSubmitter } from '../jobs/job-submitter.ts';

export interface JobServiceOptions {
  kafka: KafkaClientFactory;
  clientId: string;
  enrich: EnrichConfig;
  topics: JobTopics & { telemetry: string; deadLetter: string };
  layout: { partitions: number; replicationFactor: number };
  registry: DeviceRegistry;
  producer: KafkaProducerPort;
  runner: { enabled: boolean; groupId: string; concurrency: number; runnerId: string; checkpointIntervalMs: number; progressEventIntervalMs: number };
  metricsRegistry: Registry;
  metricPrefix: string;
  logger: Logger;
  onFatal?: (error: unknown) => void;
}

export interface JobService {
  store: JobStore;
  submitter: JobSubmitter;
  /** Starts after the registry and the producer; creates the job topics if they do not exist. */
  start(): Promise<void>;
  stop(): Promise<void>;
  problem(): string | null;
}

export function composeJobService(options: JobServiceOptions): JobService {
  const { kafka, enrich, topics, logger } = options;
  const store = createJobStore({ follower: kafka.follower({ clientId: options.clientId, topic: topics.jobState }), logger });
  const submitter = createJobSubmitter({ producer: options.producer, store, topics });
  let runner: JobRunner | null = null;
  const stops: StopStep[] = [];
  let storeReady = false;

  return {
    store,
    submitter,
    async start() {
      const admin = kafka.admin({ clientId: options.clientId });
      try {
        await admin.ensureTopics(topicSpecs({ jobs: topics.jobs, jobState: topics.jobState, jobEvents: topics.jobEvents }, options.layout));
      } finally {
        await admin.close();
      }
      stops.unshift({ name: 'job store', stop: () => store.stop() });
      await store.start();
      storeReady = true;
      if (!options.runner.enabled) return;
      const writer = createQuestdbWriter({ config: enrich.questdb, retry: enrich.retry, logger });
      stops.unshift({ name: 'job writer', stop: () => writer.stop() });
      await writer.start();
      const deps: ReplayJobDeps = {
        telemetryTopic: topics.telemetry,
        deadLetterTopic: topics.deadLetter,
        admin: () => kafka.admin({ clientId: options.clientId }),
        rangeReader: (topic, ranges) => kafka.rangeReader({ clientId: options.clientId, topic, ranges, partitionsConcurrently: Math.max(1, Math.min(ranges.length, enrich.partitionsConcurrently)) }),
        writer,
        deviceOf: (deviceId) => options.registry.get(deviceId) ?? null,
        unknownDevicePolicy: enrich.unknownDevicePolicy,
        maxRowsPerWrite: enrich.questdb.maxRowsPerWrite,
        retry: enrich.retry,
        logger,
      };
      runner = createJobRunner({
        kafka,
        clientId: options.clientId,
        groupId: options.runner.groupId,
        topics,
        store,
        producer: options.producer,
        executors: { replay: createReplayJobExecutor(deps), redrive: createRedriveJobExecutor(deps) },
        runnerId: options.runner.runnerId,
        concurrency: options.runner.concurrency,
        checkpointIntervalMs: options.runner.checkpointIntervalMs,
        progressEventIntervalMs: options.runner.progressEventIntervalMs,
        metricsRegistry: options.metricsRegistry,
        metricPrefix: options.metricPrefix,
        logger,
        ...(options.onFatal !== undefined && { onFatal: options.onFatal }),
      });
      const started = runner;
      // Before the writer: a running job writes its checkpoint, then the writer closes.
      stops.unshift({ name: 'job runner', stop: () => started.stop() });
      await started.start();
    },
    stop: createShutdown(() => stops),
    problem: () => (storeReady ? (runner?.problem() ?? null) : 'reading job state'),
  };
}
