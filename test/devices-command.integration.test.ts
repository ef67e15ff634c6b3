/**
 * `tributary devices` against the real Kafka, run as an operator runs it (a child process): it
 * writes device records to the compacted devices topic through the product's producer, reads them
 * back through the registry follower, and removes a device with a tombstone.
 */
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
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
async function devices(h: EnrichHarness, args: readonly string[], expectedCode = 0): Promise<string> {
  // Logs go to stdout too; the kafkajs follower warns while a fresh group coordinator loads.
  const child = h.spawnCli(['devices', ...args], { LOG_LEVEL: 'error' });
  const hung = setTimeout(() => child.process.kill('SIGKILL'), 120_000);
  const { code } = await child.exited;
  clearTimeout(hung);
  if (code !== expectedCode) return explain(child)(new Error(`tributary devices ${args.join(' ')} exited with ${code}, expected ${expectedCode}`));
  return child.stdout();
}

async function tempDir(): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'tributary-import-'));
  cleanups.push(() => rm(dir, { recursive: true, force: true }));
  return dir;
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

  it('imports a few hundred devices from a CSV file, and a file with bad lines imports nothing and names each one', async () => {
    const h = await startEnrichHarness({ brokers, questdbHttpUrl, telemetryPartitions: 1 });
    cleanups.push(() => h.close());
    const dir = await tempDir();
    const count = 240;
    // every third device has no secret: it gets a generated one, written to the credentials file
    const lines = Array.from({ length: count }, (_, i) => `bulk-${i},${i % 3 === 0 ? '' : `bulk-secret-${i}`},site-${i % 4},temperature=degF`);
    const file = join(dir, 'devices.csv');
    await writeFile(file, `deviceId,secret,site,units\n${lines.join('\n')}\n`);
    const credentials = join(dir, 'credentials.csv');

    const report = await devices(h, ['import', file, '--credentials', credentials]);
    expect(report).toMatch(new RegExp(`^imported ${count} device\\(s\\): ${count} added, 0 updated, 0 line\\(s\\) skipped`));
    const generated = (await readFile(credentials, 'utf8')).trim().split('\n');
    expect(generated[0]).toBe('deviceId,secret');
    expect(generated).toHaveLength(1 + count / 3);

    const records = await h.readTopic(h.topics.devices, count);
    const byId = new Map(records.map((record) => [record.key, decodeDeviceRecord(record.key ?? '', record.value)]));
    const given = byId.get('bulk-7');
    expect(given).toMatchObject({ ok: true, value: { deviceId: 'bulk-7', enabled: true, site: 'site-3', units: { temperature: 'degF' } } });
    expect(given?.ok && given.value !== null && (await verifySecret('bulk-secret-7', given.value.secretHash))).toBe(true);
    const [generatedId, generatedSecret] = (generated[1] ?? '').split(',');
    const fromFile = byId.get(generatedId ?? null);
    expect(fromFile?.ok && fromFile.value !== null && (await verifySecret(generatedSecret ?? '', fromFile.value.secretHash))).toBe(true);

    // bad lines and an existing id: every one is named, and nothing is written
    const bad = join(dir, 'bad.jsonl');
    await writeFile(bad, ['{"deviceId":"fresh-1","secret":"fresh-1-secret"}', '{"deviceId":"bulk-1","secret":"bulk-secret-1"}', '{"deviceId":"no/slash","secret":"fresh-2-secret"}', '{"deviceId":"fresh-3","secret":"short"}', 'not json'].join('\n'));
    const refused = await devices(h, ['import', bad], 1);
    expect(refused).toMatch(/^line 2: device bulk-1 exists already/m);
    expect(refused).toMatch(/^line 3: deviceId must be/m);
    expect(refused).toMatch(/^line 4: secret must have at least 8 characters/m);
    expect(refused).toMatch(/^line 5: not valid JSON/m);
    expect(refused).toMatch(/^4 line\(s\) cannot be imported; nothing was imported/m);

    const listed = JSON.parse(await devices(h, ['list', '--json'])) as Array<{ deviceId: string }>;
    expect(listed).toHaveLength(count);
    expect(listed.some((device) => device.deviceId === 'fresh-1')).toBe(false);
    expect([...(await h.endOffsets(h.topics.devices)).values()]).toEqual([count]);
  }, 400_000); // 240 scrypt hashes at the production cost: seconds alone, minutes on a machine shared with other runs
});
