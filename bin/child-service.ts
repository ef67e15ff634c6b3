/**
 * Supervision for `tributary start`: runs a pipeline service (`tributary gateway`, `tributary enrich`)
 * as a child process whose output goes to ours, that gets SIGTERM on stop (SIGKILL after the
 * deadline) and whose unexpected exit is reported; and ties each process to the one that started
 * it, so that nothing outlives its launcher, however that launcher dies.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import type { Lifecycle } from '../core/lifecycle.ts';
import { waitFor } from '../core/wait-for.ts';

const entryPoint = fileURLToPath(new URL('./tributary.ts', import.meta.url));

export interface ChildService {
  name: string;
  pid: number | undefined;
  /** Resolves when the child exits, with its exit code (or the signal that ended it). */
  exited: Promise<string>;
  stop(deadlineMs: number): Promise<void>;
}

export function startChildService(name: string, args: readonly string[], env: NodeJS.ProcessEnv): ChildService {
  // Its own process group: a terminal's Ctrl-C reaches only the supervisor, which then stops the
  // children in order. The IPC channel carries no messages: the kernel closes our end when we die,
  // even by SIGKILL, and the child sees that at once (superviseParent).
  const child: ChildProcess = spawn(process.execPath, [entryPoint, ...args], {
    env: { ...env, TRIBUTARY_SUPERVISOR_PID: String(process.pid) },
    stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
    detached: true,
  });
  child.channel?.unref();
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
    pid: child.pid,
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
 * In a child started by startChildService: when the supervisor is gone (even SIGKILLed), request
 * the same ordered shutdown as SIGTERM, so no service outlives `tributary start`. The supervisor's
 * end of the IPC channel closing tells at once; without a channel, the parent is polled.
 */
export function superviseParent(env: NodeJS.ProcessEnv, lifecycle: Lifecycle): void {
  const supervisor = Number(env.TRIBUTARY_SUPERVISOR_PID);
  if (!Number.isInteger(supervisor) || supervisor <= 0) return;
  const reason = `supervisor ${supervisor} exited`;
  if (process.channel === undefined) {
    stopWhenParentExits(lifecycle, 'supervisor');
    return;
  }
  // The channel must not keep this process alive once it has stopped.
  process.channel.unref();
  if (!process.connected) lifecycle.requestStop(reason, 0);
  else process.once('disconnect', () => lifecycle.requestStop(reason, 0));
}

/** How often a process checks that its parent is still there (one cheap syscall). */
const parentPollMs = 1000;

/**
 * Requests a graceful stop when this process's parent exits, however it exits (npm SIGKILLed, the
 * shell that ran it gone): the parent pid then changes, as orphans are re-parented. A parent pid
 * that is already init's means there is no launcher to outlive.
 */
export function stopWhenParentExits(lifecycle: Lifecycle, parentName: string): void {
  const parent = process.ppid;
  if (parent <= 1) return;
  waitFor(() => process.ppid !== parent, { description: `${parentName} ${parent} to exit`, timeoutMs: Infinity, intervalMs: parentPollMs, signal: lifecycle.signal }).then(
    () => lifecycle.requestStop(`${parentName} ${parent} exited`, 0),
    () => undefined, // stopping began for another reason: nothing left to watch
  );
}
