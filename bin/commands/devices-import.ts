/**
 * `tributary devices import FILE`: registers many devices at once. The file was checked whole before this runs
 * (bin/device-import-file.ts); this hashes the secrets on the thread pool and writes the records through the
 * product's producer, a chunk at a time, while the next chunk is being hashed.
 */
import { open } from 'node:fs/promises';
import { defaultScryptParams, encodeDeviceRecord, generateSecret, hashSecret } from '../../core/device-record.ts';
import type { DeviceRegistry } from '../../core/device-registry.ts';
import type { KafkaProducerPort, OutgoingRecord } from '../../core/kafka-port.ts';
import { importedRecord, planDeviceImport, type DeviceImportProblem, type DeviceImportRow, type PlannedDevice } from '../device-import-file.ts';

// Records per sendMany: big enough to keep Kafka batches full, small enough that hashing and sending overlap.
const chunkRecords = 500;

export interface DevicesImportOptions {
  rows: readonly DeviceImportRow[];
  /** Problems the file check found; any of them stops the import unless `partial`. */
  fileProblems: readonly DeviceImportProblem[];
  update: boolean;
  partial: boolean;
  /** Where generated secrets are written (`deviceId,secret` CSV, mode 0600, never overwritten); null: none generated. */
  credentialsPath: string | null;
  registry: DeviceRegistry;
  producer: KafkaProducerPort;
  topic: string;
  out: (text: string) => void;
}

/** Runs the import; resolves to the exit code (0 only when every line of the file was imported). */
export async function importDevices(options: DevicesImportOptions): Promise<number> {
  const { out } = options;
  const plan = planDeviceImport(options.rows, (id) => options.registry.get(id), { update: options.update, generateSecrets: options.credentialsPath !== null });
  const problems = [...options.fileProblems, ...plan.problems].sort((a, b) => a.line - b.line);
  for (const problem of problems) out(`line ${problem.line}: ${problem.reason}\n`);
  if (problems.length > 0 && !options.partial) {
    out(`${problems.length} line(s) cannot be imported; nothing was imported (--partial imports the good lines)\n`);
    return 1;
  }
  const secrets = await writeGeneratedSecrets(plan.planned, options.credentialsPath);
  const startedAtMs = performance.now();
  const { N, r, p } = defaultScryptParams;
  let imported = 0;
  let sending: Promise<void> = Promise.resolve();
  try {
    for (let start = 0; start < plan.planned.length; start += chunkRecords) {
      const chunk = plan.planned.slice(start, start + chunkRecords);
      // all of a chunk's scrypt calls are queued on libuv's thread pool at once: hashing never blocks the loop
      const records = await Promise.all(chunk.map((planned) => toOutgoing(planned, secrets, options.topic)));
      await sending;
      sending = options.producer.sendMany(records).then(() => void (imported += records.length));
      // awaited on the next round or below; this only keeps an early failure from counting as unhandled
      sending.catch(() => {});
    }
    await sending;
  } catch (error) {
    out(`import failed after ${imported} device(s): ${error instanceof Error ? error.message : String(error)}\n`);
    out('devices written so far stay registered; fix the cause and run the import again with --update\n');
    return 1;
  }
  const seconds = (performance.now() - startedAtMs) / 1000;
  const updated = plan.planned.filter((planned) => planned.existing !== undefined).length;
  const hashed = plan.planned.filter((planned) => planned.secret.kind !== 'keep').length;
  out(
    `imported ${imported} device(s): ${imported - updated} added, ${updated} updated, ${problems.length} line(s) skipped; ` +
      `${hashed} secret(s) hashed (scrypt N=${N} r=${r} p=${p}) in ${seconds.toFixed(1)} s, ${Math.round(imported / Math.max(seconds, 0.001))} devices/s\n`,
  );
  if (secrets.size > 0) out(`${secrets.size} generated secret(s) written to ${options.credentialsPath}\n`);
  return problems.length > 0 ? 1 : 0;
}

async function toOutgoing(planned: PlannedDevice, generated: ReadonlyMap<string, string>, topic: string): Promise<OutgoingRecord> {
  const { secret, existing, row } = planned;
  const secretHash =
    secret.kind === 'keep' ? (existing?.secretHash ?? '') : await hashSecret(secret.kind === 'given' ? secret.value : (generated.get(row.deviceId) ?? ''));
  return { topic, key: row.deviceId, value: encodeDeviceRecord(importedRecord(planned, secretHash, Date.now())), headers: {} };
}

/** Generates the missing secrets and writes them out before any device is registered, so none is ever lost. */
async function writeGeneratedSecrets(planned: readonly PlannedDevice[], path: string | null): Promise<Map<string, string>> {
  const secrets = new Map(planned.filter((device) => device.secret.kind === 'generate').map((device) => [device.row.deviceId, generateSecret()]));
  if (secrets.size === 0 || path === null) return secrets;
  // 'wx': an earlier run's credentials are never overwritten
  const file = await open(path, 'wx', 0o600);
  try {
    await file.writeFile(`deviceId,secret\n${[...secrets].map(([id, secret]) => `${id},${secret}\n`).join('')}`);
  } finally {
    await file.close();
  }
  return secrets;
}
