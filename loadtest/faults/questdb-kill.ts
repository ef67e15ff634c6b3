/**
 * Kills the QuestDB JVM with SIGKILL while the enricher writes (a crash: no shutdown, open
 * transactions cut off), then starts it again on the same data, where it recovers its WAL. The
 * enricher's writes fail meanwhile; it retries them without committing their Kafka offsets, and
 * DEDUP absorbs a batch QuestDB committed but could not acknowledge before it died.
 */
import { waitFor } from '../../core/wait-for.ts';
import { isGroupAlive } from '../../infra/managed-process.ts';
import { restartQuestdb } from '../../infra/stack.ts';
import type { Fault } from './fault.ts';
import { localQuestdb, questdbJvmPid } from './local-questdb.ts';

const kind = 'questdb-kill';

export function createQuestdbKill(): Fault {
  let killedIn: string | null = null;
  return {
    kind,
    describe: () => 'SIGKILL the QuestDB JVM mid-write, start it again on the same data (WAL recovery) when healed',
    inject: async (environment) => {
      const questdb = await localQuestdb(environment, kind);
      const pid = await questdbJvmPid(questdb, kind);
      process.kill(pid, 'SIGKILL');
      killedIn = questdb.stackDir;
      // The watchdog shell leading the group exits once the JVM is gone; a restart waits for that.
      await waitFor(() => !isGroupAlive(questdb.pgid), { description: `QuestDB's process group ${questdb.pgid} to end`, timeoutMs: 10_000, intervalMs: 50 });
      environment.progress(`${kind}: QuestDB (pid ${pid}) killed`);
    },
    heal: async (environment) => {
      if (killedIn === null) return;
      const started = performance.now();
      await restartQuestdb(killedIn, { ownerPid: process.pid, env: process.env, readyTimeoutMs: 180_000 });
      killedIn = null;
      environment.progress(`${kind}: QuestDB restarted, answering after ${((performance.now() - started) / 1000).toFixed(1)} s`);
    },
  };
}
