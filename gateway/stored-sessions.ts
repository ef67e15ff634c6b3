/**
 * Which devices have a session stored in this gateway's broker: a CONNECT accepted with clean
 * session 0 creates or resumes one, a CONNECT with clean session 1 discards it ([MQTT-3.1.2-4],
 * [MQTT-3.1.2-6]). Aedes derives the CONNACK's session-present flag from stored subscriptions only,
 * so a device that never subscribed would be told its session is gone on every reconnect; this
 * answers [MQTT-3.2.2-2] for it. Sessions live in the broker's memory, as Aedes' do: a gateway
 * restart forgets both. One entry per device id that connected with clean session 0 (client ids are
 * device ids), so it is bounded by the registry.
 */
export interface StoredSessions {
  /** Records an accepted CONNECT; true when a session of this device was stored before it. */
  accepted(deviceId: string, cleanSession: boolean): boolean;
}

export function createStoredSessions(): StoredSessions {
  const stored = new Set<string>();
  return {
    accepted(deviceId, cleanSession) {
      if (cleanSession) {
        stored.delete(deviceId);
        return false;
      }
      const present = stored.has(deviceId);
      stored.add(deviceId);
      return present;
    },
  };
}
