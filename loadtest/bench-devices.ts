/**
 * The benchmark's devices: ids, secrets, registration in the device registry (records produced to
 * the compacted devices topic, as `tributary devices add` does) and the credentials file that lets
 * the simulator run against a deployment whose registry it cannot write.
 */
import { readFile, writeFile } from 'node:fs/promises';
import { Kafka, logLevel } from 'kafkajs';
import { encodeDeviceRecord, generateSecret, hashSecret, isValidDeviceId, type DeviceRecord } from '../core/device-record.ts';
import type { DeviceCredential } from './device-fleet.ts';

/** `{prefix}-000001` ... : sortable, and valid device ids for any prefix of [A-Za-z0-9_.-]. */
export function benchDeviceIds(prefix: string, count: number): string[] {
  const width = Math.max(6, String(count).length);
  return Array.from({ length: count }, (_, i) => `${prefix}-${String(i + 1).padStart(width, '0')}`);
}

/**
 * New credentials for `count` devices. They share one random secret, so one scrypt hash serves the
 * whole fleet and registering 10,000 devices takes no time; the gateway still verifies the secret
 * (scrypt) on every CONNECT, as it would for distinct ones.
 */
export function createBenchCredentials(prefix: string, count: number): DeviceCredential[] {
  const secret = generateSecret();
  return benchDeviceIds(prefix, count).map((deviceId) => ({ deviceId, secret }));
}

/**
 * Registers the devices: one record per device in `devicesTopic`, acks=all. scrypt N=1024 keeps the
 * gateway's per-CONNECT verification cheap (~1 ms), as the tests do; `site`/`model` label the rows.
 */
export async function registerBenchDevices(options: { brokers: readonly string[]; devicesTopic: string; credentials: readonly DeviceCredential[]; scryptN?: number }): Promise<void> {
  const hashes = new Map<string, string>();
  const now = Date.now();
  const kafka = new Kafka({ clientId: 'tributary-bench', brokers: [...options.brokers], logLevel: logLevel.NOTHING });
  const producer = kafka.producer({ idempotent: true, maxInFlightRequests: 1 });
  await producer.connect();
  try {
    for (let start = 0; start < options.credentials.length; start += 1000) {
      const messages = [];
      for (const { deviceId, secret } of options.credentials.slice(start, start + 1000)) {
        if (!isValidDeviceId(deviceId)) throw new Error(`invalid device id ${JSON.stringify(deviceId)}`);
        let secretHash = hashes.get(secret);
        if (secretHash === undefined) hashes.set(secret, (secretHash = await hashSecret(secret, { N: options.scryptN ?? 1024 })));
        const record: DeviceRecord = { deviceId, secretHash, enabled: true, site: 'bench', model: 'simulator', createdAtMs: now, updatedAtMs: now };
        messages.push({ key: deviceId, value: encodeDeviceRecord(record) });
      }
      await producer.send({ topic: options.devicesTopic, acks: -1, messages });
    }
  } finally {
    await producer.disconnect();
  }
}

/** Reads a credentials file: a JSON array of `{ "deviceId": "...", "secret": "..." }`. */
export async function readCredentialsFile(path: string): Promise<DeviceCredential[]> {
  const parsed: unknown = JSON.parse(await readFile(path, 'utf8'));
  if (!Array.isArray(parsed)) throw new Error(`${path}: expected a JSON array of { deviceId, secret }`);
  return parsed.map((entry: unknown, index) => {
    const { deviceId, secret } = (entry ?? {}) as Record<string, unknown>;
    if (!isValidDeviceId(deviceId) || typeof secret !== 'string' || secret.length === 0) {
      throw new Error(`${path}: entry ${index} needs a valid "deviceId" and a non-empty "secret"`);
    }
    return { deviceId, secret };
  });
}

/** Writes credentials for a later `--credentials` run (mode 0600: they are secrets). */
export async function writeCredentialsFile(path: string, credentials: readonly DeviceCredential[]): Promise<void> {
  await writeFile(path, JSON.stringify(credentials, null, 1) + '\n', { mode: 0o600 });
}
