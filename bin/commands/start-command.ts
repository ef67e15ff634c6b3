/**
 * `tributary start` (what `npm start` runs): the whole pipeline on one machine. Starts the local
 * stack unless TRIBUTARY_KAFKA_BROKERS and TRIBUTARY_QUESTDB_URL point at existing servers (with
 * Redis for the gateway's sessions unless TRIBUTARY_GATEWAY_REDIS_URL names one), then
 * the gateway, one enricher and the API as child processes, prints the endpoints and runs until Ctrl-C,
 * stopping everything it started. If a service dies, everything is stopped and the exit code is 1.
 * It also stops when its launcher exits (npm SIGKILLed), and its children and the stack's servers stop
 * when it dies, even by SIGKILL. A second one with the same TRIBUTARY_HOME, or on taken ports, is
 * refused with the pid that holds them.
 */
import { createShutdown, runUntilSignal, type Lifecycle, type Service, type StopStep } from '../../core/lifecycle.ts';
import { createLogger } from '../../core/logger.ts';
import { readSettings, settingsHelp } from '../../core/settings.ts';
import { waitFor } from '../../core/wait-for.ts';
import { takenPorts } from '../../infra/ports.ts';
import { stackDir, stackHost, stackStopBoundMs, startStack, stopOwnStack } from '../../infra/stack.ts';
import { startChildService, stopWhenParentExits } from '../child-service.ts';
import { parseCommandArgs } from '../cli-args.ts';
import { commandSettings, createProcessEnvReader } from '../settings-catalog.ts';
import { readStackSettings } from '../stack-settings.ts';
import { describeStartRecord, readLiveStartRecord, removeStartRecord, startRecordFile, writeStartRecord } from '../start-record.ts';
import { describeStack } from './stack-command.ts';

const help = `Usage: tributary start [options]

Runs the pipeline locally: the Kafka + QuestDB + Redis stack (unless TRIBUTARY_KAFKA_BROKERS and
TRIBUTARY_QUESTDB_URL are both set), the MQTT gateway, one enricher and the operator and
dashboard API (with your own QuestDB, set TRIBUTARY_API_QUESTDB_PG_URL for its reads). The gateway keeps its MQTT
sessions in the stack's Redis; a TRIBUTARY_GATEWAY_REDIS_URL of your own is used instead (and no
Redis started), and with your own Kafka and QuestDB but no Redis URL, the gateway runs without
Redis (sessions in its memory). Ctrl-C stops everything;
so does the exit of whatever launched it (npm, a script), and if this command dies, even by
SIGKILL, the gateway, the enricher, the API and the stack stop by themselves. A second \`tributary start\`
while one runs is refused with that one's pid and ports.
Every gateway, enricher and API setting (tributary gateway --help, tributary enrich --help,
tributary api --help) is passed through to those processes; each of them stops within TRIBUTARY_SHUTDOWN_DEADLINE_MS, and this
command's own deadline is derived from theirs.

Options:
  --fresh       start the local stack with empty data
  --no-enrich   run without the enricher
  --no-api      run without the API
  -h, --help    this help

${settingsHelp(commandSettings.start)}`;

/** A child that outlives its own shutdown deadline by this much is killed. */
const childKillGraceMs = 5000;

/**
 * How long `tributary start` may take to stop: its children stop one after the other, each within
 * its own deadline plus the kill grace, then the local stack (if it started one).
 */
export function supervisorDeadlineMs(childDeadlineMs: number, children: number, localStack: boolean): number {
  return children * (childDeadlineMs + childKillGraceMs) + (localStack ? stackStopBoundMs : 0);
}

