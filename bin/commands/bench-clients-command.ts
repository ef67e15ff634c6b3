/**
 * `tributary bench clients`: the Kafka client comparison (loadtest/client-compare.ts). Reads the
 * environment here only; starts a single-node local stack unless brokers are given.
 */
import { mkdir, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { readSettings } from '../../core/settings.ts';
import { readStackState, stackDir, startStack, stopOwnStack, type StackState } from '../../infra/stack.ts';
import { cellPlan, ensureNodeRdkafka, formatClientCompareTable, parseClientList, runClientCompare, type ClientName } from '../../loadtest/client-compare.ts';
import { intFlag, parseCommandArgs, rangedIntFlag, UsageError } from '../cli-args.ts';
import { commandSettings, createProcessEnvReader } from '../settings-catalog.ts';
import { readStackSettings } from '../stack-settings.ts';

const rdkafkaVersion = '3.6.1';

const help = `Usage: tributary bench clients [options]

Compares the Kafka producers (kafkajs, @platformatic/kafka, node-rdkafka) through the same
KafkaProducerPort: idempotent, acks=all, the gateway's batching settings. Per client: maximum
throughput with a bounded number of outstanding sends, then ack latency at fixed offered rates;
afterwards each topic's end offsets must cover every acknowledged send.

  --clients <list>           kafkajs,platformatic,rdkafka (default: all three)
  --concurrency <n1,n2,...>  outstanding sends for the throughput cells (default 1000,10000)
  --rate <r1,r2,...>         offered msg/s for the latency cells (default 10000,20000)
  --duration <s>             seconds per cell (default 10)
  --warmup <s>               unmeasured seconds before each cell (default 2)
  --rounds <n>               repeat every cell n times, clients interleaved and rotated; the
                             table adds the medians (default 1)
  --devices <n>              simulated devices = distinct keys (default 1000)
  --partitions <n>           partitions of each bench topic (default 6)
  --linger <ms>              producer linger (default $TRIBUTARY_KAFKA_LINGER_MS or 3, as the gateway)
  --max-batch <n>            records per request (default $TRIBUTARY_KAFKA_MAX_BATCH_RECORDS or 2000)
  --send-timeout <ms>        (default $TRIBUTARY_KAFKA_SEND_TIMEOUT_MS or 10000)
  --brokers <host:port,...>  use these brokers (default $TRIBUTARY_KAFKA_BROKERS); otherwise a fresh
                             single-node local stack is started and stopped at the end
  --stack-name <name>        that stack's name (default clients)
  --port-base <port>         its port base (default $TRIBUTARY_STACK_PORT_BASE or 19000)
  --rdkafka-poll <ms>        node-rdkafka delivery-report poll interval (default 5)
  --rdkafka-cache <dir>      where node-rdkafka ${rdkafkaVersion} is built on first use
                             (default $TRIBUTARY_HOME/clients, i.e. ~/.cache/tributary/clients)
  --out <file>               result JSON (default results/clients-<timestamp>.json)

node-rdkafka is not a project dependency: on first use it is installed into the cache with
\`npm install\`, built against this Node's headers (fetched from the npm registry as
node-<platform>-<arch>@<node version>). That takes 2-3 minutes; if it fails, rdkafka is skipped.
`;

const options = {
  clients: { type: 'string' },
  concurrency: { type: 'string' },
  rate: { type: 'string' },
  duration: { type: 'string' },
  warmup: { type: 'string' },
  rounds: { type: 'string' },
  devices: { type: 'string' },
  partitions: { type: 'string' },
  linger: { type: 'string' },
  'max-batch': { type: 'string' },
  'send-timeout': { type: 'string' },
  brokers: { type: 'string' },
  'stack-name': { type: 'string' },
  'port-base': { type: 'string' },
  'rdkafka-poll': { type: 'string' },
  'rdkafka-cache': { type: 'string' },
  out: { type: 'string' },
} as const;

function positiveList(text: string | undefined, name: string, fallback: number[]): number[] {
  if (text === undefined) return fallback;
  const list = text.split(',').map((item) => intFlag(item.trim(), name, 0));
  if (list.length === 0 || list.some((value) => value <= 0)) throw new UsageError(`--${name} expects positive whole numbers separated by commas`);
  return list;
}

export async function benchClientsCommand(args: readonly string[]): Promise<number> {
  const parsed = parseCommandArgs(args, options, help);
  if (!parsed) return 0;
  const values = parsed.values;
  if (parsed.positionals.length > 0) throw new UsageError(`unexpected argument ${JSON.stringify(parsed.positionals[0])}\n\n${help}`);

  let clients: ClientName[];
  try {
    clients = parseClientList(values.clients ?? 'kafkajs,platformatic,rdkafka');
  } catch (error) {
    throw new UsageError(`--clients: ${error instanceof Error ? error.message : String(error)}`);
  }
  const env = createProcessEnvReader();
  const settings = readStackSettings(env);
  const { kafkaBrokers, lingerMs: envLinger, maxBatchRecords: envMaxBatch, sendTimeoutMs: envSendTimeout } = readSettings(env, commandSettings.bench);
  const envBrokers = env.isSet(commandSettings.bench.kafkaBrokers.name) ? kafkaBrokers : [];
  env.finish();

  const cells = cellPlan(positiveList(values.concurrency, 'concurrency', [1000, 10_000]), positiveList(values.rate, 'rate', [10_000, 20_000]));
  const producerSettings = {
    lingerMs: rangedIntFlag(values.linger, 'linger', envLinger, 0, 1000),
    maxBatchRecords: rangedIntFlag(values['max-batch'], 'max-batch', envMaxBatch, 1, 1_000_000),
    sendTimeoutMs: rangedIntFlag(values['send-timeout'], 'send-timeout', envSendTimeout, 100, 120_000),
    rdkafkaPollIntervalMs: rangedIntFlag(values['rdkafka-poll'], 'rdkafka-poll', 5, 1, 1000),
  };
  const load = {
    devices: rangedIntFlag(values.devices, 'devices', 1000, 1, 1_000_000),
    partitions: rangedIntFlag(values.partitions, 'partitions', 6, 1, 1000),
    cellDurationMs: rangedIntFlag(values.duration, 'duration', 10, 1, 3600) * 1000,
    warmupMs: rangedIntFlag(values.warmup, 'warmup', 2, 0, 600) * 1000,
    rounds: rangedIntFlag(values.rounds, 'rounds', 1, 1, 100),
  };
  const out = values.out ?? join('results', `clients-${new Date().toISOString().replace(/[:.]/g, '-')}.json`);
  const log = (message: string): void => void process.stderr.write(`${message}\n`);

  const rdkafka = clients.includes('rdkafka')
    ? await ensureNodeRdkafka({ cacheDir: values['rdkafka-cache'] ?? join(settings.home, 'clients'), version: rdkafkaVersion, env: process.env, log })
    : ({ ok: false, reason: 'not requested' } as const);
  if (rdkafka.ok) log(`node-rdkafka ${rdkafkaVersion} (librdkafka ${rdkafka.module.librdkafkaVersion}) from ${rdkafka.dir}`);

  const givenBrokers = values.brokers !== undefined ? values.brokers.split(',').map((item) => item.trim()).filter((item) => item !== '') : envBrokers;
  const run = async (brokers: string[]): Promise<number> => {
    const result = await runClientCompare({ brokers, clients, cells, ...producerSettings, ...load, rdkafka, log });
    await mkdir(dirname(out), { recursive: true });
    await writeFile(out, JSON.stringify(result, null, 2) + '\n');
    process.stdout.write(`${formatClientCompareTable(result)}\n\nresult: ${out}\n`);
    const missing = result.cells.filter((cell) => !cell.check.ok);
    if (missing.length > 0) {
      process.stderr.write(`end offsets below acknowledged sends in ${missing.map((cell) => `${cell.client}/${cell.topic}`).join(', ')}\n`);
      return 1;
    }
    return 0;
  };
  if (givenBrokers.length > 0) return run(givenBrokers);

  const name = values['stack-name'] ?? 'clients';
  const dir = stackDir(settings.home, name);
  log(`starting local stack "${name}" (single Kafka node, no QuestDB)...`);
  let state: StackState | null = null;
  try {
    state = await startStack({
      ...settings,
      name,
      portBase: rangedIntFlag(values['port-base'], 'port-base', settings.portBase, 1024, 65_000),
      brokers: 1,
      questdb: false,
      redis: false,
      fresh: true,
      ownerPid: process.pid,
      env: process.env,
      log,
    });
    return await run(state.kafka.bootstrap);
  } finally {
    if (state ?? (await readStackState(dir))) await stopOwnStack(dir, process.pid, log);
  }
}
