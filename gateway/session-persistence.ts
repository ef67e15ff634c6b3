/**
 * What the gateway changes about an Aedes persistence (in-memory or Redis), in one place:
 *
 * - Matching a publish to stored sessions: device data topics match nobody (no device may subscribe
 *   to them), so telemetry never reaches the session store; a device's commands are matched against
 *   that one device's stored subscriptions, read from the store itself rather than from the
 *   per-replica trie, which learns of another replica's subscriptions only through at-most-once pub/sub.
 * - A queued message that was written to the device before carries DUP=1 when it is sent again
 *   [MQTT-3.3.1-1] (Aedes never sets it).
 * - While the store is unavailable, a clean-session CONNECT does not wait for it: its session state is
 *   empty by definition, so the cleanup of an older session is skipped (done at its next clean CONNECT)
 *   and its will lives in memory only. Persistent sessions are refused before they get here.
 */
import { Readable } from 'node:stream';
import type { Client } from 'aedes';
import { commandTopicDevice, deviceIdFromTopic, type TopicLayout } from './acl.ts';
import { topicFilterMatcher } from '../core/mqtt-topic.ts';

interface StoredSubscription {
  topic: string;
  qos: number;
}

/** The methods this module replaces, as Aedes 1.x calls them (promise style). */
interface SessionPersistence {
  subscriptionsByTopic(topic: string): Promise<Array<StoredSubscription & { clientId: string }>>;
  subscriptionsByClient(client: { id: string }): Promise<StoredSubscription[] | null>;
  outgoingStream(client: Client): Readable;
  cleanSubscriptions(client: Client): Promise<unknown>;
  cleanIncoming?(client: Client): Promise<unknown>;
  delWill(client: Client): Promise<unknown>;
  putWill(client: Client, packet: unknown): Promise<unknown>;
}

export function adaptPersistence<P extends object>(
  persistence: P,
  options: { layout: TopicLayout; available: () => boolean; onSkipped: (operation: string) => void },
): P {
  const target = persistence as P & SessionPersistence;
  const { layout } = options;
  const original = {
    subscriptionsByTopic: target.subscriptionsByTopic.bind(target),
    subscriptionsByClient: target.subscriptionsByClient.bind(target),
    outgoingStream: target.outgoingStream.bind(target),
    cleanSubscriptions: target.cleanSubscriptions.bind(target),
    cleanIncoming: target.cleanIncoming?.bind(target),
    delWill: target.delWill.bind(target),
    putWill: target.putWill.bind(target),
  };
  const skipForClean = (client: Client, operation: string): boolean => {
    if (!client.clean || options.available()) return false;
    options.onSkipped(operation);
    return true;
  };

  target.subscriptionsByTopic = async (topic) => {
    const deviceId = commandTopicDevice(topic, layout);
    if (deviceId !== null) {
      const stored = (await original.subscriptionsByClient({ id: deviceId })) ?? [];
      return stored.filter((sub) => topicFilterMatcher(sub.topic)?.(topic) === true).map((sub) => ({ clientId: deviceId, topic: sub.topic, qos: sub.qos }));
    }
    if (deviceIdFromTopic(topic, layout) !== null) return [];
    return original.subscriptionsByTopic(topic);
  };
  target.outgoingStream = (client) => {
    if (skipForClean(client, 'outgoingStream')) return Readable.from([]);
    return original.outgoingStream(client).map((packet: { messageId?: number; dup?: boolean }) => {
      // a stored message id means it was written to the device before
      if (packet.messageId !== undefined && packet.messageId !== null) packet.dup = true;
      return packet;
    });
  };
  target.cleanSubscriptions = (client) => (skipForClean(client, 'cleanSubscriptions') ? Promise.resolve(client) : original.cleanSubscriptions(client));
  if (original.cleanIncoming) {
    const cleanIncoming = original.cleanIncoming;
    target.cleanIncoming = (client) => (skipForClean(client, 'cleanIncoming') ? Promise.resolve(client) : cleanIncoming(client));
  }
  target.delWill = (client) => (skipForClean(client, 'delWill') ? Promise.resolve(undefined) : original.delWill(client));
  target.putWill = (client, packet) => (skipForClean(client, 'putWill') ? Promise.resolve(client) : original.putWill(client, packet));
  return persistence;
}
