/**
 * The message bus Aedes runs on when gateway replicas share Redis, routed by topic so that telemetry
 * never touches Redis (../docs/adr/0014-commands-across-gateway-replicas.md):
 *
 * - a device's commands (`<prefix>/<id>/<commandsLevel>/...`) travel on the exact Redis channel
 *   `tributary:commands:<id>`, which a replica SUBSCRIBEs while one of its clients holds a filter under
 *   that device's commands. Exact channels cost Redis O(1) per PUBLISH; the stock emitter's one
 *   pattern per device makes every PUBLISH scan every pattern.
 * - `$SYS/...` (broker heartbeats, client takeover, subscription sync) goes through mqemitter-redis:
 *   a handful of fixed patterns.
 * - everything else (telemetry, events, wills) stays in this process's own emitter.
 *
 * A replica receives its own command publishes back from Redis and delivers them to its clients from
 * there, so each message reaches each replica once.
 */
import type { Redis } from 'ioredis';
import mqemitter from 'mqemitter';
import type { MQEmitter } from 'mqemitter';
import type { Logger } from '../core/logger.ts';
import { deviceIdFromTopic, type TopicLayout } from './acl.ts';

type Message = mqemitter.Message;
type Listener = (message: Message, done: () => void) => void;

/** The part of an mqemitter Aedes uses. */
export interface MessageEmitter {
  on(topic: string, listener: Listener, done?: () => void): unknown;
  removeListener(topic: string, listener: Listener, done?: () => void): unknown;
  emit(message: Message, done?: (error?: Error) => void): unknown;
  close(done: () => void): unknown;
}

const channelPrefix = 'tributary:commands:';

/** The device whose commands a topic or filter addresses, or null. */
function commandsDevice(topicOrFilter: string, layout: TopicLayout): string | null {
  const deviceId = deviceIdFromTopic(topicOrFilter, layout);
  if (deviceId === null) return null;
  const root = `${layout.prefix}/${deviceId}/${layout.commandsLevel}`;
  return topicOrFilter === root || topicOrFilter.startsWith(`${root}/`) ? deviceId : null;
}

/** The fields of an Aedes packet that must survive the hop between replicas (brokerId/brokerCounter key the stored copy). */
function encodePacket(message: Message): string {
  const { cmd, brokerId, brokerCounter, topic, qos, retain, dup } = message as Message & Record<'cmd' | 'brokerId' | 'brokerCounter' | 'qos' | 'retain' | 'dup', unknown>;
  const raw: unknown = message.payload;
  const payload = Buffer.isBuffer(raw) ? raw : Buffer.from(typeof raw === 'string' ? raw : '');
  return JSON.stringify({ cmd, brokerId, brokerCounter, topic, payload: payload.toString('base64'), qos, retain, dup });
}

function decodePacket(text: string): Message {
  const fields = JSON.parse(text) as Message & { payload: string };
  return { ...fields, payload: Buffer.from(fields.payload, 'base64') };
}

export function createRoutingEmitter(deps: {
  layout: TopicLayout;
  /** Connections of their own: `subscriber` enters subscriber mode. */
  publisher: Redis;
  subscriber: Redis;
  /** mqemitter-redis, for `$SYS`. */
  system: MessageEmitter;
  logger: Logger;
}): MessageEmitter {
  const { layout, publisher, subscriber, system } = deps;
  const local: MQEmitter = mqemitter();
  // channel -> how many local listeners hold a filter under it
  const holders = new Map<string, number>();
  subscriber.on('message', (channel: string, text: string) => {
    if (!channel.startsWith(channelPrefix)) return;
    let packet: Message;
    try {
      packet = decodePacket(text);
    } catch (error) {
      deps.logger.warn({ err: error, channel }, 'undecodable command message on Redis; ignored');
      return;
    }
    // Only this device's commands may come off its channel, whoever published there.
    if (commandsDevice(packet.topic, layout) !== channel.slice(channelPrefix.length)) return;
    local.emit(packet);
  });

  const finish = (done: (() => void) | undefined, operation: Promise<unknown>, what: string): void => {
    operation.then(
      () => done?.(),
      (error: unknown) => {
        // Aedes' subscribe callbacks take no error; the subscription works locally and heals on reconnect (ioredis re-subscribes).
        deps.logger.warn({ err: error }, `Redis ${what} failed`);
        done?.();
      },
    );
  };

  return {
    on(topic, listener, done) {
      if (topic.startsWith('$SYS/')) return system.on(topic, listener, done);
      local.on(topic, listener);
      const deviceId = commandsDevice(topic, layout);
      if (deviceId === null) return done?.();
      const channel = channelPrefix + deviceId;
      const count = holders.get(channel) ?? 0;
      holders.set(channel, count + 1);
      if (count > 0) return done?.();
      finish(done, subscriber.subscribe(channel), 'SUBSCRIBE');
    },
    removeListener(topic, listener, done) {
      if (topic.startsWith('$SYS/')) return system.removeListener(topic, listener, done);
      local.removeListener(topic, listener);
      const deviceId = commandsDevice(topic, layout);
      if (deviceId === null) return done?.();
      const channel = channelPrefix + deviceId;
      const count = (holders.get(channel) ?? 1) - 1;
      if (count > 0) {
        holders.set(channel, count);
        return done?.();
      }
      holders.delete(channel);
      finish(done, subscriber.unsubscribe(channel), 'UNSUBSCRIBE');
    },
    emit(message, done) {
      if (message.topic.startsWith('$SYS/')) return system.emit(message, done);
      const deviceId = commandsDevice(message.topic, layout);
      if (deviceId === null) return local.emit(message, done);
      publisher.publish(channelPrefix + deviceId, encodePacket(message)).then(
        () => done?.(),
        (error: unknown) => done?.(error instanceof Error ? error : new Error(String(error))),
      );
    },
    close(done) {
      local.close(() => system.close(done));
    },
  };
}
