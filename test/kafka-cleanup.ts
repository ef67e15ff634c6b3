/** Deletes the Kafka topics and consumer groups a test harness made, so a test run leaves none behind. */
import type { Admin } from 'kafkajs';
import { eventually } from './helpers.ts';

/** Deletes those of `topics` that exist (kafkajs retries for seconds on a topic that does not). */
export async function deleteTopics(admin: Admin, topics: Iterable<string>): Promise<void> {
  const existing = new Set(await admin.listTopics());
  const present = [...new Set(topics)].filter((topic) => existing.has(topic));
  if (present.length > 0) await admin.deleteTopics({ topics: present });
}

/**
 * Deletes consumer groups. A group that is already gone counts as deleted; one that still has a
 * member (a process killed without leaving) is retried until the member's session expires.
 */
export async function deleteGroups(admin: Admin, groups: Iterable<string>, timeoutMs = 30_000): Promise<void> {
  let pending = [...new Set(groups)];
  if (pending.length === 0) return;
  await eventually(
    async () => {
      try {
        await admin.deleteGroups(pending);
        pending = [];
      } catch (error) {
        const failed = (error as { groups?: Array<{ groupId: string; error?: { type?: string } }> }).groups;
        if (failed === undefined) throw error;
        pending = failed.filter((group) => group.error?.type !== 'GROUP_ID_NOT_FOUND').map((group) => group.groupId);
      }
      return pending;
    },
    (left) => left.length === 0,
    timeoutMs,
    'consumer groups deleted',
  );
}
