/**
 * Pauses a server JVM with SIGSTOP and resumes it with SIGCONT: to its peers the process is
 * alive (its sockets stay open, the kernel still accepts connections) but answers nothing, the
 * failure a long GC pause, a frozen VM or a stalled disk looks like. Longer than the gateway's
 * send timeout, every in-flight Kafka send of a paused broker fails.
 */
import { readFile } from 'node:fs/promises';
import { waitFor } from '../../core/wait-for.ts';
import type { Fault, FaultEnvironment } from './fault.ts';

/** Whether the kernel reports the process as stopped (state T in /proc/<pid>/stat). */
async function isStopped(pid: number): Promise<boolean> {
  const stat = await readFile(`/proc/${pid}/stat`, 'utf8');
  // The state follows the command name, which is in parentheses and may contain spaces.
  return stat.slice(stat.lastIndexOf(')') + 2, stat.lastIndexOf(')') + 3) === 'T';
}

/** SIGSTOP `pid`; resolves once the kernel has stopped it. */
export async function pauseProcess(pid: number, what: string): Promise<void> {
  process.kill(pid, 'SIGSTOP');
  await waitFor(() => isStopped(pid), { description: `${what} (pid ${pid}) to stop`, timeoutMs: 5000, intervalMs: 20 });
}

/** SIGCONT `pid`; resolves once it runs again. */
export async function resumeProcess(pid: number, what: string): Promise<void> {
  process.kill(pid, 'SIGCONT');
  await waitFor(async () => !(await isStopped(pid)), { description: `${what} (pid ${pid}) to resume`, timeoutMs: 5000, intervalMs: 20 });
}

/** The pid of a server role (`kafka`, `kafka-<id>`, `questdb`), or an error naming the known ones. */
export function serverPid(environment: FaultEnvironment, role: string, kind: string): number {
  const pid = environment.serverPids[role];
  if (pid === undefined) throw new Error(`${kind}: no ${role} process (known: ${Object.keys(environment.serverPids).join(', ') || 'none'})`);
  return pid;
}

/**
 * Pauses the server `role` names; `role` may be chosen when the fault starts (e.g. the broker
 * that leads the most partitions then).
 */
export function createProcessPause(options: { kind: string; role: string | ((environment: FaultEnvironment) => Promise<string>); what?: string }): Fault {
  const { kind } = options;
  let paused: { pid: number; role: string } | null = null;
  return {
    kind,
    describe: () => `SIGSTOP the ${options.what ?? `${String(options.role)} JVM`}, SIGCONT when healed`,
    inject: async (environment) => {
      const role = typeof options.role === 'string' ? options.role : await options.role(environment);
      const pid = serverPid(environment, role, kind);
      await pauseProcess(pid, role);
      paused = { pid, role };
      environment.progress(`${kind}: ${role} (pid ${pid}) paused`);
    },
    heal: async (environment) => {
      if (paused === null) return;
      const { pid, role } = paused;
      await resumeProcess(pid, role);
      environment.progress(`${kind}: ${role} (pid ${pid}) resumed`);
      paused = null;
    },
  };
}
