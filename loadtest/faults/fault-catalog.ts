/** Every fault kind `bench e2e --fault` knows, with what its run needs from the stack. */
import type { Fault, FaultNeeds } from './fault.ts';
import { createProcessPause } from './process-pause.ts';

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
