/** Deletes the Kafka topics and consumer groups a test harness made, so a test run leaves none behind. */
import type { Admin, Kafka } from 'kafkajs';
import type { Cleanups } from './cleanups.ts';
import { eventually, topicMetadata } from './helpers.ts';

/**
 * Creates a one-partition topic for a test and waits until its leader answers; `cleanups` then
 * deletes the topic and `groupId` and disconnects the returned admin.
 */
export async function createTestTopic(kafka: Kafka, topic: string, groupId: string, cleanups: Cleanups): Promise<Admin> {
  const admin = kafka.admin();
  await admin.connect();
  cleanups.add(async () => {
    await deleteGroups(admin, [groupId]);
    await deleteTopics(admin, [topic]);
    await admin.disconnect();
  });
  await admin.createTopics({ topics: [{ topic, numPartitions: 1 }], waitForLeaders: true });
  await topicMetadata(admin, topic);
  return admin;
}

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