export async function startCommand(args: readonly string[]): Promise<number> {
  const parsed = parseCommandArgs(args, { fresh: { type: 'boolean', default: false }, 'no-enrich': { type: 'boolean', default: false }, 'no-api': { type: 'boolean', default: false } }, help);
  if (!parsed) return 0;
  const env = createProcessEnvReader();
  const settings = readStackSettings(env);
  const { kafkaBrokers, questdbUrl, logLevel, shutdownDeadlineMs: childDeadlineMs, mqttTcpPort: mqttPort, mqttWsPort: wsPort, topicPrefix, gatewayHttpPort, gatewayRedisUrl, enrichHttpPort, apiPort } = readSettings(
    env,
    commandSettings.start,
  );
  const useLocalStack = !env.isSet(commandSettings.start.kafkaBrokers.name) || !env.isSet(commandSettings.start.questdbUrl.name);
  const apiPgUrlGiven = env.isSet(commandSettings.start.apiQuestdbPgUrl.name);
  const { watchGateways, watchEnrichers } = commandSettings.api;
  const watchGiven = { gateways: env.isSet(watchGateways.name), enrichers: env.isSet(watchEnrichers.name) };
  env.finish();
  const logger = createLogger({ level: logLevel, name: 'tributary' });
  const withEnricher = !parsed.values['no-enrich'];
  const withApi = !parsed.values['no-api'];
  const shutdownDeadlineMs = supervisorDeadlineMs(childDeadlineMs, 1 + Number(withEnricher) + Number(withApi), useLocalStack);
  const ports: Record<string, number> = { 'MQTT TCP': mqttPort, 'MQTT WebSocket': wsPort, 'gateway HTTP': gatewayHttpPort };
  if (withEnricher) ports['enricher HTTP'] = enrichHttpPort;
  if (withApi) ports.API = apiPort;
  await claimStart(settings.home, ports);
  const recordFile = startRecordFile(settings.home);
  // Steps are unshifted as things start, so the record goes last, once everything has stopped.
  const stops: StopStep[] = [{ name: 'start record', stop: () => removeStartRecord(recordFile) }];
  const endpoints: string[] = [];

  const startChild = (lifecycle: Lifecycle, name: string, childArgs: string[], childEnv: NodeJS.ProcessEnv): void => {
    const child = startChildService(name, childArgs, childEnv);
    stops.unshift({ name, stop: () => child.stop(childDeadlineMs + childKillGraceMs) });
    void child.exited.then((how) => {
      if (lifecycle.signal.aborted) return;
      // A service that dies takes the whole pipeline down, so the failure is visible, not silent.
      logger.error({ reason: `${name} exited (${how})` }, 'a pipeline service stopped unexpectedly; shutting down');
      lifecycle.requestStop(`${name} exited`, 1);
    });
  };

  const service = (lifecycle: Lifecycle): Service => ({
    async start() {
      // npm forwards SIGINT/SIGTERM to us; if npm (or a script's shell) is SIGKILLed instead, we stop too.
      stopWhenParentExits(lifecycle, 'launcher');
      let brokers = kafkaBrokers;
      let questdb = questdbUrl;
      // Set by the user: passed through as given (the whole environment goes to the children).
      let redisUrl = gatewayRedisUrl;
      let apiPgUrl: string | undefined;
      if (useLocalStack) {
        const dir = stackDir(settings.home, 'dev');
        // Also when the start fails half-way; a 'dev' stack another process runs is left alone.
        stops.unshift({ name: 'local stack', stop: () => stopOwnStack(dir, process.pid, (m) => logger.warn(m)) });
        const state = await startStack({
          ...settings,
          name: 'dev',
          brokers: 1,
          questdb: true,
          redis: gatewayRedisUrl === undefined,
          fresh: parsed.values.fresh,
          ownerPid: process.pid,
          env: process.env,
          log: (message) => logger.info(message),
        });
        brokers = state.kafka.bootstrap;
        questdb = state.questdb?.httpUrl ?? '';
        redisUrl ??= state.redis?.url;
        // QuestDB's default credentials and database, on the stack's PG wire port
        if (!apiPgUrlGiven && state.questdb) apiPgUrl = `postgresql://admin:quest@${stackHost}:${state.questdb.pgPort}/qdb`;
        endpoints.push(describeStack(state));
      } else {
        endpoints.push(`Kafka bootstrap  ${kafkaBrokers.join(',')}`, `QuestDB          ${questdbUrl}`);
      }
      if (gatewayRedisUrl !== undefined || !useLocalStack) endpoints.push(`Redis            ${redisUrl ?? 'none: the gateway keeps MQTT sessions in its own memory'}`);
      const childEnv = { ...process.env, TRIBUTARY_KAFKA_BROKERS: brokers.join(','), TRIBUTARY_QUESTDB_URL: questdb };
      startChild(lifecycle, 'gateway', ['gateway'], { ...childEnv, ...(redisUrl !== undefined && { TRIBUTARY_GATEWAY_REDIS_URL: redisUrl }) });
      endpoints.push(
        `MQTT (TCP)       mqtt://127.0.0.1:${mqttPort}   topics ${topicPrefix}/<id>/telemetry, ${topicPrefix}/<id>/events`,
        `MQTT (WebSocket) ws://127.0.0.1:${wsPort}/mqtt`,
        `Gateway health   http://127.0.0.1:${gatewayHttpPort}/readyz   metrics http://127.0.0.1:${gatewayHttpPort}/metrics`,
      );
      const readiness = [`http://127.0.0.1:${gatewayHttpPort}/readyz`];
      if (withEnricher) {
        startChild(lifecycle, 'enrich', ['enrich'], childEnv);
        endpoints.push(`Enricher health  http://127.0.0.1:${enrichHttpPort}/readyz   metrics http://127.0.0.1:${enrichHttpPort}/metrics`);
        readiness.push(`http://127.0.0.1:${enrichHttpPort}/readyz`);
      }
      if (withApi) {
        // the console's pipeline status watches this command's own gateway and enricher, unless told otherwise
        const watch = {
          ...(!watchGiven.gateways && { [watchGateways.name]: `http://127.0.0.1:${gatewayHttpPort}` }),
          ...(!watchGiven.enrichers && { [watchEnrichers.name]: withEnricher ? `http://127.0.0.1:${enrichHttpPort}` : 'none' }),
        };
        startChild(lifecycle, 'api', ['api'], { ...childEnv, ...watch, ...(apiPgUrl !== undefined && { [commandSettings.start.apiQuestdbPgUrl.name]: apiPgUrl }) });
        endpoints.push(
          `API              http://127.0.0.1:${apiPort}/v1   (bearer token: tributary tokens create)`,
          `Console          http://127.0.0.1:${apiPort}/console/`,
          `API document     http://127.0.0.1:${apiPort}/openapi.json   health http://127.0.0.1:${apiPort}/readyz   metrics http://127.0.0.1:${apiPort}/metrics`,
        );
        readiness.push(`http://127.0.0.1:${apiPort}/readyz`);
      }
      for (const url of readiness) {
        // A child that dies requests the stop, which ends this wait too.
        await waitFor(async () => (await fetch(url, { signal: AbortSignal.timeout(2000) })).ok, { description: `${url} to report ready`, timeoutMs: 120_000, intervalMs: 250, signal: lifecycle.signal });
      }
    },
    stop: createShutdown(() => stops),
  });

  return runUntilSignal(service, {
    logger,
    shutdownDeadlineMs,
    onStarted: () =>
      process.stdout.write(
        `\nTributary is running. Endpoints:\n${endpoints.join('\n')}\n\n` +
          'Add a device:  npm run tributary -- devices add dev-1 --secret dev-1-secret --site lab\n' +
          `Publish:       mosquitto_pub -p ${mqttPort} -i dev-1 -u dev-1 -P dev-1-secret -q 1 -t ${topicPrefix}/dev-1/telemetry \\\n` +
          `                 -m "{\\"v\\":1,\\"ts\\":$(date +%s000),\\"seq\\":1,\\"metrics\\":{\\"temperature\\":21.5}}"\n` +
          (withApi
            ? 'API token:     npm run tributary -- tokens create --name me --scopes operate   (printed once)\n' +
              `Call the API:  curl -H "Authorization: Bearer <token>" http://127.0.0.1:${apiPort}/v1/devices\n`
            : '') +
          'Press Ctrl-C to stop.\n',
      ),
  });
}

