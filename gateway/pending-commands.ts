/**
 * Commands handed to a device's session and not yet acknowledged by it, with their expiry: what the
 * gateway reports as expired when a device stays away too long. In this process's memory for one
 * gateway, in a Redis sorted set (score = expiry) when replicas share sessions, so that whichever
 * replica is alive reports the expiry, exactly one of them (ZREM decides who claimed it).
 */
import type { Redis } from 'ioredis';

export interface PendingCommand {
  commandId: string;
  deviceId: string;
  expiresAtMs: number;
}

export interface PendingCommands {
  track(command: PendingCommand): Promise<void>;
  /** The device acknowledged the command: it is no longer pending. */
  settle(deviceId: string, commandId: string): Promise<void>;
  /** Takes up to `limit` commands whose expiry is before `beforeMs`; each is handed to one caller only. */
  claimExpired(beforeMs: number, limit: number): Promise<PendingCommand[]>;
  count(): Promise<number>;
}

// Ids are single topic levels ([A-Za-z0-9_.-]), so "/" separates them unambiguously.
const memberOf = (deviceId: string, commandId: string): string => `${deviceId}/${commandId}`;

export function createMemoryPendingCommands(): PendingCommands {
  const pending = new Map<string, PendingCommand>();
  return {
    track(command) {
      pending.set(memberOf(command.deviceId, command.commandId), command);
      return Promise.resolve();
    },
    settle(deviceId, commandId) {
      pending.delete(memberOf(deviceId, commandId));
      return Promise.resolve();
    },
    claimExpired(beforeMs, limit) {
      const claimed: PendingCommand[] = [];
      for (const [member, command] of pending) {
        if (claimed.length >= limit) break;
        if (command.expiresAtMs >= beforeMs) continue;
        pending.delete(member);
        claimed.push(command);
      }
      return Promise.resolve(claimed);
    },
    count() {
      return Promise.resolve(pending.size);
    },
  };
}

const pendingKey = 'tributary:commands:pending';

export function createRedisPendingCommands(redis: Redis): PendingCommands {
  return {
    async track(command) {
      await redis.zadd(pendingKey, command.expiresAtMs, memberOf(command.deviceId, command.commandId));
    },
    async settle(deviceId, commandId) {
      await redis.zrem(pendingKey, memberOf(deviceId, commandId));
    },
    async claimExpired(beforeMs, limit) {
      const due = await redis.zrangebyscore(pendingKey, '-inf', `(${beforeMs}`, 'WITHSCORES', 'LIMIT', 0, limit);
      const claimed: PendingCommand[] = [];
      for (let i = 0; i + 1 < due.length; i += 2) {
        const member = due[i]!;
        // another replica may claim the same member at the same time: only the one whose ZREM removed it reports it
        if ((await redis.zrem(pendingKey, member)) !== 1) continue;
        const slash = member.indexOf('/');
        claimed.push({ deviceId: member.slice(0, slash), commandId: member.slice(slash + 1), expiresAtMs: Number(due[i + 1]) });
      }
      return claimed;
    },
    async count() {
      return redis.zcard(pendingKey);
    },
  };
}
