/**
 * The read paths of the API process: dashboard reads over QuestDB's PostgreSQL wire protocol, the
 * alerts feed over the alerts topic and the dead-letter listing, with the bounds of api/read-config.ts.
 * QuestDB is no readiness check: devices, commands and jobs work without it; the reads answer 503.
 */
import { alertFeedRoutes } from '../api/alert-feed-routes.ts';
import { createAlertFeed } from '../api/alert-feed.ts';
import { createDeadLetterReader } from '../api/dead-letter-reader.ts';
import { deadLetterRoutes } from '../api/dead-letter-routes.ts';
import { createQuestdbReadStore } from '../api/questdb-read-store.ts';
import type { ApiReadConfig } from '../api/read-config.ts';
import { telemetryTables } from '../api/telemetry-queries.ts';
import { telemetryReadRoutes } from '../api/telemetry-read-routes.ts';
import type { ApiExtensionFactory } from './commands/api-command.ts';

export function readsExtension(config: ApiReadConfig): ApiExtensionFactory {
  return (context) => {
    const store = createQuestdbReadStore(config.questdb);
    const admin = context.kafka.admin({ clientId: context.clientId });
    const feed = createAlertFeed({ kafka: context.kafka, admin, topic: context.settings.alerts, clientId: context.clientId, watermarkMs: config.alertFeed.watermarkMs });
    const deadLetters = createDeadLetterReader({ kafka: context.kafka, admin, topic: context.settings.deadLetter, clientId: context.clientId, scanRecords: config.deadLetters.scanRecords });
    return {
      routes: [
        telemetryReadRoutes({
          store,
          tables: telemetryTables(config.questdb.tablePrefix),
          deviceExists: (deviceId) => context.registry.get(deviceId) !== undefined,
          latestLookbackMs: config.latestLookbackMs,
          series: config.series,
        }),
        alertFeedRoutes({ feed, maxPageSize: config.alertFeed.maxPageSize }),
        deadLetterRoutes({ reader: deadLetters }),
      ],
      services: [{ name: 'read connections', start: () => Promise.resolve(), stop: async () => void (await Promise.allSettled([store.close(), admin.close()])) }],
    };
  };
}
