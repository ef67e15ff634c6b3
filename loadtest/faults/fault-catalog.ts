/** Every fault kind `bench e2e --fault` knows, with what its run needs from the stack. */
import type { Fault, FaultNeeds } from './fault.ts';
import { createProcessPause } from './process-pause.ts';
import { createQuestdbDiskFull } from './questdb-disk-full.ts';
import { createQuestdbKill } from './questdb-kill.ts';
import { createQuestdbSlow } from './questdb-slow.ts';

interface FaultKind {
  help: string;
  needs: FaultNeeds;
  create(): Fault;
}

export const faultKinds = {
  'kafka-pause': {
    help: 'SIGSTOP the (single) Kafka broker for --fault-for seconds, then SIGCONT: sends in flight time out',
    needs: { brokers: 1, enrich: false },
    create: () => createProcessPause({ kind: 'kafka-pause', role: 'kafka' }),
  },
  'questdb-kill': {
    help: 'SIGKILL QuestDB while the enricher writes; after --fault-for seconds start it again on its data (WAL recovery)',
    needs: { brokers: 1, enrich: true },
    create: createQuestdbKill,
  },
  'questdb-disk-full': {
    help: "fill QuestDB's filesystem (a tmpfs, --questdb-disk-mb, default 2048) with a ballast file; heal deletes it",
    needs: { brokers: 1, enrich: true, questdbDiskMb: 2048 },
    create: createQuestdbDiskFull,
  },
  'questdb-slow': {
    help: 'stop QuestDB 300 ms of every 500 ms (SIGSTOP/SIGCONT) for --fault-for seconds: slow, not failing',
    needs: { brokers: 1, enrich: true },
    create: () => createQuestdbSlow({ stoppedMs: 300, periodMs: 500 }),
  },
} satisfies Record<string, FaultKind>;

export type FaultKindName = keyof typeof faultKinds;

export function isFaultKind(name: string): name is FaultKindName {
  return Object.hasOwn(faultKinds, name);
}

/** `--help` lines: one per kind. */
export function faultKindsHelp(indent: string): string {
  return Object.entries(faultKinds)
    .map(([name, kind]) => `${indent}${name.padEnd(24)} ${kind.help}`)
    .join('\n');
}
