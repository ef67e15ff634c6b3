/**
 * Makes QuestDB slow without making it fail: its JVM is stopped (SIGSTOP) for `stoppedMs` of
 * every `periodMs` and continued (SIGCONT) for the rest. A request that arrives in a stop waits up
 * to `stoppedMs`, and QuestDB works at (period − stopped) / period of its speed, as under long GC
 * pauses or a starved VM. Chosen over CPU throttling (a cgroup quota): on a shared 2-core machine a
 * quota's effect depends on what else runs, while a duty cycle slows QuestDB the same each run.
 */
import { sleep } from '../../core/retry.ts';
import type { Fault } from './fault.ts';
import { localQuestdb, questdbJvmPid } from './local-questdb.ts';

const kind = 'questdb-slow';

export function createQuestdbSlow(options: { stoppedMs: number; periodMs: number }): Fault {
  const { stoppedMs, periodMs } = options;
  let cycling: { pid: number; stop: AbortController; done: Promise<void> } | null = null;
  return {
    kind,
    describe: () => `QuestDB's JVM stopped ${stoppedMs} ms of every ${periodMs} ms (SIGSTOP/SIGCONT) until healed`,
    inject: async (environment) => {
      const pid = await questdbJvmPid(await localQuestdb(environment, kind), kind);
      const stop = new AbortController();
      const done = (async () => {
        while (!stop.signal.aborted) {
          process.kill(pid, 'SIGSTOP');
          await sleep(stoppedMs, stop.signal).catch(() => undefined);
          process.kill(pid, 'SIGCONT');
          await sleep(periodMs - stoppedMs, stop.signal).catch(() => undefined);
        }
      })();
      // Seen by heal, which awaits it; a QuestDB that died mid-cycle must not crash the benchmark before.
      done.catch(() => undefined);
      cycling = { pid, stop, done };
      environment.progress(`${kind}: QuestDB (pid ${pid}) stopped ${stoppedMs} ms of every ${periodMs} ms`);
    },
    heal: async (environment) => {
      if (cycling === null) return;
      const { pid, stop, done } = cycling;
      cycling = null;
      stop.abort();
      try {
        await done;
      } finally {
        // Whatever ended the cycle, QuestDB must not stay stopped.
        process.kill(pid, 'SIGCONT');
      }
      environment.progress(`${kind}: QuestDB (pid ${pid}) runs freely again`);
    },
  };
}
