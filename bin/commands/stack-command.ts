/** `tributary stack up|down|status`: the local Kafka + QuestDB + Redis stack. */
import { join } from 'node:path';
import { settingsHelp } from '../../core/settings.ts';
import { ensureArtifacts, ensurePlantuml, ensureStrimziCrds } from '../../infra/artifacts.ts';
import { readStackState, isStackRunning, stackDir, startStack, stopStack, type StackState } from '../../infra/stack.ts';
import { intFlag, parseCommandArgs, UsageError } from '../cli-args.ts';
import { commandSettings, createProcessEnvReader } from '../settings-catalog.ts';
import { readStackSettings } from '../stack-settings.ts';

const help = `Usage: tributary stack <up|down|status> [options]

Runs Apache Kafka (KRaft) and QuestDB locally as child JVMs on 127.0.0.1, and Redis (Debian's
redis-server, persisted to an append-only file) for the gateway's shared MQTT sessions.
Kafka and QuestDB come from Maven Central on first use and are cached in $TRIBUTARY_HOME/artifacts.

Commands:
  fetch     download the pinned Kafka, QuestDB and PlantUML (docs diagrams) artifacts and generate Strimzi's CRDs
            into the cache (no servers started)
  up        start the stack in the background and wait until it is ready
  down      stop the stack and wait for its ports to close
  status    show whether the stack runs, its endpoints and processes

Options:
  --name <name>       stack name (default: dev; data in $TRIBUTARY_HOME/stacks/<name>)
  --brokers <1|3>     single KRaft node, or a 3-broker cluster (RF 3, min.insync.replicas 2) (up; default 1)
  --no-questdb        start without QuestDB (up)
  --no-redis          start without Redis (up)
  --fresh             delete the stack's data first (up)
  --port-base <port>  base of the port layout (default $TRIBUTARY_STACK_PORT_BASE or 19000;
                      Kafka base+92, QuestDB HTTP base, PG base+12, ILP/TCP base+9, Redis base+79)
  --json              machine-readable output (status)
  -h, --help          this help

${settingsHelp(commandSettings.stack)}`;

export function describeStack(state: StackState): string {
  const lines = [
    `stack "${state.name}" (${state.dir})`,
    `  Kafka ${state.kafka.version} bootstrap  ${state.kafka.bootstrap.join(',')}   [${state.kafka.java}]`,
  ];
  if (state.questdb) {
    lines.push(
      `  QuestDB ${state.questdb.version} console  ${state.questdb.httpUrl}   [${state.questdb.java}]`,
      `  QuestDB PostgreSQL wire  postgresql://admin:quest@127.0.0.1:${state.questdb.pgPort}/qdb`,
      `  QuestDB ILP/HTTP         ${state.questdb.httpUrl}/write`,
    );
  }
  if (state.redis) lines.push(`  Redis ${state.redis.version}           ${state.redis.url}   [append-only file in ${join(state.dir, 'redis')}]`);
  if (state.readyAfterMs) lines.push(`  ready after ${(state.readyAfterMs.total / 1000).toFixed(1)} s`);
  return lines.join('\n');
}

export async function stackCommand(args: readonly string[]): Promise<number> {
  const parsed = parseCommandArgs(
    args,
    {
      name: { type: 'string', default: 'dev' },
      brokers: { type: 'string' },
      'no-questdb': { type: 'boolean', default: false },
      'no-redis': { type: 'boolean', default: false },
      fresh: { type: 'boolean', default: false },
      'port-base': { type: 'string' },
      json: { type: 'boolean', default: false },
    },
    help,
  );
  if (!parsed) return 0;
  const env = createProcessEnvReader();
  const settings = readStackSettings(env);
  env.finish();
  const [action, ...extra] = parsed.positionals;
  if (extra.length > 0) throw new UsageError(`unexpected arguments: ${extra.join(' ')}\n\n${help}`);
  const name = parsed.values.name;
  const dir = stackDir(settings.home, name);
  const log = (message: string): void => void process.stderr.write(`${message}\n`);

  switch (action) {
    case 'fetch': {
      const artifacts = await ensureArtifacts(join(settings.home, 'artifacts'), log);
      process.stdout.write(`Kafka ${artifacts.kafkaVersion}: ${artifacts.kafkaLibDir}\nQuestDB ${artifacts.questdbVersion}: ${artifacts.questdbJar}\n`);
      // The k8s/ manifest test validates the Strimzi kinds against these.
      const strimzi = await ensureStrimziCrds(join(settings.home, 'artifacts'), process.env, log);
      process.stdout.write(`Strimzi ${strimzi.strimziVersion} CRDs: ${Object.values(strimzi.crdFiles).join(' ')}\n`);
      const plantuml = await ensurePlantuml(join(settings.home, 'artifacts'), log);
      process.stdout.write(`PlantUML ${plantuml.plantumlVersion}: ${plantuml.plantumlJar}\n`);
      return 0;
    }
    case 'up': {
      const brokers = intFlag(parsed.values.brokers, 'brokers', 1);
      if (brokers !== 1 && brokers !== 3) throw new UsageError('--brokers must be 1 or 3');
      const state = await startStack({
        ...settings,
        name,
        portBase: intFlag(parsed.values['port-base'], 'port-base', settings.portBase),
        brokers,
        questdb: !parsed.values['no-questdb'],
        redis: !parsed.values['no-redis'],
        fresh: parsed.values.fresh,
        env: process.env,
        log,
      });
      process.stdout.write(`${describeStack(state)}\nstop it with: tributary stack down --name ${name}\n`);
      return 0;
    }
    case 'down': {
      const result = await stopStack(dir, log);
      process.stdout.write(`stack "${name}": stopped ${result.stopped} process group(s)\n`);
      if (result.portsStillBusy.length > 0) {
        log(`ports still in use: ${result.portsStillBusy.join(', ')}`);
        return 1;
      }
      return 0;
    }
    case 'status': {
      const state = await readStackState(dir);
      const running = state !== null && isStackRunning(state);
      if (parsed.values.json) {
        process.stdout.write(JSON.stringify({ name, running, state }, null, 2) + '\n');
      } else {
        process.stdout.write(state && running ? `running: ${describeStack(state)}\n` : `stack "${name}" is not running\n`);
      }
      return running ? 0 : 3;
    }
    default:
      throw new UsageError(`unknown stack command ${JSON.stringify(action ?? '')}\n\n${help}`);
  }
}
