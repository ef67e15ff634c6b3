/**
 * Drops packets between the process in the fault network's namespace and one server port: every
 * one (a partition: nothing passes, no connection is reset, both sides see silence) or a share of
 * them (loss; TCP retransmits). A tc class that drops everything (pfifo of length 0 under htb) on
 * both ends of the veth pair, chosen by a classic BPF filter on the server port, so the devices'
 * traffic to the gateway crosses the same pair untouched. Healing removes the qdiscs.
 */
import { runIproute } from '../../infra/fault-network.ts';
import type { Fault, FaultEnvironment } from './fault.ts';
import { packetDropBytecode } from './packet-drop-program.ts';

export interface PacketDropOptions {
  kind: string;
  /** Which server: the (single) Kafka broker's port or QuestDB's HTTP port. */
  server: 'kafka' | 'questdb';
  /** Share of the port's packets dropped, in each direction; 100 is a partition. */
  percent: number;
}

function serverPort(server: PacketDropOptions['server'], environment: FaultEnvironment): number {
  const address = server === 'kafka' ? environment.kafkaBrokers[0] : new URL(environment.questdbHttpUrl).host;
  const port = Number(address?.split(':').at(-1));
  if (!Number.isInteger(port) || port <= 0) throw new Error(`no ${server} port in ${address ?? '(none)'}`);
  return port;
}

export function createPacketDrop(options: PacketDropOptions): Fault {
  const { kind, server, percent } = options;
  let applied: Array<{ namespace: string | null; device: string }> = [];
  const tc = (namespace: string | null, args: string[], input?: string): Promise<void> => runIproute('tc', [...(namespace === null ? [] : ['-n', namespace]), ...args], input);
  return {
    kind,
    describe: () => `drop ${percent === 100 ? 'every' : `${percent} % of the`} packet${percent === 100 ? '' : 's'} to and from ${server} on the isolated process's veth pair`,
    inject: async (environment) => {
      const { network } = environment;
      if (network === null) throw new Error(`${kind}: the run has no fault network`);
      const program = packetDropBytecode({ port: serverPort(server, environment), percent });
      for (const end of [{ namespace: null, device: network.rootDevice }, { namespace: network.namespace, device: network.namespaceDevice }]) {
        const on = `dev ${end.device}`;
        applied.push(end);
        // One tc process per end (a batch): on a loaded machine each process start costs time the fault should be in effect.
        const batch = [
          `qdisc add ${on} root handle 1: htb default 2`,
          `class add ${on} parent 1: classid 1:1 htb rate 10gbit quantum 200000`,
          `class add ${on} parent 1: classid 1:2 htb rate 10gbit quantum 200000`,
          // A queue of length 0 drops whatever the filter sends to class 1:1.
          `qdisc add ${on} parent 1:1 handle 10: pfifo limit 0`,
          `filter add ${on} parent 1: protocol ip prio 1 bpf bytecode "${program}" classid 1:1`,
        ];
        await tc(end.namespace, ['-batch', '-'], batch.join('\n') + '\n');
      }
      environment.progress(`${kind}: dropping ${percent} % of ${server}'s packets`);
    },
    heal: async (environment) => {
      const failures: string[] = [];
      for (const end of applied) {
        await tc(end.namespace, ['qdisc', 'del', 'dev', end.device, 'root']).catch((error: unknown) => void failures.push(String(error)));
      }
      applied = [];
      if (failures.length > 0) throw new Error(failures.join('; '));
      environment.progress(`${kind}: ${server}'s packets pass again`);
    },
  };
}
