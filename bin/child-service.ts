/**
 * Runs a pipeline service (`tributary gateway`, `tributary enrich`) as a child process of
 * `tributary start`: its output goes to ours, it gets SIGTERM on stop (SIGKILL after the deadline),
 * and an unexpected exit is reported so the supervisor can stop everything.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import type { Lifecycle } from '../core/lifecycle.ts';
import { waitFor } from '../core/wait-for.ts';

const entryPoint = fileURLToPath(new URL('./tributary.ts', import.meta.url));

export interface ChildService {
  name: string;
  /** Resolves when the child exits, with its exit code (or the signal that ended it). */
  exited: Promise<string>;
  stop(deadlineMs: number): Promise<void>;
}

export function startChildService(name: string, args: readonly string[], env: NodeJS.ProcessEnv): ChildService {
  // Its own process group: a terminal's Ctrl-C reaches only the supervisor, which then stops the
  // children in order. A child also stops by itself if the supervisor dies (superviseParent).
  const child: ChildProcess = spawn(process.execPath, [entryPoint, ...args], {
    env: { ...env, TRIBUTARY_SUPERVISOR_PID: String(process.pid) },
    stdio: ['ignore', 'inherit', 'inherit'],
    detached: true,
  });
  let running = true;
  const exited = new Promise<string>((resolve) => {
    child.once('exit', (code, signal) => {
      running = false;
      resolve(signal ?? `code ${code}`);
    });
    child.once('error', (error) => {
      running = false;
      resolve(`failed to start: ${error.message}`);
    });
  });
  return {
    name,
    exited,
    async stop(deadlineMs) {
      if (!running) return;
      child.kill('SIGTERM');
      const timer = setTimeout(() => child.kill('SIGKILL'), deadlineMs);
      await exited;
      clearTimeout(timer);
    },
  };
}

/**
 * In a child started by startChildService: when the supervisor process is gone (even SIGKILLed),
 * request the same ordered shutdown as SIGTERM, so no service outlives `tributary start`.
 */
export function superviseParent(env: NodeJS.ProcessEnv, lifecycle: Lifecycle): void {
  const supervisor = Number(env.TRIBUTARY_SUPERVISOR_PID);
  if (!Number.isInteger(supervisor) || supervisor <= 0) return;
  waitFor(() => !isAlive(supervisor), { description: `supervisor ${supervisor} to exit`, timeoutMs: Infinity, intervalMs: 1000, signal: lifecycle.signal }).then(
    () => lifecycle.requestStop(`supervisor ${supervisor} exited`, 0),
    () => undefined, // stopping began for another reason: nothing left to watch
  );
}

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}
