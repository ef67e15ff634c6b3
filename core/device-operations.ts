/**
 * The registry's write operations, shared by `tributary devices` and the API's device routes: add,
 * create-or-replace, enable/disable, rotate the secret, remove. Each checks everything against the
 * registry and the record schema first and then writes one record (acks=all) to the compacted
 * devices topic, so a refused operation writes nothing. Refusals are results, not exceptions.
 */
import { deviceRecordIssues, encodeDeviceRecord, generateSecret, hashSecret, type Calibration, type DeviceRecord, type DeviceRecordIssue } from './device-record.ts';
import type { DeviceRegistry } from './device-registry.ts';
import type { KafkaProducerPort } from './kafka-port.ts';

/** What an operator says about a device besides its id and secret. */
export interface DeviceFields {
  site?: string;
  model?: string;
  units?: Record<string, string>;
  calibration?: Record<string, Calibration>;
  /** Absent: a new device is enabled, a replaced one keeps its state. */
  enabled?: boolean;
}

/**
 * A device's new secret, prepared before the operation so that scrypt (tens of ms, on the thread
 * pool) overlaps whatever the caller does meanwhile (reading the registry, connecting).
 */
export interface PreparedSecret {
  secret: string;
  /** Whether it was generated (then it is shown to the operator once). */
  generated: boolean;
  hash: Promise<string>;
}

/** A given secret, or a generated one when `given` is undefined; hashing starts now. */
export function prepareSecret(given: string | undefined): PreparedSecret {
  const secret = given ?? generateSecret();
  const hash = hashSecret(secret);
  // awaited by the operation; this only keeps a failure before then from counting as unhandled
  hash.catch(() => {});
  return { secret, generated: given === undefined, hash };
}

export type DeviceRefusal =
  | { reason: 'unknown_device'; detail: string }
  | { reason: 'device_exists'; detail: string }
  /** The record would not be valid: every problem, with its field path. */
  | { reason: 'invalid_device'; detail: string; issues: DeviceRecordIssue[] };

export type DeviceOutcome<T> = ({ ok: true } & T) | ({ ok: false } & DeviceRefusal);

/** A written device, and its new secret when one was generated (shown once). */
export interface WrittenDevice {
  device: DeviceRecord;
  generatedSecret: string | null;
}

export interface DeviceOperations {
  /** Registers a new device; refused if the id exists. */
  add(deviceId: string, fields: DeviceFields, secret: PreparedSecret): Promise<DeviceOutcome<WrittenDevice>>;
  /**
   * Creates the device, or replaces every field of an existing one (keeping its createdAtMs, and its
   * secret when `secret` is null). A new device without a secret gets a generated one.
   */
  put(deviceId: string, fields: DeviceFields, secret: PreparedSecret | null): Promise<DeviceOutcome<WrittenDevice & { created: boolean }>>;
  setEnabled(deviceId: string, enabled: boolean): Promise<DeviceOutcome<WrittenDevice>>;
  rotate(deviceId: string, secret: PreparedSecret): Promise<DeviceOutcome<WrittenDevice>>;
  remove(deviceId: string): Promise<DeviceOutcome<{ device: DeviceRecord }>>;
}

/**
 * Builds the operations over a started registry and producer. With `awaitApplied`, an operation
 * resolves only once `registry` has followed its own write (or after `timeoutMs`, the write being
 * acknowledged anyway), so a caller that reads the registry next sees it: the API's read-your-writes.
 */
