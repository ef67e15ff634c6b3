/**
 * Runs one pipeline service (`node bin/tributary.ts gateway|enrich`) as a child process, so the
 * benchmark can measure its CPU and memory apart from the load generator's. The child runs under
 * the stack's owner watchdog (infra/managed-process.ts): if the benchmark dies, so does the child.
 */
import { execFile } from 'node:child_process';
import { createServer } from 'node:net';
import { readFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { waitFor } from '../core/wait-for.ts';
import { isGroupAlive, startManagedProcess, stopProcessGroup } from '../infra/managed-process.ts';
import { findProcesses } from './process-usage.ts';

const entryPoint = resolve(fileURLToPath(new URL('../bin/tributary.ts', import.meta.url)));

export interface PipelineProcess {
  name: string;
  /** The node process itself (not its watchdog shell), for /proc sampling. */
  pid: number;
  logFile: string;
  /** Its health endpoint; /metrics beside it. */
  readyUrl: string;
  /** SIGTERM, then SIGKILL after `graceMs`. Idempotent. */
  stop(graceMs?: number): Promise<void>;
  /** SIGKILL at once (a crash), and wait until the process group is gone. */
  kill(): Promise<void>;
}

/** A TCP port that was free a moment ago on 127.0.0.1. */
export async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((done, fail) => server.once('error', fail).listen(0, '127.0.0.1', done));
  const address = server.address();
  await new Promise<void>((done) => server.close(() => done()));
  if (address === null || typeof address === 'string') throw new Error('could not find a free port');
  return address.port;
}

async function tail(file: string, lines = 30): Promise<string> {
  try {
    return (await readFile(file, 'utf8')).split('\n').slice(-lines).join('\n');
  } catch {
    return '(no log)';
  }
}

/**
 * Starts `tributary <command>` with `env` added to this process's environment, logging to
 * `<logDir>/<name>.log`, and waits until `readyUrl` answers 200 (or fails with the log's tail).
 */
export async function startPipelineProcess(options: {
  name: string;
  command: string;
  env: Record<string, string>;
  readyUrl: string;
  logDir: string;
  readyTimeoutMs: number;
  /** Run inside this network namespace (`ip netns exec`, which execs node in place). */
  namespace?: string;
}): Promise<PipelineProcess> {
  const logFile = join(options.logDir, `${options.name}.log`);
  const node = [process.execPath, entryPoint, options.command];
  const child = startManagedProcess({
    command: options.namespace === undefined ? node[0]! : 'ip',
    args: options.namespace === undefined ? node.slice(1) : ['netns', 'exec', options.namespace, ...node],
    logFile,
    ownerPid: process.pid,
    env: { ...process.env, ...options.env },
  });
  let stopped: Promise<void> | undefined;
  const stop = (graceMs = 30_000): Promise<void> => (stopped ??= stopProcessGroup(child.pgid, graceMs).then(() => undefined));
  try {
    await waitFor(async () => (await fetch(options.readyUrl, { signal: AbortSignal.timeout(2000) })).ok, {
      description: `${options.name} to be ready at ${options.readyUrl}`,
      timeoutMs: options.readyTimeoutMs,
      intervalMs: 200,
      hopeless: () => (isGroupAlive(child.pgid) ? null : 'it exited during start-up'),
    });
    // Node 24 names its main thread "MainThread", so pick the group member that is not the watchdog.
    const [pid] = await findProcesses((stat) => stat.processGroup === child.pgid && stat.pid !== child.pgid && stat.command !== 'bash' && stat.command !== 'sleep');
    if (pid === undefined) throw new Error(`${options.name}: no node process in group ${child.pgid}`);
    const kill = async (): Promise<void> => {
      try {
        process.kill(-child.pgid, 'SIGKILL');
      } catch {
        // already gone
      }
      await stop(1000);
    };
    return { name: options.name, pid, logFile, readyUrl: options.readyUrl, stop, kill };
  } catch (error) {
    await stop(5000);
    throw new Error(`${error instanceof Error ? error.message : String(error)}; ${logFile}:\n${await tail(logFile)}`, { cause: error });
  }
}

/** Runs `tributary <args>` to its end with `env` added; rejects with its output when it exits non-zero. */
export async function runTributary(args: readonly string[], env: Record<string, string>, timeoutMs: number): Promise<{ stdout: string; stderr: string }> {
  const { stdout, stderr } = await promisify(execFile)(process.execPath, [entryPoint, ...args], { env: { ...process.env, ...env }, timeout: timeoutMs, maxBuffer: 64 * 1024 * 1024 });
  return { stdout, stderr };
}
