/**
 * Below min ISR, as a broker sees it: one broker that leads no more telemetry partitions than the
 * others and is not the active controller is paused (SIGSTOP) until the controller has fenced it and
 * dropped it from every telemetry ISR (RF 3 → ISR 2), then the telemetry topic's
 * min.insync.replicas is raised to 3. The partition leaders now refuse every acks=all write with
 * NOT_ENOUGH_REPLICAS, while the metadata quorum (2 of 3 voters) stays up. (Pausing 2 of the 3
 * nodes instead would also take the quorum away on this stack, where every node is a voter, and
 * writes would time out rather than be refused.) Heal puts the topic's own settings back, asking
 * the two brokers that were not paused, and resumes the broker even when that fails.
 */
import { waitFor } from '../../core/wait-for.ts';
import type { Fault, FaultEnvironment } from './fault.ts';
import { activeController, busiestLeader, setTelemetryTopicOverrides, telemetryPartitions, telemetryTopicOverrides, withoutNode } from './kafka-nodes.ts';
import { pauseProcess, resumeProcess, serverPid } from './process-pause.ts';

const kind = 'kafka-min-isr';

export function createKafkaMinIsr(): Fault {
  let paused: { pid: number; role: string } | null = null;
  let overrides: Record<string, string> | null = null;
  // The cluster as the two brokers that are not paused answer it: a client that picks the paused one waits for its timeouts.
  let others: FaultEnvironment | null = null;
  return {
    kind,
    describe: () => 'SIGSTOP 1 of 3 brokers until it is out of every ISR, then raise the telemetry topic\'s min.insync.replicas to 3 (writes refused: NOT_ENOUGH_REPLICAS); both undone when healed',
    inject: async (environment) => {
      const spared = new Set([await busiestLeader(environment), ...(environment.stackDir === null ? [] : [await activeController(environment.stackDir)])]);
      const nodes = Object.keys(environment.serverPids).filter((role) => role.startsWith('kafka-')).map((role) => Number(role.slice('kafka-'.length)));
      if (nodes.length !== 3) throw new Error(`${kind}: needs 3 Kafka nodes, found ${nodes.join(', ') || 'none'}`);
      // At most two nodes are spared, so one of the three is left.
      const target = nodes.find((nodeId) => !spared.has(nodeId))!;
      const role = `kafka-${target}`;
      const pid = serverPid(environment, role, kind);
      await pauseProcess(pid, role);
      paused = { pid, role };
      environment.progress(`${kind}: ${role} (pid ${pid}) paused`);
      // The controller fences a silent broker after broker.session.timeout.ms (4 s on the stack) and shrinks its ISRs.
      const healthy = (others = await withoutNode(environment, target));
      await waitFor(async () => (await telemetryPartitions(healthy)).every(({ isr }) => !isr.includes(target)), {
        description: `${role} to leave every ISR of ${environment.telemetryTopic}`,
        timeoutMs: 60_000,
        intervalMs: 500,
      });
      overrides = await telemetryTopicOverrides(healthy);
      await setTelemetryTopicOverrides(healthy, { ...overrides, 'min.insync.replicas': '3' });
      environment.progress(`${kind}: ${role} out of every telemetry ISR; min.insync.replicas of ${environment.telemetryTopic} raised to 3`);
    },
    heal: async (environment) => {
      try {
        // Through the brokers that were not paused: the resumed one may still be fenced and not answer.
        if (overrides !== null) {
          await setTelemetryTopicOverrides(others ?? environment, overrides);
          overrides = null;
          environment.progress(`${kind}: min.insync.replicas of ${environment.telemetryTopic} restored`);
        }
      } finally {
        // Whatever failed above: a broker left paused would break every run after this one.
        if (paused !== null) {
          await resumeProcess(paused.pid, paused.role);
          environment.progress(`${kind}: ${paused.role} (pid ${paused.pid}) resumed`);
          paused = null;
        }
      }
    },
  };
}
