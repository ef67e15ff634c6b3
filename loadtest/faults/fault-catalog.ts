/** Every fault kind `bench e2e --fault` knows, with what its run needs from the stack. */
import type { Fault, FaultNeeds } from './fault.ts';
import { createKafkaControllerKill } from './kafka-controller-kill.ts';
import { createKafkaMinIsr } from './kafka-min-isr.ts';
import { busiestLeader } from './kafka-nodes.ts';
import { createPacketDrop } from './packet-drop.ts';
import { createProcessPause } from './process-pause.ts';
import { createQuestdbDiskFull } from './questdb-disk-full.ts';
import { createQuestdbKill } from './questdb-kill.ts';
import { createQuestdbSlow } from './questdb-slow.ts';
import { createRelayDelay } from './relay-delay.ts';

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
  'gateway-kafka-partition': {
    help: 'drop every packet between the gateway (in a network namespace) and Kafka, both ways, no reset: longer than the send timeout, sends fail',
    needs: { brokers: 1, enrich: false, isolate: 'gateway' },
    create: () => createPacketDrop({ kind: 'gateway-kafka-partition', server: 'kafka', percent: 100 }),
  },
  'gateway-kafka-loss': {
    help: 'drop 10 % of the packets between the gateway (in a network namespace) and Kafka, both ways',
    needs: { brokers: 1, enrich: false, isolate: 'gateway' },
    create: () => createPacketDrop({ kind: 'gateway-kafka-loss', server: 'kafka', percent: 10 }),
  },
  'gateway-kafka-delay': {
    help: 'hold everything between the gateway and Kafka 200 ± 50 ms each way (a delay relay: this kernel has no netem)',
    needs: { brokers: 1, enrich: false, isolate: 'gateway', relay: 'kafka' },
    create: () => createRelayDelay({ kind: 'gateway-kafka-delay', ms: 200, jitterMs: 50 }),
  },
  'enricher-questdb-partition': {
    help: 'drop every packet between the enricher (in a network namespace) and QuestDB, both ways, no reset: writes time out and are retried',
    needs: { brokers: 1, enrich: true, isolate: 'enricher' },
    create: () => createPacketDrop({ kind: 'enricher-questdb-partition', server: 'questdb', percent: 100 }),
  },
  'enricher-questdb-loss': {
    help: 'drop 10 % of the packets between the enricher (in a network namespace) and QuestDB, both ways',
    needs: { brokers: 1, enrich: true, isolate: 'enricher' },
    create: () => createPacketDrop({ kind: 'enricher-questdb-loss', server: 'questdb', percent: 10 }),
  },
  'enricher-questdb-delay': {
    help: 'hold everything between the enricher and QuestDB 200 ± 50 ms each way (a delay relay: this kernel has no netem)',
    needs: { brokers: 1, enrich: true, isolate: 'enricher', relay: 'questdb' },
    create: () => createRelayDelay({ kind: 'enricher-questdb-delay', ms: 200, jitterMs: 50 }),
  },
  'kafka-leader-pause': {
    help: '3 brokers: SIGSTOP the one leading the most telemetry partitions, SIGCONT when healed',
    needs: { brokers: 3, enrich: false },
    create: () => createProcessPause({ kind: 'kafka-leader-pause', role: async (environment) => `kafka-${await busiestLeader(environment)}`, what: 'broker leading the most telemetry partitions' }),
  },
  'kafka-min-isr': {
    help: '3 brokers: SIGSTOP one until it leaves the ISRs (RF 3 → ISR 2), raise the topic\'s min.insync.replicas to 3: writes refused with NOT_ENOUGH_REPLICAS; undone when healed',
    needs: { brokers: 3, enrich: false },
    create: createKafkaMinIsr,
  },
  'kafka-controller-kill': {
    help: '3 brokers: SIGKILL the active KRaft controller node, start it again when healed',
    needs: { brokers: 3, enrich: false },
    create: createKafkaControllerKill,
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
