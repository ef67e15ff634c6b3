/**
 * `tributary bench consumers`: the consumer comparison (loadtest/consumer-compare.ts). Reads the
 * environment here only; starts its own local stacks (one Kafka node for the throughput runs,
 * three for the fault runs) and stops them at the end.
 */
import { mkdir, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { readSettings } from '../../core/settings.ts';
import { enrichSettings } from '../../enrich/enrich-config.ts';
import { readStackState, restartKafkaNode, stackDir, startStack, stopOwnStack, type StackState } from '../../infra/stack.ts';
import { consumerAdapterNames, formatConsumerCompareTable, runConsumerFaults, runConsumerLive, runConsumerThroughput, type ConsumerAdapterName, type FaultRun } from '../../loadtest/consumer-compare.ts';
import { parseCommandArgs, rangedIntFlag, UsageError } from '../cli-args.ts';
import { createProcessEnvReader } from '../settings-catalog.ts';
import { readStackSettings } from '../stack-settings.ts';

const help = `Usage: tributary bench consumers [options]

Compares the enricher's group consumer adapters (kafkajs, @platformatic/kafka) through the same
GroupConsumerPort, with the enricher's fetch settings: a preloaded telemetry topic read by one
member process per run that only counts and commits; records/s and CPU µs per record of that
process, adapters alternated. With --faults, then on a 3-broker stack: a second member joins
and a broker is killed mid-run; every offset must be counted and committed.

  --adapters <list>          kafkajs,platformatic (default: both)
  --records <n>              records preloaded for the throughput runs (default 500000)
  --partitions <n>           partitions of the topic (default 12)
  --rounds <n>               throughput runs per adapter, alternated (default 2)
  --live-rate <n>            also run live runs: records arrive at this rate (records/s) while the
                             member reads, as the enricher sees them (default: no live runs)
  --live-duration <s>        seconds of arrivals per live run (default 20)
  --faults                   also run the fault runs (3 Kafka nodes)
  --fault-records <n>        records of the fault topic (default 150000)
  --fault-rate <n>           records/s per member in the fault runs (default 5000)
  --stack-name <name>        the stacks' name (default consumers)
  --port-base <port>         their port base (default $TRIBUTARY_STACK_PORT_BASE or 19000)
  --out <file>               result JSON (default results/consumers-<timestamp>.json)
`;

const options = {
  adapters: { type: 'string' },
  records: { type: 'string' },
  partitions: { type: 'string' },
  rounds: { type: 'string' },
  'live-rate': { type: 'string' },
  'live-duration': { type: 'string' },
  faults: { type: 'boolean', default: false },
  'fault-records': { type: 'string' },
  'fault-rate': { type: 'string' },
  'stack-name': { type: 'string' },
  'port-base': { type: 'string' },
  out: { type: 'string' },
} as const;

function parseAdapters(text: string): ConsumerAdapterName[] {
  const names = text.split(',').map((item) => item.trim()).filter((item) => item !== '');
  const unknown = names.filter((name) => !(consumerAdapterNames as readonly string[]).includes(name));
  if (unknown.length > 0 || names.length === 0) throw new UsageError(`--adapters: unknown ${JSON.stringify(unknown)}; expected some of ${consumerAdapterNames.join(', ')}`);
  return [...new Set(names as ConsumerAdapterName[])];
}

export async function benchConsumersCommand(args: readonly string[]): Promise<number> {
  const parsed = parseCommandArgs(args, options, help);
  if (!parsed) return 0;
  const values = parsed.values;
  if (parsed.positionals.length > 0) throw new UsageError(`unexpected argument ${JSON.stringify(parsed.positionals[0])}\n\n${help}`);
  const env = createProcessEnvReader();
  const settings = readStackSettings(env);
  // The enricher's consumer settings (its defaults unless set): the comparison is of the consumer the enricher would run.
  const enrich = readSettings(env, { partitionsConcurrently: enrichSettings.partitionsConcurrently, fetchMinBytes: enrichSettings.fetchMinBytes, fetchMaxWaitMs: enrichSettings.fetchMaxWaitMs });
  env.finish();

  const adapters = parseAdapters(values.adapters ?? consumerAdapterNames.join(','));
  const common = {
    adapters,
    partitions: rangedIntFlag(values.partitions, 'partitions', 12, 1, 1000),
    rounds: rangedIntFlag(values.rounds, 'rounds', 2, 1, 100),
    partitionsConcurrently: enrich.partitionsConcurrently,
    fetch: { minBytes: enrich.fetchMinBytes, maxWaitMs: enrich.fetchMaxWaitMs },
    log: (message: string): void => void process.stderr.write(`${message}\n`),
  };
  const records = rangedIntFlag(values.records, 'records', 500_000, 1000, 100_000_000);
  const faultRecords = rangedIntFlag(values['fault-records'], 'fault-records', 150_000, 1000, 10_000_000);
  const faultRate = rangedIntFlag(values['fault-rate'], 'fault-rate', 5000, 100, 1_000_000);
  const name = values['stack-name'] ?? 'consumers';
  const portBase = rangedIntFlag(values['port-base'], 'port-base', settings.portBase, 1024, 65_000);
  const dir = stackDir(settings.home, name);
  const out = values.out ?? join('results', `consumers-${new Date().toISOString().replace(/[:.]/g, '-')}.json`);

  const withStack = async <T>(brokers: 1 | 3, run: (state: StackState) => Promise<T>): Promise<T> => {
    common.log(`starting local stack "${name}" (${brokers} Kafka node${brokers === 1 ? '' : 's'}, no QuestDB)...`);
    let state: StackState | null = null;
    try {
      state = await startStack({ ...settings, kafkaHeapMb: brokers === 1 ? settings.kafkaHeapMb : 256, name, portBase, brokers, questdb: false, redis: false, fresh: true, ownerPid: process.pid, env: process.env, log: common.log });
      return await run(state);
    } finally {
      if (state ?? (await readStackState(dir))) await stopOwnStack(dir, process.pid, common.log);
    }
  };

  const startedAt = new Date().toISOString();
  const liveRate = values['live-rate'] === undefined ? null : rangedIntFlag(values['live-rate'], 'live-rate', 10_000, 100, 1_000_000);
  const liveDurationS = rangedIntFlag(values['live-duration'], 'live-duration', 20, 1, 3600);
  const { runs, live } = await withStack(1, async (state) => ({
    runs: await runConsumerThroughput({ ...common, brokers: state.kafka.bootstrap, records }),
    live: liveRate === null ? [] : await runConsumerLive({ ...common, brokers: state.kafka.bootstrap, records, ratePerSec: liveRate, durationS: liveDurationS }),
  }));
  let faults: FaultRun[] = [];
  if (values.faults) {
    faults = await withStack(3, (state) => {
      const victim = state.kafka.nodes[2]!;
      return runConsumerFaults({
        ...common,
        brokers: state.kafka.bootstrap,
        records: faultRecords,
        ratePerSec: faultRate,
        joinAtShare: 0.2,
        killAtShare: 0.5,
        killBroker: async () => {
          const current = await readStackState(dir);
          process.kill(-(current?.kafka.nodes.find((node) => node.nodeId === victim.nodeId)?.pgid ?? victim.pgid), 'SIGKILL');
          return victim.nodeId;
        },
        restartBroker: async () => void (await restartKafkaNode(dir, victim.nodeId, { ownerPid: process.pid, env: process.env, readyTimeoutMs: 120_000 })),
      });
    });
  }
  await mkdir(dirname(out), { recursive: true });
  await writeFile(out, JSON.stringify({ startedAt, node: process.version, settings: { records, faultRecords, faultRate, ...common, log: undefined }, runs, faults }, null, 2) + '\n');
  process.stdout.write(`${formatConsumerCompareTable(runs, faults)}\n`);
  if (live.length > 0) process.stdout.write(`\nlive, ${liveRate} records/s arriving:\n${formatConsumerCompareTable(live, [])}\n`);
  process.stdout.write(`\nresult: ${out}\n`);
  const bad = [...runs, ...live].some((run) => run.missing > 0) || faults.some((run) => run.missing > 0 || !run.committedToEnd);
  return bad ? 1 : 0;
}
