/**
 * `tributary devices` against the real Kafka, run as an operator runs it (a child process): it
 * writes device records to the compacted devices topic through the product's producer, reads them
 * back through the registry follower, and removes a device with a tombstone.
 */
import { afterEach, describe, expect, inject, it } from 'vitest';
import { decodeDeviceRecord, verifySecret } from '../core/device-record.ts';
import { explain, startEnrichHarness, type EnrichHarness } from './enrich-harness.ts';

const brokers = inject('kafkaBrokers');
const questdbHttpUrl = inject('questdbHttpUrl');
const cleanups: Array<() => Promise<void>> = [];

afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

/** Runs `tributary devices <args>` to its end; fails with the child's output unless it exits 0. */
async function devices(h: EnrichHarness, args: readonly string[]): Promise<string> {
  // Logs go to stdout too; the kafkajs follower warns while a fresh group coordinator loads.
  const child = h.spawnCli(['devices', ...args], { LOG_LEVEL: 'error' });
  const { code } = await child.exited;
  if (code !== 0) return explain(child)(new Error(`tributary devices ${args.join(' ')} exited with ${code}`));
  return child.stdout();
}

describe('tributary devices', () => {
  it('adds and removes a device through the devices topic, and lists what the registry then holds', async () => {
    const h = await startEnrichHarness({ brokers, questdbHttpUrl, telemetryPartitions: 1 });
    cleanups.push(() => h.close());

    expect(await devices(h, ['add', 'cli-dev-1', '--secret', 'cli-dev-1-secret', '--site', 'lab', '--unit', 'temperature=degC'])).toBe('added device cli-dev-1\n');
    const [added] = await h.readTopic(h.topics.devices, 1);
    expect(added?.key).toBe('cli-dev-1');
    const decoded = decodeDeviceRecord('cli-dev-1', added?.value ?? null);
    expect(decoded).toMatchObject({ ok: true, value: { deviceId: 'cli-dev-1', enabled: true, site: 'lab', units: { temperature: 'degC' } } });
    expect(decoded.ok && decoded.value !== null && (await verifySecret('cli-dev-1-secret', decoded.value.secretHash))).toBe(true);

    // `remove` refuses a device its registry does not have: it read back what `add` wrote.
    expect(await devices(h, ['remove', 'cli-dev-1'])).toBe('removed device cli-dev-1\n');
    const [, removed] = await h.readTopic(h.topics.devices, 2);
    expect(removed).toMatchObject({ key: 'cli-dev-1', value: null });
    expect(JSON.parse(await devices(h, ['list', '--json']))).toEqual([]);
  }, 300_000); // each command's registry follower joins a new consumer group: tens of seconds on a busy machine
});
