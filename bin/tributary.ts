#!/usr/bin/env node
/**
 * The one entry point. It alone reads the environment, builds the root logger, installs signal
 * handlers and composes the rooms (gateway + ingest, enrich, stack...) into processes.
 */
import { ConfigError } from '../core/errors.ts';
import { stopKafkajsIdleLoop } from '../kafka/kafkajs-idle-loop.ts';
import { UsageError } from './cli-args.ts';
import { exitAfterCommand } from './exit-after-command.ts';
import { settingsCommand } from './commands/settings-command.ts';
import { stackCommand } from './commands/stack-command.ts';
import { startCommand } from './commands/start-command.ts';
import { useServiceV8Flags } from './v8-flags.ts';

const commands: Record<string, { summary: string; run: (args: readonly string[]) => Promise<number> }> = {
  start: { summary: 'run the whole pipeline locally (starts the stack unless addresses are given)', run: startCommand },
  gateway: {
    summary: 'run the MQTT gateway and Kafka bridge (acknowledges after Kafka has the message)',
    run: async (args) => {
      useServiceV8Flags();
      return (await import('./commands/gateway-command.ts')).gatewayCommand(args);
    },
  },
  devices: { summary: 'manage the device registry: add, import, list, show, disable, enable, rotate, remove', run: async (args) => (await import('./commands/devices-command.ts')).devicesCommand(args) },
  commands: { summary: "send a command to a device, follow its status, list a device's commands", run: async (args) => (await import('./commands/commands-command.ts')).commandsCommand(args) },
  api: { summary: 'run the operator and dashboard API (HTTP, OpenAPI at /openapi.json, bearer tokens)', run: async (args) => (await import('./commands/api-command.ts')).apiCommand(args) },
  tokens: { summary: "manage the API's bearer tokens: create (printed once), list, revoke", run: async (args) => (await import('./commands/tokens-command.ts')).tokensCommand(args) },
  enrich: {
    summary: 'run an enricher: Kafka telemetry → QuestDB, commit after the write',
    run: async (args) => {
      useServiceV8Flags();
      return (await import('./commands/enrich-command.ts')).enrichCommand(args);
    },
  },
  replay: { summary: 'replay partition ranges of the telemetry topic into QuestDB, safely alongside live traffic', run: async (args) => (await import('./commands/replay-command.ts')).replayCommand(args) },
  bench: { summary: 'device-fleet simulator and end-to-end benchmark (loadtest/README.md)', run: async (args) => (await import('./commands/bench-command.ts')).benchCommand(args) },
  stack: { summary: 'start, stop or inspect the local Kafka + QuestDB stack', run: stackCommand },
  settings: { summary: 'list every setting (environment variable) each command reads; regenerate the README tables', run: settingsCommand },
};

const help = `Usage: tributary <command> [options]

Commands:
${Object.entries(commands)
  .map(([name, command]) => `  ${name.padEnd(10)}${command.summary}`)
  .join('\n')}

Run \`tributary <command> --help\` for a command's options.
`;

stopKafkajsIdleLoop();

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
exitAfterCommand();
