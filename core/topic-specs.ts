/**
 * How Tributary lays out the topics it owns, in one place so that whichever process creates a topic
 * first (gateway, enricher, `tributary devices`) creates it the same way.
 */
import type { TopicRole } from './envelope.ts';
import type { TopicSpec } from './kafka-port.ts';

export function topicSpec(role: TopicRole, topic: string, layout: { partitions: number; replicationFactor: number }): TopicSpec {
  // The registry is compacted (latest record per device) and small: one partition keeps it ordered.
  // Tokens and job state are compacted too: the latest record per key is the truth, and both are small.
  if (role === 'apiTokens' || role === 'jobState') return { topic, partitions: 1, replicationFactor: layout.replicationFactor, config: { 'cleanup.policy': 'compact' } };
  if (role === 'devices') return { topic, partitions: 1, replicationFactor: layout.replicationFactor, config: { 'cleanup.policy': 'compact' } };
  // The broker's append time, monotonic per partition: the API's alert feed orders by it (docs/adr/0016-alerts-feed.md).
  if (role === 'alerts') return { topic, partitions: layout.partitions, replicationFactor: layout.replicationFactor, config: { 'message.timestamp.type': 'LogAppendTime' } };
  return { topic, partitions: layout.partitions, replicationFactor: layout.replicationFactor };
}

export function topicSpecs(topics: Partial<Record<TopicRole, string>>, layout: { partitions: number; replicationFactor: number }): TopicSpec[] {
  return (Object.entries(topics) as Array<[TopicRole, string | undefined]>).flatMap(([role, topic]) => (topic === undefined ? [] : [topicSpec(role, topic, layout)]));
}
