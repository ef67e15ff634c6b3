/**
 * The device registry as every process sees it: an in-memory view of the compacted `iot.devices`
 * topic, read to the end before the process serves, then followed, so that adding, disabling,
 * rotating or removing a device takes effect within seconds everywhere without restarts.
 */
import type { ConsumedRecord, TopicFollowerPort } from './kafka-port.ts';
import type { Logger } from './logger.ts';
import { decodeDeviceRecord, type DeviceRecord } from './device-record.ts';

/** One applied change: `before`/`after` are undefined when the device did not exist / was removed. */
export interface DeviceChange {
  deviceId: string;
  before: DeviceRecord | undefined;
  after: DeviceRecord | undefined;
}

/** The registry's view of `iot.devices`: every device, enabled or not, by id. */
export interface DeviceRegistry {
  /** Resolves when the registry has read every record present at start. */
  start(): Promise<void>;
  get(deviceId: string): DeviceRecord | undefined;
  all(): IterableIterator<DeviceRecord>;
  /** Called synchronously for every record applied, from the start on; not for records that were skipped. */
  onChange(listener: (change: DeviceChange) => void): void;
  stop(): Promise<void>;
}

/**
 * Builds the registry over a follower of the devices topic; no I/O until `start`. A record that cannot be decoded
 * is skipped with a warning (the device keeps its last good record), so one bad record never stops a process.
 */
export function createDeviceRegistry(options: { follower: TopicFollowerPort; logger: Logger }): DeviceRegistry {
  const devices = new Map<string, DeviceRecord>();
  const listeners: Array<(change: DeviceChange) => void> = [];
  const logger = options.logger.child({ component: 'device-registry' });

  const apply = (record: ConsumedRecord): void => {
    const deviceId = record.key?.toString('utf8') ?? '';
    const decoded = decodeDeviceRecord(deviceId, record.value);
    if (!decoded.ok) {
      logger.warn({ deviceId, offset: record.offset, reason: decoded.reason }, 'skipping invalid device record');
      return;
    }
    const before = devices.get(deviceId);
    const after = decoded.value ?? undefined;
    if (after) devices.set(deviceId, after);
    else devices.delete(deviceId);
    for (const listener of listeners) listener({ deviceId, before, after });
  };

  return {
    async start() {
      await options.follower.start(apply);
      await options.follower.caughtUp();
      logger.info({ devices: devices.size }, 'device registry loaded');
    },
    get: (deviceId) => devices.get(deviceId),
    all: () => devices.values(),
    onChange: (listener) => void listeners.push(listener),
    stop: () => options.follower.stop(),
  };
}
