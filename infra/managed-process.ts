/**
 * Starts server processes (the JVMs, redis-server) in their own process group, logging to a file, and stops them.
 *
 * With an owner pid, the process runs under a small shell watchdog that terminates it when the owner
 * exits for any reason (including SIGKILL), so an interrupted test run leaves no server behind.
 */
import { spawn } from 'node:child_process';
import { openSync, closeSync } from 'node:fs';
import { falseOnTimeout, waitFor } from '../core/wait-for.ts';

// Stops the child when the owner ends (tail --pid checks it once a second without forking, unlike a
// sleep loop, which cost 0.2 % of a core per server at rest) or when this shell gets SIGTERM/SIGINT:
// SIGTERM, SIGKILL after 20 s. The owner's watcher signals this shell instead of being waited on
// with the child: `wait -n` on both hung whenever one had ended before the call (bash 5.2 does not
// count it), e.g. an owner already gone, and left the server running. A signal that comes before
// the `wait` runs its trap first, and the `wait` then returns at once.
const watchdogScript = `
owner=$1; shift
"$@" &
child=$!
stop_child() {
  kill -TERM "$child" 2>/dev/null
  for i in $(seq 1 40); do kill -0 "$child" 2>/dev/null || return 0; sleep 0.5; done
  kill -KILL "$child" 2>/dev/null
}
trap stop_child TERM INT
( tail --pid="$owner" -f /dev/null; kill -TERM $$ ) &
wait "$child"
status=$?
while kill -0 "$child" 2>/dev/null; do wait "$child"; status=$?; done
trap '' TERM
kill -TERM 0 2>/dev/null
wait
exit "$status"
`;

export interface ManagedProcess {
  /** Process group id (the leader's pid). */
  pgid: number;
  /** Resolves with the exit code when the group leader exits. */
  exited: Promise<number | null>;
}

export function startManagedProcess(options: {
  command: string;
  args: readonly string[];
  logFile: string;
  env?: NodeJS.ProcessEnv;
  ownerPid?: number;
}): ManagedProcess {
  const log = openSync(options.logFile, 'a');
  const [command, args] =
    options.ownerPid === undefined
      ? [options.command, options.args]
      : ['bash', ['-c', watchdogScript, 'tributary-watchdog', String(options.ownerPid), options.command, ...options.args]];
  try {
    const child = spawn(command, args, {
      detached: true,
      stdio: ['ignore', log, log],
      env: options.env ?? process.env,
    });
    const exited = new Promise<number | null>((resolve) => {
      child.once('exit', (code) => resolve(code));
      child.once('error', () => resolve(null));
    });
    child.unref();
    if (child.pid === undefined) throw new Error(`could not start ${options.command}`);
    return { pgid: child.pid, exited };
  } finally {
    closeSync(log);
  }
}

export function isGroupAlive(pgid: number): boolean {
  try {
    process.kill(-pgid, 0);
    return true;
  } catch {
    return false;
  }
}

/** SIGTERM to the whole group, then SIGKILL after `graceMs`. Resolves when the group is gone. */
export async function stopProcessGroup(pgid: number, graceMs: number): Promise<'terminated' | 'killed' | 'absent'> {
  if (!isGroupAlive(pgid)) return 'absent';
  try {
    process.kill(-pgid, 'SIGTERM');
  } catch {
    return 'absent';
  }
  const gone = (): boolean => !isGroupAlive(pgid);
  const description = `process group ${pgid} to exit`;
  if (await waitFor(gone, { description, timeoutMs: graceMs, intervalMs: 200 }).then(() => true, falseOnTimeout)) return 'terminated';
  try {
    process.kill(-pgid, 'SIGKILL');
  } catch {
    // already gone
  }
  await waitFor(gone, { description, timeoutMs: Infinity, intervalMs: 100 });
  return 'killed';
}
