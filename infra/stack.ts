/**
 * The local stack: Apache Kafka (KRaft, 1 node or a 3-node cluster) and QuestDB as child JVMs, and
 * Redis (Debian's redis-server, AOF persistence), on loopback, for `npm start`, the integration tests
 * and the fault tests.
 *
 * State lives in <home>/stacks/<name>/ (data, logs, state.json). `startStack` refuses taken ports
 * and a stack that is already running, waits for real readiness, and on any failure stops what it
 * started. `stopStack` terminates every process group it recorded and waits for the ports to close.
 */
import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync } from 'node:fs';
import { mkdir, readFile, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { waitFor } from '../core/wait-for.ts';
import { ensureArtifacts } from './artifacts.ts';
import { createFaultNetwork, removeFaultNetwork, type FaultNetwork } from './fault-network.ts';
import { findJava } from './java-tools.ts';
import { kafkaLog4j2Properties, kafkaNodeProperties, questdbLogConf, questdbServerConf, serverJvmOptions, type QuestdbTuning } from './kafka-config.ts';
import { isGroupAlive, startManagedProcess, stopProcessGroup, type ManagedProcess } from './managed-process.ts';
import { assertPortsFree, waitForPortsFree } from './ports.ts';
import { kafkaBrokerCount, questdbAnswers, redisAnswersPing } from './readiness.ts';
import { findRedisServer, redisServerConf } from './redis-server.ts';
import { allPorts, stackPorts } from './stack-ports.ts';
import { mountTmpfs, unmountIfMounted } from './tmpfs-mount.ts';

const run = promisify(execFile);
export const stackHost = '127.0.0.1';

export interface StackOptions {
  name: string;
  /** Root for artifacts and stacks, e.g. ~/.cache/tributary. */
  home: string;
  portBase: number;
  brokers: 1 | 3;
  questdb: boolean;
  /** Run Redis too (the gateway's shared MQTT sessions): redis-server on PATH, AOF fsynced every second. */
  redis: boolean;
  /** Wipe the stack's data before starting. */
  fresh: boolean;
  /** Stop the stack's servers automatically when this process exits (tests, `npm start`). */
  ownerPid?: number;
  /** Listen on a veth pair's root-side address with a network namespace at its other end (network faults; needs root). */
  faultNetwork?: boolean;
  readyTimeoutMs: number;
  kafkaHeapMb: number;
  questdbHeapMb: number;
  /** QuestDB's server.conf tuning; small-box unless an A/B run asks for QuestDB's stock settings. */
  questdbTuning?: QuestdbTuning;
  /** Put QuestDB's root on a tmpfs of this many MiB, which a disk-full fault can fill (needs root). */
  questdbDiskMb?: number;
  env: NodeJS.ProcessEnv;
  log: (message: string) => void;
}

export interface StackState {
  name: string;
  dir: string;
  startedAt: string;
  /** Where the servers listen: stackHost, or the fault network's root-side address. */
  host?: string;
  network?: FaultNetwork;
  /** The process whose exit stops the servers (StackOptions.ownerPid); `restartRedis` ties the new Redis to it too. */
  ownerPid?: number;
  kafka: {
    version: string;
    java: string;
    bootstrap: string[];
    /** With a fault network (one node): a listener advertising `relayPort`, where a delay relay forwarding to `port` listens. */
    relayed?: { port: number; relayPort: number };
    /** `command`, `args`: the node's JVM command line, so `restartKafkaNode` starts it again the same way. */
    nodes: Array<{ nodeId: number; brokerPort: number; controllerPort: number; pgid: number; logFile: string; gcLogFile: string; command: string; args: string[] }>;
  };
  questdb: null | {
    version: string;
    java: string;
    httpUrl: string;
    pgPort: number;
    ilpTcpPort: number;
    pgid: number;
    logFile: string;
    gcLogFile: string;
    /** The data root, and the size of the tmpfs it is mounted on (null: the stack's own disk). */
    root: string;
    diskMb: number | null;
    /** The JVM's command line, so `restartQuestdb` starts it again the same way. */
    command: string;
    args: string[];
  };
  redis: null | {
    version: string;
    /** `redis://host:port`, what TRIBUTARY_GATEWAY_REDIS_URL takes. */
    url: string;
    port: number;
    pgid: number;
    logFile: string;
    /** redis-server and its config file, so `restartRedis` starts it again the same way. */
    command: string;
    args: string[];
  };
  ports: number[];
  readyAfterMs?: { kafka: number; questdb: number | null; redis: number | null; total: number };
}

export function stackDir(home: string, name: string): string {
  return join(home, 'stacks', name);
}

export async function readStackState(dir: string): Promise<StackState | null> {
  const file = join(dir, 'state.json');
  if (!existsSync(file)) return null;
  return JSON.parse(await readFile(file, 'utf8')) as StackState;
}

/** Every server process group the stack recorded, with its log. */
function stackServers(state: StackState): Array<{ pgid: number; logFile: string }> {
  // `?? null`: a state.json written before Redis was part of the stack has no `redis`.
  return [...state.kafka.nodes, ...[state.questdb, state.redis ?? null].filter((server) => server !== null)];
}

export function stackPgids(state: StackState): number[] {
  return stackServers(state).map((server) => server.pgid);
}

export function isStackRunning(state: StackState): boolean {
  return stackPgids(state).some(isGroupAlive);
}

/** QuestDB 9.4 and later are built for Java 25; 9.3.x runs on Java 17. */
export function questdbMinimumJava(version: string): number {
  const [major = 0, minor = 0] = version.split('.').map(Number);
  return major > 9 || (major === 9 && minor >= 4) ? 25 : 17;
}

async function tail(file: string, lines = 20): Promise<string> {
  try {
    return (await readFile(file, 'utf8')).split('\n').slice(-lines).join('\n');
  } catch {
    return '(no log)';
  }
}

export async function startStack(options: StackOptions): Promise<StackState> {
  const started = Date.now();
  const dir = stackDir(options.home, options.name);
  const previous = await readStackState(dir);
  if (previous && isStackRunning(previous)) {
    throw new Error(`stack "${options.name}" is already running (see \`tributary stack status\`); stop it with \`tributary stack down\``);
  }
  // A crashed run of this stack may have left its fault network behind.
  if (previous?.network) await removeFaultNetwork(previous.network);
  const ports = stackPorts(options.portBase, options.brokers);
  const portMap = allPorts(ports, { questdb: options.questdb, redis: options.redis });
  const relayed = options.faultNetwork && options.brokers === 1 ? { port: options.portBase + 94, relayPort: options.portBase + 95 } : undefined;
  if (relayed) Object.assign(portMap, { 'kafka relayed listener': relayed.port, 'kafka relay': relayed.relayPort });
  // A missing redis-server is said first: before the ports are checked, anything downloaded or started.
  const redisServer = options.redis ? await findRedisServer(options.env) : null;
  await assertPortsFree(stackHost, portMap);

  const artifacts = await ensureArtifacts(join(options.home, 'artifacts'), options.log);
  const kafkaJava = await findJava(options.env, 17, `Apache Kafka ${artifacts.kafkaVersion}`);
  const questdbJava = options.questdb
    ? await findJava(options.env, questdbMinimumJava(artifacts.questdbVersion), `QuestDB ${artifacts.questdbVersion}`)
    : null;

  // A run killed before `stopStack` may have left QuestDB's tmpfs mounted.
  await unmountIfMounted(join(dir, 'questdb'));
  if (options.fresh) await rm(dir, { recursive: true, force: true });
  await mkdir(dir, { recursive: true });
  const clusterIdFile = join(dir, 'cluster-id');
  // Kafka's Uuid form: 16 random bytes, base64url; one that starts with '-' would read as a CLI flag.
  let clusterId = existsSync(clusterIdFile) ? (await readFile(clusterIdFile, 'utf8')).trim() : '';
  while (clusterId === '' || clusterId.startsWith('-')) clusterId = randomBytes(16).toString('base64url');
  await writeFile(clusterIdFile, clusterId);
  const log4jFile = join(dir, 'log4j2.properties');
  await writeFile(log4jFile, kafkaLog4j2Properties);

  const classpath = join(artifacts.kafkaLibDir, '*');
  const network = options.faultNetwork ? await createFaultNetwork() : undefined;
  const host = network?.rootAddress ?? stackHost;
  const state: StackState = {
    name: options.name,
    dir,
    startedAt: new Date().toISOString(),
    host,
    ...(network && { network }),
    ...(options.ownerPid !== undefined && { ownerPid: options.ownerPid }),
    kafka: { version: artifacts.kafkaVersion, java: kafkaJava.versionLine, bootstrap: [], nodes: [], ...(relayed && { relayed }) },
    questdb: null,
    redis: null,
    ports: Object.values(portMap),
  };
  const processes: ManagedProcess[] = [];
  const saveState = (): Promise<void> => writeFile(join(dir, 'state.json'), JSON.stringify(state, null, 2));

  try {
    // Recorded before anything else starts, so a failure or a later `stack down` removes the network.
    if (network) await saveState();
    await Promise.all(
      ports.kafka.map(async (node) => {
        const nodeDir = join(dir, `kafka-${node.nodeId}`);
        await mkdir(join(nodeDir, 'logs'), { recursive: true });
        const propertiesFile = join(nodeDir, 'server.properties');
        await writeFile(
          propertiesFile,
          kafkaNodeProperties({
            host,
            node,
            voters: ports.kafka,
            dataDir: join(nodeDir, 'data'),
            defaultPartitions: 6,
            ...(relayed && { relayed: { port: relayed.port, advertisedPort: relayed.relayPort } }),
          }),
        );
        await run(kafkaJava.javaPath, ['-Xmx128m', '-cp', classpath, 'kafka.tools.StorageTool', 'format', '-t', clusterId, '-c', propertiesFile, '--ignore-formatted']);
      }),
    );
    for (const node of ports.kafka) {
      const nodeDir = join(dir, `kafka-${node.nodeId}`);
      const logFile = join(nodeDir, 'server.log');
      const gcLogFile = join(nodeDir, 'gc.log');
      const launch = {
        command: kafkaJava.javaPath,
        args: [
          ...serverJvmOptions({ heapMb: options.kafkaHeapMb, gcLogFile }),
          '-Djava.awt.headless=true',
          `-Dlog4j2.configurationFile=file:${log4jFile}`,
          `-Dkafka.logs.dir=${join(nodeDir, 'logs')}`,
          '-cp',
          classpath,
          'kafka.Kafka',
          join(nodeDir, 'server.properties'),
        ],
      };
      const child = startManagedProcess({ ...launch, logFile, ownerPid: options.ownerPid, env: options.env });
      processes.push(child);
      state.kafka.nodes.push({ ...node, pgid: child.pgid, logFile, gcLogFile, ...launch });
      state.kafka.bootstrap.push(`${host}:${node.brokerPort}`);
    }
    if (options.questdb && questdbJava) {
      const root = join(dir, 'questdb');
      await mkdir(root, { recursive: true });
      if (options.questdbDiskMb !== undefined) await mountTmpfs(root, options.questdbDiskMb);
      await mkdir(join(root, 'conf'), { recursive: true });
      await writeFile(
        join(root, 'conf', 'server.conf'),
        questdbServerConf({
          host,
          httpPort: ports.questdbHttp,
          httpMinPort: ports.questdbHttpMin,
          pgPort: ports.questdbPg,
          ilpTcpPort: ports.questdbIlpTcp,
          tuning: options.questdbTuning ?? 'small-box',
        }),
      );
      await writeFile(join(root, 'conf', 'log.conf'), questdbLogConf);
      const logFile = join(dir, 'questdb.log');
      const gcLogFile = join(dir, 'questdb-gc.log');
      const args = [
        ...serverJvmOptions({ heapMb: options.questdbHeapMb, gcLogFile }),
        '--add-exports',
        'java.base/jdk.internal.math=io.questdb',
        '-p',
        artifacts.questdbJar,
        '-m',
        'io.questdb/io.questdb.ServerMain',
        '-d',
        root,
        '-n',
      ];
      const child = startManagedProcess({ command: questdbJava.javaPath, args, logFile, ownerPid: options.ownerPid, env: options.env });
      processes.push(child);
      state.questdb = {
        version: artifacts.questdbVersion,
        java: questdbJava.versionLine,
        httpUrl: `http://${host}:${ports.questdbHttp}`,
        pgPort: ports.questdbPg,
        ilpTcpPort: ports.questdbIlpTcp,
        pgid: child.pgid,
        logFile,
        gcLogFile,
        root,
        diskMb: options.questdbDiskMb ?? null,
        command: questdbJava.javaPath,
        args,
      };
    }
    if (redisServer) {
      const redisDir = join(dir, 'redis');
      await mkdir(redisDir, { recursive: true });
      const confFile = join(redisDir, 'redis.conf');
      const logFile = join(dir, 'redis.log');
      await writeFile(confFile, redisServerConf({ host, port: ports.redis, dataDir: redisDir, logFile }));
      const launch = { command: redisServer.path, args: [confFile] };
      const child = startManagedProcess({ ...launch, logFile, ownerPid: options.ownerPid, env: options.env });
      processes.push(child);
      state.redis = { version: redisServer.version, url: `redis://${host}:${ports.redis}`, port: ports.redis, pgid: child.pgid, logFile, ...launch };
    }
    await saveState();

    const deadProcess = (): string | null => {
      const dead = stackServers(state).find((server) => !isGroupAlive(server.pgid));
      return dead ? `process exited; see ${dead.logFile}` : null;
    };
    const ready = (what: string, probe: () => Promise<boolean>): Promise<number> =>
      waitFor(probe, { description: `${what} to be ready`, timeoutMs: options.readyTimeoutMs, intervalMs: 250, hopeless: deadProcess });
    const questdbUrl = state.questdb?.httpUrl;
    const redisPort = state.redis?.port;
    const [kafkaMs, questdbMs, redisMs] = await Promise.all([
      ready(`Kafka (${options.brokers} broker${options.brokers > 1 ? 's' : ''})`, async () => (await kafkaBrokerCount(state.kafka.bootstrap)) === options.brokers),
      questdbUrl ? ready('QuestDB', () => questdbAnswers(questdbUrl)) : Promise.resolve(null),
      redisPort === undefined ? Promise.resolve(null) : ready('Redis', () => redisAnswersPing(host, redisPort)),
    ]);
    state.readyAfterMs = { kafka: kafkaMs, questdb: questdbMs, redis: redisMs, total: Date.now() - started };
    await saveState();
    return state;
  } catch (error) {
    const logs = await Promise.all(stackServers(state).map(async ({ logFile }) => `--- ${logFile}\n${await tail(logFile)}`));
    await stopStack(dir, () => undefined).catch(() => undefined);
    throw new Error(`${error instanceof Error ? error.message : String(error)}\n${logs.join('\n')}`, { cause: error });
  }
}

/**
 * Starts one Kafka node of a running stack again, as `startStack` launched it (a fault test killed
 * it), records its new process group in state.json and resolves once every node is a broker of the
 * cluster again. Waits first for the node's old process group to be gone.
 */
export async function restartKafkaNode(dir: string, nodeId: number, options: { ownerPid?: number; env?: NodeJS.ProcessEnv; readyTimeoutMs: number }): Promise<StackState> {
  const state = await readStackState(dir);
  const node = state?.kafka.nodes.find((candidate) => candidate.nodeId === nodeId);
  if (!state || !node) throw new Error(`no Kafka node ${nodeId} in the stack at ${dir}`);
  await waitFor(() => !isGroupAlive(node.pgid), { description: `Kafka node ${nodeId}'s old process group ${node.pgid} to exit`, timeoutMs: 30_000, intervalMs: 100 });
  const child = startManagedProcess({ command: node.command, args: node.args, logFile: node.logFile, ownerPid: options.ownerPid, env: options.env });
  node.pgid = child.pgid;
  await writeFile(join(dir, 'state.json'), JSON.stringify(state, null, 2));
  await waitFor(async () => (await kafkaBrokerCount(state.kafka.bootstrap).catch(() => 0)) === state.kafka.nodes.length, {
    description: `Kafka node ${nodeId} to rejoin the cluster`,
    timeoutMs: options.readyTimeoutMs,
    intervalMs: 250,
    hopeless: () => (isGroupAlive(child.pgid) ? null : `Kafka node ${nodeId} exited; see ${node.logFile}`),
  });
  return state;
}

const stopSigtermMs = 30_000;
const stopPortsMs = 10_000;
/** The longest `stopStack` takes: SIGTERM, SIGKILL after 30 s, then up to 10 s for the ports to close. */
export const stackStopBoundMs = stopSigtermMs + stopPortsMs;

/**
 * Starts the QuestDB of a stack again on the same data, the way `startStack` started it (QuestDB
 * recovers its WAL on start), after a fault killed it; waits until it answers queries. Refuses while
 * the old one still runs. The new process group is recorded in state.json.
 */
export async function restartQuestdb(dir: string, options: { ownerPid?: number; env: NodeJS.ProcessEnv; readyTimeoutMs: number }): Promise<StackState> {
  const state = await readStackState(dir);
  const questdb = state?.questdb;
  if (!state || !questdb) throw new Error(`no QuestDB recorded in ${join(dir, 'state.json')}`);
  if (isGroupAlive(questdb.pgid)) throw new Error(`QuestDB of stack "${state.name}" (process group ${questdb.pgid}) is still running`);
  const child = startManagedProcess({ command: questdb.command, args: questdb.args, logFile: questdb.logFile, ownerPid: options.ownerPid, env: options.env });
  questdb.pgid = child.pgid;
  await writeFile(join(dir, 'state.json'), JSON.stringify(state, null, 2));
  await waitFor(() => questdbAnswers(questdb.httpUrl), {
    description: 'QuestDB to be ready again',
    timeoutMs: options.readyTimeoutMs,
    intervalMs: 250,
    hopeless: () => (isGroupAlive(child.pgid) ? null : `process exited; see ${questdb.logFile}`),
  });
  return state;
}

async function recordedRedis(dir: string): Promise<{ state: StackState; redis: NonNullable<StackState['redis']>; host: string }> {
  const state = await readStackState(dir);
  const redis = state?.redis;
  if (!state || !redis) throw new Error(`no Redis recorded in ${join(dir, 'state.json')}`);
  return { state, redis, host: state.host ?? stackHost };
}

/**
 * Stops the Redis of a running stack (a test inflicting a Redis outage): SIGTERM, on which Redis
 * fsyncs its AOF, so every write it acknowledged is there when `restartRedis` brings it back.
 * Resolves once its port is closed; rejects if Redis had to be killed or the port stays open.
 */
export async function stopRedis(dir: string): Promise<void> {
  const { state, redis, host } = await recordedRedis(dir);
  const outcome = await stopProcessGroup(redis.pgid, stopSigtermMs);
  if (outcome === 'killed') throw new Error(`Redis of stack "${state.name}" did not stop on SIGTERM within ${stopSigtermMs / 1000} s and was killed; see ${redis.logFile}`);
  const busy = await waitForPortsFree(host, [redis.port], stopPortsMs);
  if (busy.length > 0) throw new Error(`Redis of stack "${state.name}" stopped, but ${host}:${redis.port} is still in use`);
}

/**
 * Starts the Redis of a stack again on the same data and config, the way `startStack` started it,
 * tied to the stack's owner process (not the caller, which may be a short-lived test worker); waits
 * until it answers PING, that is until it has loaded its AOF. Refuses while the old one still runs.
 * The new process group is recorded in state.json.
 */
export async function restartRedis(dir: string, options: { readyTimeoutMs: number; env?: NodeJS.ProcessEnv }): Promise<StackState> {
  const { state, redis, host } = await recordedRedis(dir);
  if (isGroupAlive(redis.pgid)) throw new Error(`Redis of stack "${state.name}" (process group ${redis.pgid}) is still running; stop it with stopRedis first`);
  const child = startManagedProcess({ command: redis.command, args: redis.args, logFile: redis.logFile, ownerPid: state.ownerPid, env: options.env ?? process.env });
  redis.pgid = child.pgid;
  await writeFile(join(dir, 'state.json'), JSON.stringify(state, null, 2));
  await waitFor(() => redisAnswersPing(host, redis.port), {
    description: 'Redis to answer PING again',
    timeoutMs: options.readyTimeoutMs,
    intervalMs: 100,
    hopeless: () => (isGroupAlive(child.pgid) ? null : `process exited; see ${redis.logFile}`),
  });
  return state;
}

/** Stops every process the stack recorded and unmounts QuestDB's tmpfs; returns what it did. Safe to call when nothing runs. */
/**
 * The cleanup of a caller that starts a stack tied to its own process (`ownerPid`): stops the stack
 * in `dir` only when that process started it. A start refused because another process's stack of
 * the same name is running (a second `npm start`, a benchmark given a running stack's name) must
 * leave that stack alone. Without a state.json (a start that failed early) it only unmounts.
 */
export async function stopOwnStack(dir: string, ownerPid: number, log: (message: string) => void): Promise<void> {
  const state = await readStackState(dir);
  if (state === null || state.ownerPid === ownerPid) await stopStack(dir, log);
}

export async function stopStack(dir: string, log: (message: string) => void): Promise<{ stopped: number; portsStillBusy: number[] }> {
  const state = await readStackState(dir);
  // Also without a state.json: a start that failed early may have mounted it already.
  if (!state) {
    await unmountIfMounted(join(dir, 'questdb'));
    return { stopped: 0, portsStillBusy: [] };
  }
  // All at once: QuestDB flushes quickly, Redis fsyncs its AOF, and the Kafka nodes stop together so the quorum can finish.
  const outcomes = await Promise.all(stackPgids(state).map((pgid) => stopProcessGroup(pgid, stopSigtermMs)));
  const stopped = outcomes.filter((outcome) => outcome !== 'absent').length;
  for (const [index, outcome] of outcomes.entries()) {
    if (outcome === 'killed') log(`process group ${stackPgids(state)[index]} did not stop on SIGTERM within ${stopSigtermMs / 1000} s and was killed`);
  }
  const portsStillBusy = await waitForPortsFree(state.host ?? stackHost, state.ports, stopPortsMs);
  await unmountIfMounted(join(dir, 'questdb'));
  if (state.network) await removeFaultNetwork(state.network);
  return { stopped, portsStillBusy };
}
