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

export function createProcessPause(options: { kind: string; role: string }): Fault {
  const { kind, role } = options;
  let paused: number | null = null;
  const pidOf = (environment: FaultEnvironment): number => {
    const pid = environment.serverPids[role];
    if (pid === undefined) throw new Error(`${kind}: no ${role} process to pause (known: ${Object.keys(environment.serverPids).join(', ') || 'none'})`);
    return pid;
  };
  return {
    kind,
    describe: () => `SIGSTOP the ${role} JVM, SIGCONT when healed`,
    inject: async (environment) => {
      const pid = pidOf(environment);
      process.kill(pid, 'SIGSTOP');
      paused = pid;
      await waitFor(() => isStopped(pid), { description: `${role} (pid ${pid}) to stop`, timeoutMs: 5000, intervalMs: 20 });
      environment.progress(`${kind}: ${role} (pid ${pid}) paused`);
    },
    heal: async (environment) => {
      if (paused === null) return;
      const pid = paused;
      process.kill(pid, 'SIGCONT');
      await waitFor(async () => !(await isStopped(pid)), { description: `${role} (pid ${pid}) to resume`, timeoutMs: 5000, intervalMs: 20 });
      environment.progress(`${kind}: ${role} (pid ${pid}) resumed`);
      paused = null;
    },
  };
}
