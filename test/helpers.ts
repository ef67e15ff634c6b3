/** Test helpers: unique names and condition polling (never fixed sleeps). */
import { randomBytes } from 'node:crypto';
import type { Admin, ITopicMetadata } from 'kafkajs';
import { waitFor } from '../core/wait-for.ts';

export function uniqueName(prefix: string): string {
  return `${prefix}_${Date.now().toString(36)}_${randomBytes(3).toString('hex')}`;
}

/** Polls `read` until `done(value)` holds; fails with the last value seen after `timeoutMs`. */
export async function eventually<T>(read: () => Promise<T>, done: (value: T) => boolean, timeoutMs = 30_000, what = 'condition'): Promise<T> {
  let last: T | undefined;
  await waitFor(async () => done((last = await read())), { description: what, timeoutMs, intervalMs: 200, lastSeen: () => `last value ${JSON.stringify(last)}` });
  return last as T;
}

/** Runs a QuestDB SQL statement over /exec and returns the dataset rows. */
export async function questdbQuery(httpUrl: string, sql: string): Promise<unknown[][]> {
  const response = await fetch(`${httpUrl}/exec?query=${encodeURIComponent(sql)}`);
  const body = (await response.json()) as { dataset?: unknown[][]; error?: string };
  if (!response.ok || body.error) throw new Error(`QuestDB: ${body.error ?? response.status}`);
  return body.dataset ?? [];
}

/**
 * A new topic's metadata once the broker that answers knows it: on a cluster, `createTopics` (even
 * waiting for leaders) can return before every broker has the topic, which then answers
 * UNKNOWN_TOPIC_OR_PARTITION for a moment.
 */
export async function topicMetadata(admin: Admin, topic: string): Promise<ITopicMetadata> {
  let found: ITopicMetadata | undefined;
  await waitFor(async () => (found = (await admin.fetchTopicMetadata({ topics: [topic] })).topics[0]) !== undefined, {
    description: `metadata of topic ${topic}`,
    timeoutMs: 30_000,
    intervalMs: 200,
  });
  return found!;
}