/**
 * Refuses to start while another `tributary start` runs with this home, or while a port it would
 * serve is taken, naming the pid that holds it; otherwise records this run for the next one.
 */
async function claimStart(home: string, ports: Record<string, number>): Promise<void> {
  const file = startRecordFile(home);
  const other = await readLiveStartRecord(file);
  if (other) {
    throw new Error(
      `another \`tributary start\` is running (${describeStartRecord(other)}; recorded in ${file}). ` +
        `Stop it with \`kill ${other.pid}\` (it stops everything it started), or run this one with another TRIBUTARY_HOME and other ports.`,
    );
  }
  const taken = await takenPorts(stackHost, Object.fromEntries(Object.entries(ports).filter(([, port]) => port !== 0)));
  if (taken.length > 0) {
    throw new Error(
      `port(s) already in use: ${taken.join(', ')}. Stop whatever holds them (a gateway or enricher left from an earlier run?), ` +
        'or move this pipeline with TRIBUTARY_MQTT_TCP_PORT, TRIBUTARY_MQTT_WS_PORT, TRIBUTARY_GATEWAY_HTTP_PORT, TRIBUTARY_ENRICH_HTTP_PORT and TRIBUTARY_API_PORT.',
    );
  }
  await writeStartRecord(file, { pid: process.pid, startedAt: new Date().toISOString(), ports });
}
