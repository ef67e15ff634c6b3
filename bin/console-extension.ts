/**
 * The operator console as a part of the API process: the pipeline status (scraping the watched
 * gateways and enrichers, reading the enricher group's lag through the process's Kafka admin),
 * GET /v1/pipeline/status, and the console's page at /console/.
 */
import { consolePages } from '../api/console-pages.ts';
import { pipelineStatusConfig } from '../api/pipeline-config.ts';
import { pipelineRoutes } from '../api/pipeline-routes.ts';
import { createPipelineStatus } from '../api/pipeline-status.ts';
import type { ApiExtensionFactory } from './commands/api-command.ts';

export const consoleExtension: ApiExtensionFactory = ({ settings, kafka, clientId, logger }) => {
  const config = pipelineStatusConfig(settings);
  const status = createPipelineStatus({
    gateways: config.gateways,
    enrichers: config.enrichers,
    lag: { admin: () => kafka.admin({ clientId }), groupId: settings.enrichGroup, topic: settings.telemetry },
    scrapeIntervalMs: config.scrapeIntervalMs,
    logger,
  });
  return {
    routes: [pipelineRoutes({ snapshot: () => status.snapshot() })],
    pages: [consolePages()],
    services: [{ name: 'pipeline status', start: () => status.start(), stop: () => status.stop() }],
  };
};
