/**
 * SIGKILLs the active KRaft controller of a 3-node cluster (every node is broker and controller,
 * so its partition leaderships go too) and starts that node again from the stack's state.json when
 * healed: the remaining voters elect a new controller, which fences the dead broker and moves its
 * leaderships; the restarted node catches up and rejoins.
 */
import { restartKafkaNode } from '../../infra/stack.ts';
import type { Fault } from './fault.ts';
import { activeController } from './kafka-nodes.ts';
import { serverPid } from './process-pause.ts';

const kind = 'kafka-controller-kill';

export function createKafkaControllerKill(): Fault {
  let killed: { nodeId: number; stackDir: string } | null = null;
  return {
    kind,
    describe: () => 'SIGKILL the active KRaft controller node, start it again when healed',
    inject: async (environment) => {
      const { stackDir } = environment;
      if (stackDir === null) throw new Error(`${kind}: needs the benchmark's own local stack to start the node again`);
      const nodeId = await activeController(stackDir);
      const pid = serverPid(environment, `kafka-${nodeId}`, kind);
      process.kill(pid, 'SIGKILL');
      killed = { nodeId, stackDir };
      environment.progress(`${kind}: controller kafka-${nodeId} (pid ${pid}) killed`);
    },
    heal: async (environment) => {
      if (killed === null) return;
      const { nodeId, stackDir } = killed;
      killed = null;
      await restartKafkaNode(stackDir, nodeId, { ownerPid: process.pid, readyTimeoutMs: 360_000 });
      environment.progress(`${kind}: kafka-${nodeId} started again and back in the cluster`);
    },
  };
}
