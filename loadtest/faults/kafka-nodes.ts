/**
 * What the Kafka faults need to know about the cluster when they strike: which node leads the
 * run's telemetry partitions, which ones are in sync, and which node is the active KRaft controller.
 */
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { Kafka, logLevel, type Admin } from 'kafkajs';
import { readStackState } from '../../infra/stack.ts';
import { topicConfigSource, topicResource } from '../../kafka/kafkajs-admin.ts';
import type { FaultEnvironment } from './fault.ts';

export interface PartitionReplicas {
  partition: number;
  leader: number;
  isr: number[];
}

/** Runs `use` with a connected admin client of the run's cluster, disconnected afterwards. */
async function withAdmin<T>(environment: FaultEnvironment, use: (admin: Admin) => Promise<T>): Promise<T> {
  // Generous timeouts: on a loaded machine short ones turn into retry storms that delay the fault by minutes.
  const kafka = new Kafka({ clientId: 'tributary-bench-fault', brokers: [...environment.kafkaBrokers], logLevel: logLevel.NOTHING, connectionTimeout: 10_000, requestTimeout: 30_000 });
  const admin = kafka.admin();
  await admin.connect();
  try {
    return await use(admin);
  } finally {
    await admin.disconnect();
  }
}

/**
 * The environment with its bootstrap list less node `nodeId` (from the stack's state), for asking
 * the cluster while that node is paused: a client that picks a paused broker waits for its timeouts.
 * Without a stack directory, the environment as it is.
 */
export async function withoutNode(environment: FaultEnvironment, nodeId: number): Promise<FaultEnvironment> {
  if (environment.stackDir === null) return environment;
  const state = await readStackState(environment.stackDir);
  const node = state?.kafka.nodes.find((candidate) => candidate.nodeId === nodeId);
  if (!node) return environment;
  const kafkaBrokers = environment.kafkaBrokers.filter((address) => !address.endsWith(`:${node.brokerPort}`));
  return kafkaBrokers.length > 0 ? { ...environment, kafkaBrokers } : environment;
}

/** The telemetry topic's partitions as the brokers report them now. */
export function telemetryPartitions(environment: FaultEnvironment): Promise<PartitionReplicas[]> {
  return withAdmin(environment, async (admin) => {
    const { topics } = await admin.fetchTopicMetadata({ topics: [environment.telemetryTopic] });
    return (topics[0]?.partitions ?? []).map(({ partitionId, leader, isr }) => ({ partition: partitionId, leader, isr }));
  });
}

/** The settings set on the telemetry topic itself (not inherited from the broker), by name. */
export function telemetryTopicOverrides(environment: FaultEnvironment): Promise<Record<string, string>> {
  return withAdmin(environment, async (admin) => {
    const { resources } = await admin.describeConfigs({ resources: [{ type: topicResource, name: environment.telemetryTopic }], includeSynonyms: false });
    const entries = resources[0]?.configEntries ?? [];
    return Object.fromEntries(entries.filter((entry) => entry.configSource === topicConfigSource).map((entry) => [entry.configName, entry.configValue]));
  });
}

/**
 * Replaces the telemetry topic's own settings with `overrides` (AlterConfigs is not incremental:
 * a setting left out falls back to the broker's).
 */
export function setTelemetryTopicOverrides(environment: FaultEnvironment, overrides: Readonly<Record<string, string>>): Promise<void> {
  return withAdmin(environment, async (admin) => {
    const configEntries = Object.entries(overrides).map(([name, value]) => ({ name, value }));
    await admin.alterConfigs({ validateOnly: false, resources: [{ type: topicResource, name: environment.telemetryTopic, configEntries }] });
  });
}

/** The node leading the most telemetry partitions (the lowest id on a tie). */
export async function busiestLeader(environment: FaultEnvironment): Promise<number> {
  const counts = new Map<number, number>();
  for (const { leader } of await telemetryPartitions(environment)) if (leader >= 0) counts.set(leader, (counts.get(leader) ?? 0) + 1);
  const [best] = [...counts].sort(([a, ca], [b, cb]) => cb - ca || a - b);
  if (best === undefined) throw new Error(`no leader for any partition of ${environment.telemetryTopic}`);
  return best[0];
}

/**
 * The active KRaft controller: the leader of the metadata quorum with the highest epoch any node
 * recorded (each voter writes the leader it follows to `__cluster_metadata-0/quorum-state`).
 */
export async function activeController(stackDir: string): Promise<number> {
  const state = await readStackState(stackDir);
  if (!state) throw new Error(`no stack state in ${stackDir}`);
  let best: { leaderId: number; leaderEpoch: number } | null = null;
  for (const { nodeId } of state.kafka.nodes) {
    const file = join(stackDir, `kafka-${nodeId}`, 'data', '__cluster_metadata-0', 'quorum-state');
    const recorded = JSON.parse(await readFile(file, 'utf8')) as { leaderId?: number; leaderEpoch?: number };
    if (typeof recorded.leaderId === 'number' && recorded.leaderId >= 0 && (best === null || (recorded.leaderEpoch ?? -1) > best.leaderEpoch)) {
      best = { leaderId: recorded.leaderId, leaderEpoch: recorded.leaderEpoch ?? -1 };
    }
  }
  if (best === null) throw new Error(`no node of the stack in ${stackDir} records a quorum leader`);
  return best.leaderId;
}
