#!/usr/bin/env node
/**
 * The one entry point. It alone reads the environment, builds the root logger, installs signal
 * handlers and composes the rooms (gateway + ingest, enrich, stack...) into processes.
 */
import { ConfigError } from '../core/errors.ts';
import { UsageError } from './cli-args.ts';
import { stackCommand } from './commands/stack-command.ts';
import { startCommand } from './commands/start-command.ts';

const commands: Record<string, { summary: string; run: (args: readonly string[]) => Promise<number> }> = {
  start: { summary: 'run the whole pipeline locally (starts the stack unless addresses are given)', run: startCommand },
  stack: { summary: 'start, stop or inspect the local Kafka + QuestDB stack', run: stackCommand },
};

const help = `Usage: tributary <command> [options]

Commands:
${Object.entries(commands)
  .map(([name, command]) => `  ${name.padEnd(10)}${command.summary}`)
  .join('\n')}

Run \`tributary <command> --help\` for a command's options.
`;

async function main(argv: readonly string[]): Promise<number> {
  const [name, ...args] = argv;
  if (name === undefined || name === '--help' || name === '-h' || name === 'help') {
    process.stdout.write(help);
    return name === undefined ? 2 : 0;
  }
  const command = commands[name];
  if (!command) {
    process.stderr.write(`unknown command ${JSON.stringify(name)}\n\n${help}`);
    return 2;
  }
  return command.run(args);
}

try {
  process.exitCode = await main(process.argv.slice(2));
} catch (error) {
  if (error instanceof UsageError || error instanceof ConfigError) {
    process.stderr.write(`${error.message}\n`);
    process.exitCode = 2;
  } else {
    process.stderr.write(`tributary: ${error instanceof Error ? error.message : String(error)}\n`);
    process.exitCode = 1;
  }
}
