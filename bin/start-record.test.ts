import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { readLiveStartRecord, removeStartRecord, startRecordFile, writeStartRecord } from './start-record.ts';

const cleanups: Array<() => Promise<unknown>> = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

async function home(): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'tributary-start-record-'));
  cleanups.push(() => rm(dir, { recursive: true, force: true }));
  return dir;
}

describe('the start record', () => {
  it("is another run's while that `tributary start` lives, and absent once it is gone", async () => {
    const file = startRecordFile(await home());
    const other = spawn(process.execPath, ['-e', 'setInterval(() => {}, 2 ** 30)', 'start'], { stdio: 'ignore' });
    cleanups.push(async () => void other.kill('SIGKILL'));
    const record = { pid: other.pid ?? 0, startedAt: '2026-12-01T00:00:00.000Z', ports: { 'MQTT TCP': 1883 } };
    await writeStartRecord(file, record);
    expect(await readLiveStartRecord(file)).toEqual(record);

    other.kill('SIGKILL');
    await new Promise((resolve) => other.once('exit', resolve));
    expect(await readLiveStartRecord(file)).toBeNull();
  });

  it('is never our own (ours is removed on stop), and an unreadable one is absent', async () => {
    const file = startRecordFile(await home());
    await writeStartRecord(file, { pid: process.pid, startedAt: '2026-12-01T00:00:00.000Z', ports: {} });
    expect(await readLiveStartRecord(file)).toBeNull();
    await removeStartRecord(file);
    expect(existsSync(file)).toBe(false);
    await writeFile(file, '{"pid": 1');
    expect(await readLiveStartRecord(file)).toBeNull();
  });
});
