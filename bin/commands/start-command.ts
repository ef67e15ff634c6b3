/**
 * `tributary start` (what `npm start` runs): the whole pipeline on one machine. Starts the local
 * stack unless TRIBUTARY_KAFKA_BROKERS and TRIBUTARY_QUESTDB_URL point at existing servers, then
 * the pipeline processes, prints the endpoints and runs until Ctrl-C, stopping all it started.
 */
import { createEnvReader } from '../../core/config.ts';
import { createShutdown, runUntilSignal, type StopStep } from '../../core/lifecycle.ts';
import { createLogger } from '../../core/logger.ts';
import { startStack, stackDir, stopStack } from '../../infra/stack.ts';
import { parseCommandArgs } from '../cli-args.ts';
import { readStackSettings } from '../stack-settings.ts';
import { describeStack } from './stack-command.ts';

const help = `Usage: tributary start [options]

Runs the pipeline locally: the Kafka + QuestDB stack (unless TRIBUTARY_KAFKA_BROKERS and
TRIBUTARY_QUESTDB_URL are set), then the pipeline processes. Ctrl-C stops everything it started.

Options:
  --fresh       start the local stack with empty data
  -h, --help    this help
`;

export async function startCommand(args: readonly string[]): Promise<number> {
  const parsed = parseCommandArgs(args, { fresh: { type: 'boolean', default: false } }, help);
  if (!parsed) return 0;
  const env = createEnvReader(process.env);
  const settings = readStackSettings(env);
  const kafkaBrokers = env.list('TRIBUTARY_KAFKA_BROKERS', []);
  const questdbUrl = env.optionalString('TRIBUTARY_QUESTDB_URL');
  const logLevel = env.string('LOG_LEVEL', 'info');
  const shutdownDeadlineMs = env.int('TRIBUTARY_SHUTDOWN_DEADLINE_MS', 60_000, { min: 1000 });
  env.finish();
  const logger = createLogger({ level: logLevel, name: 'tributary' });
  const useLocalStack = kafkaBrokers.length === 0 || questdbUrl === undefined;
  const stops: StopStep[] = [];
  const endpoints: string[] = [];

  const service = {
    async start() {
      if (useLocalStack) {
        const dir = stackDir(settings.home, 'dev');
        stops.unshift({ name: 'local stack', stop: async () => void (await stopStack(dir, (m) => logger.warn(m))) });
        const state = await startStack({
          ...settings,
          name: 'dev',
          brokers: 1,
          questdb: true,
          fresh: parsed.values.fresh,
          ownerPid: process.pid,
          env: process.env,
          log: (message) => logger.info(message),
        });
        endpoints.push(describeStack(state));
      } else {
        endpoints.push(`Kafka bootstrap  ${kafkaBrokers.join(',')}`, `QuestDB          ${questdbUrl}`);
      }
    },
    stop: createShutdown(() => stops),
  };
  return runUntilSignal(service, {
    logger,
    shutdownDeadlineMs,
    onStarted: () => process.stdout.write(`\nTributary is running. Endpoints:\n${endpoints.join('\n')}\n\nPress Ctrl-C to stop.\n`),
  });
}
