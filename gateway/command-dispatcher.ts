/**
 * Takes commands off `iot.commands` and hands each to its device's MQTT session. Every gateway replica
 * is a member of one consumer group (ADR 0014): each command is handed over by the replica that owns
 * its partition, once in the normal case; a replica that dies after handing a command over but before
 * committing hands it over again on the next owner (at least once; devices dedupe by command id).
 *
 * Per command, in partition order per device: invalid → `failed` (invalid_command); expired → `expired`;
 * no persistent session subscribed to the device's commands → `failed` (no_session); else the session
 * has it → `queued` (and the expiry clock runs in PendingCommands). Offsets are committed after every
 * command of the batch was handled and its event acknowledged by Kafka. A session store or Kafka that
 * fails is retried with backoff until it answers or shutdown begins; nothing is committed meanwhile.
 *
 * A sweeper reports commands whose expiry passed without a PUBACK as `expired`, once across replicas.
 */
import type { CommandEvent, DeviceCommand } from '../core/device-command.ts';
import { decodeDeviceCommand, isValidCommandId } from '../core/device-command.ts';
import { isValidDeviceId } from '../core/device-record.ts';
import { describeError } from '../core/errors.ts';
import type { ConsumedBatch, ConsumedRecord, GroupConsumerOptions, GroupConsumerPort } from '../core/kafka-port.ts';
import type { Logger } from '../core/logger.ts';
import { retry, sleep } from '../core/retry.ts';
import { createSampledLogger } from '../core/sampled-logger.ts';
import type { PendingCommands } from './pending-commands.ts';

/** Where the gateway's command events go (iot.command-events, acks=all). */
export interface CommandEventSink {
  emit(event: CommandEvent): Promise<void>;
}

/** What handing a command to its device's session came to. */
export type HandOver = 'queued' | 'no_session';

export interface CommandDispatcherMetrics {
  consumed(outcome: 'queued' | 'expired' | 'invalid' | 'no_session'): void;
  expired(where: 'before_delivery' | 'in_session'): void;
}

export interface CommandDispatcher {
  start(): Promise<void>;
  stop(): Promise<void>;
  /** Null while commands flow, else why not. */
  problem(): string | null;
}

/** Devices whose commands are handed over at once within one batch (each device's stay in order). */
const devicesConcurrently = 64;
/** After its expiry, how long a command may still be acknowledged before it is reported expired. */
const expiryGraceMs = 5000;
const sweepIntervalMs = 1000;

