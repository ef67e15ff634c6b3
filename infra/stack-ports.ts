/**
 * Port layout of a local stack, derived from one base so that several stacks (a developer's
 * `npm start`, the test run, the 3-broker cluster) can run side by side.
 */
import type { KafkaNodePorts } from './kafka-config.ts';

export interface StackPorts {
  kafka: KafkaNodePorts[];
  questdbHttp: number;
  questdbHttpMin: number;
  questdbPg: number;
  questdbIlpTcp: number;
  redis: number;
}

export function stackPorts(portBase: number, brokers: number): StackPorts {
  const kafka = Array.from({ length: brokers }, (_, index) => ({
    nodeId: index + 1,
    // single node: base+92 / base+93 (19092, 19093 for base 19000); cluster: base+192+n / base+292+n
    brokerPort: brokers === 1 ? portBase + 92 : portBase + 192 + index + 1,
    controllerPort: brokers === 1 ? portBase + 93 : portBase + 292 + index + 1,
  }));
  return {
    kafka,
    questdbHttp: portBase,
    questdbHttpMin: portBase + 3,
    questdbIlpTcp: portBase + 9,
    questdbPg: portBase + 12,
    // 19079 for base 19000: clear of QuestDB's (base..base+12) and Kafka's (base+92 and up).
    redis: portBase + 79,
  };
}

/** The ports of the servers a stack runs, by purpose (named in the error when one is taken). */
export function allPorts(ports: StackPorts, servers: { questdb: boolean; redis: boolean }): Record<string, number> {
  const named: Record<string, number> = {};
  for (const node of ports.kafka) {
    named[`kafka ${node.nodeId} broker`] = node.brokerPort;
    named[`kafka ${node.nodeId} controller`] = node.controllerPort;
  }
  if (servers.questdb) {
    named['questdb http'] = ports.questdbHttp;
    named['questdb min http'] = ports.questdbHttpMin;
    named['questdb pg'] = ports.questdbPg;
    named['questdb ilp tcp'] = ports.questdbIlpTcp;
  }
  if (servers.redis) named.redis = ports.redis;
  return named;
}