export function createDeviceOperations(options: {
  registry: DeviceRegistry;
  producer: KafkaProducerPort;
  topic: string;
  now?: () => number;
  awaitApplied?: { timeoutMs: number };
}): DeviceOperations {
  const { registry, producer, topic } = options;
  const now = options.now ?? Date.now;
  const waiters = new Set<{ deviceId: string; record: DeviceRecord | null; resolve: () => void }>();
  // A record is recognised by its updatedAtMs and secret hash (every write moves updatedAtMs on); a removal by its absence.
  const shows = (after: DeviceRecord | undefined, record: DeviceRecord | null): boolean =>
    record === null ? after === undefined : after?.updatedAtMs === record.updatedAtMs && after.secretHash === record.secretHash;
  if (options.awaitApplied) {
    registry.onChange(({ deviceId, after }) => {
      for (const waiter of waiters) if (waiter.deviceId === deviceId && shows(after, waiter.record)) waiter.resolve();
    });
  }

  /** Resolves once the registry shows `record` (null: the device gone), or after `timeoutMs`; `cancel` releases it. */
  const appliedBy = (deviceId: string, record: DeviceRecord | null, timeoutMs: number): { applied: Promise<void>; cancel: () => void } => {
    let cancel = (): void => {};
    const applied = new Promise<void>((resolve) => {
      const waiter = { deviceId, record, resolve: () => cancel() };
      const timer = setTimeout(() => cancel(), timeoutMs);
      cancel = () => {
        clearTimeout(timer);
        waiters.delete(waiter);
        resolve();
      };
      waiters.add(waiter);
    });
    return { applied, cancel };
  };

  /** Writes the record (null: a tombstone), then waits for the registry to show it when asked to. */
  const write = async (deviceId: string, record: DeviceRecord | null): Promise<void> => {
    // registered before the send: the registry may follow the record before the send resolves
    const wait = options.awaitApplied ? appliedBy(deviceId, record, options.awaitApplied.timeoutMs) : null;
    try {
      await producer.send({ topic, key: deviceId, value: record === null ? null : encodeDeviceRecord(record), headers: {} });
    } catch (error) {
      wait?.cancel();
      throw error;
    }
    await wait?.applied;
  };

  const unknown = (deviceId: string): { ok: false } & DeviceRefusal => ({ ok: false, reason: 'unknown_device', detail: `no device ${JSON.stringify(deviceId)} in the registry` });

  /** The record to write, or every problem with it; nothing is written either way. */
  const build = (deviceId: string, fields: DeviceFields, secretHash: string, existing: DeviceRecord | undefined): DeviceOutcome<{ record: DeviceRecord }> => {
    const at = now();
    const record: DeviceRecord = {
      deviceId,
      secretHash,
      enabled: fields.enabled ?? existing?.enabled ?? true,
      ...(fields.site !== undefined && { site: fields.site }),
      ...(fields.model !== undefined && { model: fields.model }),
      ...(fields.units !== undefined && { units: fields.units }),
      ...(fields.calibration !== undefined && { calibration: fields.calibration }),
      createdAtMs: existing?.createdAtMs ?? at,
      // strictly later than the last write, so a waiter can tell this write from the one before
      updatedAtMs: Math.max(at, (existing?.updatedAtMs ?? -1) + 1),
    };
    const issues = deviceRecordIssues(record);
    if (issues.length > 0) return { ok: false, reason: 'invalid_device', detail: issues.map((issue) => `${issue.path.join('.') || 'record'} ${issue.message}`).join('; '), issues };
    return { ok: true, record };
  };

  const update = async (deviceId: string, change: (device: DeviceRecord) => Promise<Partial<DeviceRecord>>, secret: PreparedSecret | null): Promise<DeviceOutcome<WrittenDevice>> => {
    const existing = registry.get(deviceId);
    if (!existing) return unknown(deviceId);
    const device: DeviceRecord = { ...existing, ...(await change(existing)), updatedAtMs: Math.max(now(), existing.updatedAtMs + 1) };
    await write(deviceId, device);
    return { ok: true, device, generatedSecret: secret?.generated ? secret.secret : null };
  };

  return {
    async add(deviceId, fields, secret) {
      if (registry.get(deviceId)) return { ok: false, reason: 'device_exists', detail: `device ${deviceId} exists already` };
      const built = build(deviceId, fields, await secret.hash, undefined);
      if (!built.ok) return built;
      await write(deviceId, built.record);
      return { ok: true, device: built.record, generatedSecret: secret.generated ? secret.secret : null };
    },

    async put(deviceId, fields, secret) {
      const existing = registry.get(deviceId);
      const fresh = existing === undefined && secret === null ? prepareSecret(undefined) : secret;
      const secretHash = fresh === null ? (existing?.secretHash ?? '') : await fresh.hash;
      const built = build(deviceId, fields, secretHash, existing);
      if (!built.ok) return built;
      await write(deviceId, built.record);
      return { ok: true, device: built.record, created: existing === undefined, generatedSecret: fresh?.generated ? fresh.secret : null };
    },

    setEnabled: (deviceId, enabled) => update(deviceId, () => Promise.resolve({ enabled }), null),

    rotate: (deviceId, secret) => update(deviceId, async () => ({ secretHash: await secret.hash }), secret),

    async remove(deviceId) {
      const existing = registry.get(deviceId);
      if (!existing) return unknown(deviceId);
      await write(deviceId, null);
      return { ok: true, device: existing };
    },
  };
}
