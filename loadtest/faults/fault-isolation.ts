/** Where a fault kind's isolated process runs and, for a relayed kind, where its delay relay listens. Pure. */
import type { FaultNetwork } from '../../infra/fault-network.ts';
import type { E2eOptions } from '../e2e-bench.ts';
import type { FaultNeeds } from './fault.ts';

export interface IsolationStack {
  questdbHttpUrl: string;
  network?: FaultNetwork;
  /** The stack's relayed Kafka listener (StackState.kafka.relayed). */
  kafkaRelayed?: { port: number; relayPort: number };
}

/** The benchmark's `isolated` option for a kind's needs on a stack started with a fault network. */
export function faultIsolation(needs: FaultNeeds, stack: IsolationStack): E2eOptions['isolated'] {
  if (needs.isolate === undefined) return undefined;
  const { network } = stack;
  if (network === undefined) throw new Error(`a fault that isolates the ${needs.isolate} needs a stack started with a fault network`);
  const host = network.rootAddress;
  if (needs.relay === 'kafka') {
    if (!stack.kafkaRelayed) throw new Error('the stack has no relayed Kafka listener (a fault network with one broker has one)');
    return { process: needs.isolate, network, relay: { server: 'kafka', listen: { host, port: stack.kafkaRelayed.relayPort }, target: { host, port: stack.kafkaRelayed.port } } };
  }
  if (needs.relay === 'questdb') {
    const questdb = new URL(stack.questdbHttpUrl);
    return { process: needs.isolate, network, relay: { server: 'questdb', listen: { host, port: 0 }, target: { host: questdb.hostname, port: Number(questdb.port) } } };
  }
  return { process: needs.isolate, network };
}
