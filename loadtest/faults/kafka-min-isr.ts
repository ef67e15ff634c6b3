/**
 * Takes two of a 3-node cluster's brokers away (SIGSTOP), keeping the node that leads the most
 * telemetry partitions: the first is paused and the wait goes on until the controller has fenced it
 * and dropped it from every telemetry ISR (RF 3 -> ISR 2 = min.insync.replicas), then the second
 * is paused, leaving fewer in-sync replicas than acks=all needs. No write may be acknowledged
 * meanwhile; SIGCONT to both heals. On this stack every node is also a KRaft voter, so the second
 * pause also takes the metadata quorum away: the survivor cannot shrink the ISR further and its
 * writes time out instead of being refused with NOT_ENOUGH_REPLICAS.
 */
import { waitFor } from '../../core/wait-for.ts';
import type { Fault } from './fault.ts';
import { busiestLeader, telemetryPartitions } from './kafka-nodes.ts';
import { pauseProcess, resumeProcess, serverPid } from './process-pause.ts';

const kind = 'kafka-min-isr';

export function createKafkaMinIsr(): Fault {
  const paused: Array<{ pid: number; role: string }> = [];
  return {
    kind,
    describe: () => 'SIGSTOP 2 of 3 brokers (the first until it is out of the ISR), SIGCONT both when healed',
    inject: async (environment) => {
      const keep = await busiestLeader(environment);
      const nodes = Object.keys(environment.serverPids).filter((role) => role.startsWith('kafka-')).map((role) => Number(role.slice('kafka-'.length)));
      const [first, second] = nodes.filter((nodeId) => nodeId !== keep);
      if (first === undefined || second === undefined) throw new Error(`${kind}: needs 3 Kafka nodes, found ${nodes.join(', ') || 'none'}`);
      for (const nodeId of [first, second]) {
        const role = `kafka-${nodeId}`;
        const pid = serverPid(environment, role, kind);
        await pauseProcess(pid, role);
        paused.push({ pid, role });
        environment.progress(`${kind}: ${role} (pid ${pid}) paused`);
        if (nodeId !== first) break;
        // The controller fences a silent broker after broker.session.timeout.ms (4 s on the stack) and shrinks its ISRs.
        await waitFor(async () => (await telemetryPartitions(environment)).every(({ isr }) => !isr.includes(first)), {
          description: `${role} to leave every ISR of ${environment.telemetryTopic}`,
          timeoutMs: 60_000,
          intervalMs: 500,
        });
        environment.progress(`${kind}: ${role} out of every telemetry ISR`);
      }
    },
    heal: async (environment) => {
      for (const { pid, role } of paused.splice(0).reverse()) {
        await resumeProcess(pid, role);
        environment.progress(`${kind}: ${role} (pid ${pid}) resumed`);
      }
    },
  };
}