export function createCommandDispatcher(deps: {
  gatewayId: string;
  consumer: (options: Pick<GroupConsumerOptions, 'onBatch'>) => GroupConsumerPort;
  handOver: (command: DeviceCommand) => Promise<HandOver>;
  events: CommandEventSink;
  pending: () => PendingCommands;
  metrics: CommandDispatcherMetrics;
  logger: Logger;
  /** Bounds one hand-over; a session store that queues commands while down would otherwise hold a batch forever. */
  handOverTimeoutMs?: number;
}): CommandDispatcher {
  const { gatewayId, events, metrics } = deps;
  const logger = deps.logger.child({ component: 'commands' });
  const sampled = createSampledLogger(logger, { perInterval: 5, intervalMs: 60_000 });
  const handOverTimeoutMs = deps.handOverTimeoutMs ?? 10_000;
  const stopping = new AbortController();
  let lastFailure: { atMs: number; message: string } | null = null;
  let consumer: GroupConsumerPort | null = null;
  let sweeper: Promise<void> | null = null;
  let joined: Promise<void> | null = null;

  const persistently = <T>(what: string, operation: () => Promise<T>): Promise<T> =>
    retry(operation, {
      minDelayMs: 200,
      maxDelayMs: 5000,
      signal: stopping.signal,
      shouldRetry: () => true,
      onRetry: (error, attempt) => {
        lastFailure = { atMs: Date.now(), message: `${what}: ${describeError(error)}` };
        sampled.warn(`retry:${what}`, { attempt, err: lastFailure.message }, 'command step failed; retrying');
      },
    });

  const event = (type: CommandEvent['type'], command: { commandId: string; deviceId: string }, extra: Partial<CommandEvent> = {}): Promise<void> =>
    persistently('command event', () => events.emit({ v: 1, type, commandId: command.commandId, deviceId: command.deviceId, atMs: Date.now(), gatewayId, ...extra }));

  const withTimeout = <T>(operation: Promise<T>): Promise<T> =>
    new Promise<T>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`session store did not answer within ${handOverTimeoutMs} ms`)), handOverTimeoutMs);
      operation.then(
        (value) => {
          clearTimeout(timer);
          resolve(value);
        },
        (error: unknown) => {
          clearTimeout(timer);
          reject(error instanceof Error ? error : new Error(String(error)));
        },
      );
    });

  const handle = async (record: ConsumedRecord): Promise<void> => {
    const decoded = decodeDeviceCommand(record.key?.toString('utf8') ?? null, record.value);
    if (!decoded.ok) {
      metrics.consumed('invalid');
      const ids = idsOf(record);
      sampled.warn('invalid', { partition: record.partition, offset: record.offset, reason: decoded.reason, detail: decoded.detail }, 'invalid command skipped');
      if (ids) await event('failed', ids, { reason: 'invalid_command', detail: (decoded.detail ?? decoded.reason).slice(0, 1024) });
      return;
    }
    const command = decoded.value;
    if (Date.now() >= command.expiresAtMs) {
      metrics.consumed('expired');
      metrics.expired('before_delivery');
      await event('expired', command, { reason: 'expired_before_delivery' });
      return;
    }
    const outcome = await persistently('hand-over', () => withTimeout(deps.handOver(command)));
    if (outcome === 'no_session') {
      metrics.consumed('no_session');
      await event('failed', command, { reason: 'no_session', detail: 'the device has no persistent session (clean session 0) subscribed to its commands' });
      return;
    }
    metrics.consumed('queued');
    if (command.qos > 0) await persistently('pending', () => deps.pending().track(command));
    await event('queued', command);
  };

  const onBatch = async (batch: ConsumedBatch, control: { isRunning: () => boolean }): Promise<void> => {
    // Each device's commands in offset order; different devices at once.
    const byDevice = new Map<string, ConsumedRecord[]>();
    for (const record of batch.records) {
      const key = record.key?.toString('utf8') ?? '';
      const list = byDevice.get(key);
      if (list) list.push(record);
      else byDevice.set(key, [record]);
    }
    const queues = [...byDevice.values()];
    const workers = Array.from({ length: Math.min(devicesConcurrently, queues.length) }, async () => {
      for (let queue = queues.shift(); queue; queue = queues.shift()) {
        for (const record of queue) {
          if (!control.isRunning() || stopping.signal.aborted) throw new Error('stopping: batch left for the next owner');
          await handle(record);
        }
      }
    });
    await Promise.all(workers);
    const last = batch.records[batch.records.length - 1]!;
    await consumer?.commit([{ topic: batch.topic, partition: batch.partition, offset: (BigInt(last.offset) + 1n).toString() }]);
    lastFailure = null;
  };

  const sweep = async (): Promise<void> => {
    while (!stopping.signal.aborted) {
      try {
        const due = await deps.pending().claimExpired(Date.now() - expiryGraceMs, 100);
        for (const command of due) {
          metrics.expired('in_session');
          await event('expired', command, { reason: 'not_delivered_before_expiry' });
        }
        if (due.length === 100) continue;
      } catch (error) {
        if (stopping.signal.aborted) return;
        sampled.warn('sweep', { err: describeError(error) }, 'expiry sweep failed; next sweep retries');
      }
      await sleep(sweepIntervalMs, stopping.signal).catch(() => undefined);
    }
  };

  return {
    start() {
      consumer = deps.consumer({ onBatch });
      sweeper = sweep();
      // Joining the group can wait for a dead member's session to time out: telemetry does not wait for it.
      joined = consumer.start().then(
        () => logger.info('taking commands from Kafka'),
        (error: unknown) => {
          lastFailure = { atMs: Date.now(), message: `joining the commands group: ${describeError(error)}` };
          logger.error({ err: error }, 'could not start taking commands from Kafka');
        },
      );
      return Promise.resolve();
    },
    async stop() {
      stopping.abort(new Error('command dispatcher stopping'));
      await sweeper;
      await joined;
      await consumer?.stop();
    },
    problem() {
      return lastFailure && Date.now() - lastFailure.atMs < 15_000 ? `commands: ${lastFailure.message}` : null;
    },
  };
}

/** The ids of an invalid command record, when it has them, so its failure can be reported. */
function idsOf(record: ConsumedRecord): { commandId: string; deviceId: string } | null {
  try {
    const value = JSON.parse(record.value?.toString('utf8') ?? '') as { commandId?: unknown; deviceId?: unknown };
    const commandId = value.commandId;
    const deviceId = value.deviceId ?? record.key?.toString('utf8');
    return isValidCommandId(commandId) && isValidDeviceId(deviceId) ? { commandId, deviceId } : null;
  } catch {
    return null;
  }
}
