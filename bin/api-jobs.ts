/**
 * The jobs part of the API process: the job routes, and the job service (store, submitter, runner)
 * as a service of the process. The runner replays and re-drives with the enricher's settings
 * (QuestDB writer, retry, unknown-device policy), read like `tributary replay` reads them.
 */
import { hostname } from 'node:os';
import { jobRoutes } from '../api/job-routes.ts';
import type { EnrichConfig } from '../enrich/enrich-config.ts';
import type { ApiExtensionFactory } from './commands/api-command.ts';
import { composeJobService } from './job-service.ts';

export function jobsExtension(enrich: EnrichConfig, options: { onFatal?: (error: unknown) => void } = {}): ApiExtensionFactory {
  return (context) => {
    const { settings, kafka, clientId } = context;
    const service = composeJobService({
      kafka,
      clientId,
      enrich,
      topics: { jobs: settings.jobs, jobState: settings.jobState, jobEvents: settings.jobEvents, alerts: settings.alerts, telemetry: settings.telemetry, deadLetter: settings.deadLetter },
      layout: { partitions: settings.kafkaPartitions, replicationFactor: settings.replicationFactor },
      registry: context.registry,
      producer: context.producer,
      runner: {
        enabled: settings.jobRunner,
        groupId: settings.jobsGroup,
        concurrency: settings.jobConcurrency,
        runnerId: `${hostname()}-${process.pid}-${clientId}`,
        checkpointIntervalMs: settings.jobCheckpointMs,
        progressEventIntervalMs: settings.jobProgressEventMs,
      },
      metricsRegistry: context.metricsRegistry,
      metricPrefix: 'tributary_api_',
      logger: context.logger,
      ...(options.onFatal !== undefined && { onFatal: options.onFatal }),
    });
    const telemetryPartitions = async (): Promise<number> => {
      const admin = kafka.admin({ clientId });
      try {
        return (await admin.endOffsets(settings.telemetry)).length;
      } finally {
        await admin.close();
      }
    };
    return {
      routes: [jobRoutes({ store: service.store, submitter: service.submitter, telemetryPartitions })],
      services: [{ name: 'jobs', start: () => service.start(), stop: () => service.stop() }],
      checks: [{ name: 'jobs', check: () => service.problem() }],
    };
  };
}
