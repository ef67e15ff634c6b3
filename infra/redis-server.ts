/**
 * The local stack's Redis: Debian's `redis-server` found on PATH (with an error that says what to
 * install), and the redis.conf the stack generates for it.
 */
import { execFile } from 'node:child_process';
import { access, constants } from 'node:fs/promises';
import { delimiter, join } from 'node:path';
import { promisify } from 'node:util';
import { MissingToolError } from './java-tools.ts';

const run = promisify(execFile);

export interface RedisServer {
  /** Absolute path, so a restart runs the same binary whatever PATH is then. */
  path: string;
  /** e.g. `7.0.15`, from `redis-server --version`. */
  version: string;
}

const installHint = 'On Debian/Ubuntu: sudo apt-get update && sudo apt-get install -y redis-server';

/** `Redis server v=7.0.15 sha=00000000:0 malloc=jemalloc-5.3.0 ...` → `7.0.15`. */
export function parseRedisVersion(output: string): string | null {
  return /\bv=(\d+\.\d+\.\d+)/.exec(output)?.[1] ?? null;
}

/** Finds `redis-server` on `env.PATH` and reads its version. */
export async function findRedisServer(env: NodeJS.ProcessEnv): Promise<RedisServer> {
  const directories = (env.PATH ?? '').split(delimiter).filter((directory) => directory !== '');
  let path: string | null = null;
  for (const directory of directories) {
    const candidate = join(directory, 'redis-server');
    if (await access(candidate, constants.X_OK).then(() => true, () => false)) {
      path = candidate;
      break;
    }
  }
  if (path === null) throw new MissingToolError(`redis-server was not found on PATH; the local stack runs Redis for the gateway's shared MQTT sessions. ${installHint}`);
  const { stdout } = await run(path, ['--version']);
  const version = parseRedisVersion(stdout);
  if (version === null) throw new MissingToolError(`cannot read the Redis version from \`${path} --version\`: ${stdout.trim()}`);
  return { path, version };
}

/** A redis.conf value in double quotes, as Redis's config parser reads them. */
function quoted(value: string): string {
  return `"${value.replace(/[\\"]/g, (char) => `\\${char}`)}"`;
}

/** redis.conf for a stack's Redis on `host:port`, its data in `dataDir`, logging to `logFile`. */
export function redisServerConf(options: { host: string; port: number; dataDir: string; logFile: string }): string {
  return [
    `bind ${options.host}`,
    `port ${options.port}`,
    // Loopback or the fault network only, and no password: the protection would only refuse our own clients.
    'protected-mode no',
    // Runs in the foreground as a managed process: its process group and watchdog stop it.
    'daemonize no',
    `dir ${quoted(options.dataDir)}`,
    `logfile ${quoted(options.logFile)}`,
    // Sessions and queued commands must survive a Redis restart: every write goes to the AOF, fsynced each second.
    'appendonly yes',
    'appendfsync everysec',
    // The AOF is the persistence; RDB snapshots would only add forks on a small machine.
    'save ""',
    // A full Redis refuses writes instead of evicting queued sessions.
    'maxmemory-policy noeviction',
    // The config path in the process title names the stack, so a leftover is found by `pgrep -f <stack dir>`.
    'proc-title-template "{title} {listen-addr} {server-mode} {config-file}"',
    '',
  ].join('\n');
}
