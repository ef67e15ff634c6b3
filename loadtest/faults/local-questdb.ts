/** The QuestDB of the benchmark's own local stack, as the QuestDB fault kinds reach it (through state.json). */
import { readStackState, type StackState } from '../../infra/stack.ts';
import { findGroupMembers } from '../process-usage.ts';
import type { FaultEnvironment } from './fault.ts';

export type LocalQuestdb = NonNullable<StackState['questdb']> & { stackDir: string };

/** The stack's QuestDB record now (a restart changes its process group), or an error naming what is missing. */
export async function localQuestdb(environment: FaultEnvironment, kind: string): Promise<LocalQuestdb> {
  const dir = environment.stackDir;
  if (dir === null) throw new Error(`${kind} needs the benchmark's own local stack (it acts on QuestDB through the stack's state.json): run without TRIBUTARY_KAFKA_BROKERS/TRIBUTARY_QUESTDB_URL`);
  const questdb = (await readStackState(dir))?.questdb;
  if (!questdb) throw new Error(`${kind}: the stack in ${dir} has no QuestDB`);
  return { ...questdb, stackDir: dir };
}

/** The pid of the QuestDB JVM (its process group leads with the stack's watchdog shell). */
export async function questdbJvmPid(questdb: LocalQuestdb, kind: string): Promise<number> {
  const [pid] = await findGroupMembers(questdb.pgid, 'java');
  if (pid === undefined) throw new Error(`${kind}: no QuestDB JVM in process group ${questdb.pgid}`);
  return pid;
}
