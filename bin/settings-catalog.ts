/**
 * Every command's settings table, composed from the rooms' tables and the shared ones in core/,
 * and the reader every command uses: it refuses TRIBUTARY_* variables that no table knows, since
 * `tributary start` passes its whole environment on and deployments share one environment.
 */
import { apiSettings } from '../api/api-config.ts';
import { createEnvReader, type EnvReader } from '../core/config.ts';
import { boolSetting, intSetting, optionalStringSetting, settingsOf, stringSetting, unknownSettingProblems, type SettingsTable } from '../core/settings.ts';
import { logLevelSetting, sharedSettings, topicSettings, topicSettingsOf } from '../core/shared-settings.ts';
import { pipelineStatusSettings } from '../api/pipeline-config.ts';
import { apiReadSettings } from '../api/read-config.ts';
import { enrichSettings } from '../enrich/enrich-config.ts';
import { gatewaySettings } from '../gateway/gateway-config.ts';
import { ingestSettings } from '../ingest/ingest-config.ts';
import { jobSettings } from '../jobs/job-config.ts';
import { stackSettings } from './stack-settings.ts';

const { httpHost, shutdownDeadlineMs, logLevel } = sharedSettings;

/** What the gateway process reads besides the gateway's and the bridge's settings. */
export const gatewayProcessSettings = {
  httpHost,
  httpPort: intSetting({ name: 'TRIBUTARY_GATEWAY_HTTP_PORT', default: 9464, min: 0, max: 65535, help: 'health and metrics port, 0 = any free port' }),
  shutdownDeadlineMs,
  logLevel,
} as const;

/** What an enricher process reads besides the enricher's settings. */
export const enrichProcessSettings = { httpHost, shutdownDeadlineMs, logLevel } as const;

/** Operator tools log only warnings unless asked. */
export const toolLogLevel = logLevelSetting('warn');

/** Variables set or read by tooling rather than by an operator's command. */
const toolingSettings = {
  supervisorPid: optionalStringSetting({ name: 'TRIBUTARY_SUPERVISOR_PID', defaultText: 'set by tributary start', help: "a child service stops when this process is gone (bin/child-service.ts); don't set it yourself" }),
  testStackName: stringSetting({ name: 'TRIBUTARY_TEST_STACK_NAME', default: 'test', help: "the integration tests' stack name (test/test-stacks.ts)" }),
  testPortBase: intSetting({ name: 'TRIBUTARY_TEST_PORT_BASE', default: 27000, min: 1024, max: 65000, help: "the integration tests' stack port base" }),
  testLogs: boolSetting({ name: 'TRIBUTARY_TEST_LOGS', default: false, help: 'integration tests log the services they run at debug level' }),
  testFuzzSeed: optionalStringSetting({ name: 'TRIBUTARY_TEST_FUZZ_SEED', defaultText: 'a new one each run', help: 'the seed test/gateway-fuzz.integration.test.ts runs (each run prints its seed, so a failure is replayed with it)' }),
} as const;

/** Each command's table: what it reads, what its `--help` lists. */
export const commandSettings = {
  gateway: { ...gatewaySettings, ...ingestSettings, ...gatewayProcessSettings },
  enrich: { ...enrichSettings, ...enrichProcessSettings },
  replay: { ...enrichSettings, ...topicSettingsOf('jobs', 'jobState', 'jobEvents'), logLevel: toolLogLevel },
  devices: { kafkaBrokers: sharedSettings.kafkaBrokers, devices: topicSettings.devices, replicationFactor: sharedSettings.replicationFactor, logLevel: toolLogLevel },
  commands: {
    kafkaBrokers: sharedSettings.kafkaBrokers,
    devices: topicSettings.devices,
    commands: topicSettings.commands,
    commandEvents: topicSettings.commandEvents,
    kafkaPartitions: sharedSettings.kafkaPartitions,
    replicationFactor: sharedSettings.replicationFactor,
    logLevel: toolLogLevel,
  },
  api: {
    // The job runner replays and re-drives with the enricher's settings, as `tributary replay` does
    // (first: the API's own entries, e.g. httpPort, take their keys).
    ...enrichSettings,
    ...apiSettings,
    ...jobSettings,
    kafkaBrokers: sharedSettings.kafkaBrokers,
    ...topicSettingsOf('telemetry', 'devices', 'deadLetter', 'alerts', 'commands', 'commandEvents', 'jobs', 'jobState', 'jobEvents', 'apiTokens'),
    kafkaPartitions: sharedSettings.kafkaPartitions,
    replicationFactor: sharedSettings.replicationFactor,
    httpHost,
    shutdownDeadlineMs,
    logLevel,
    ...apiReadSettings,
    ...pipelineStatusSettings,
    // the group whose lag the pipeline status reports: the enricher's own setting, one variable for both
    enrichGroup: enrichSettings.groupId,
  },
  tokens: { kafkaBrokers: sharedSettings.kafkaBrokers, apiTokens: topicSettings.apiTokens, replicationFactor: sharedSettings.replicationFactor, logLevel: toolLogLevel },
  stack: stackSettings,
  start: {
    ...stackSettings,
    kafkaBrokers: sharedSettings.kafkaBrokers,
    questdbUrl: enrichSettings.questdbUrl,
    shutdownDeadlineMs,
    logLevel,
    mqttTcpPort: gatewaySettings.tcpPort,
    mqttWsPort: gatewaySettings.wsPort,
    topicPrefix: gatewaySettings.topicPrefix,
    gatewayHttpPort: gatewayProcessSettings.httpPort,
    gatewayRedisUrl: gatewaySettings.redisUrl,
    enrichHttpPort: enrichSettings.httpPort,
    apiPort: apiSettings.httpPort,
    apiQuestdbPgUrl: apiReadSettings.questdbPgUrl,
  },
  bench: {
    ...stackSettings,
    kafkaBrokers: sharedSettings.kafkaBrokers,
    questdbUrl: enrichSettings.questdbUrl,
    devices: topicSettings.devices,
    lingerMs: ingestSettings.lingerMs,
    maxBatchRecords: ingestSettings.maxBatchRecords,
    sendTimeoutMs: ingestSettings.sendTimeoutMs,
  },
} as const satisfies Record<string, SettingsTable>;

/** The README's generated settings sections, by marker name. */
export const readmeSettingsSections: Readonly<Record<string, readonly SettingsTable[]>> = {
  gateway: [commandSettings.gateway],
  enrich: [commandSettings.enrich],
  api: [commandSettings.api],
  stack: [stackSettings],
  tooling: [toolingSettings],
};

/** Every variable any Tributary command or tool reads. */
export const knownSettingNames: ReadonlySet<string> = new Set(settingsOf(...Object.values(commandSettings), toolingSettings).map((setting) => setting.name));

/** The EnvReader every command reads `process.env` through; unknown TRIBUTARY_* variables are problems. */
export function createProcessEnvReader(env: NodeJS.ProcessEnv = process.env): EnvReader {
  const reader = createEnvReader(env);
  for (const problem of unknownSettingProblems(env, knownSettingNames)) reader.problem(problem);
  return reader;
}
