import { spawn } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { waitFor } from '../core/wait-for.ts';
import { isGroupAlive, startManagedProcess, stopProcessGroup } from './managed-process.ts';

const cleanups: Array<() => Promise<unknown>> = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

describe('startManagedProcess with an owner', () => {
  it('ends the process group when the owner is SIGKILLed (the watchdog notices within a second)', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'tributary-watchdog-'));
    cleanups.push(() => rm(dir, { recursive: true, force: true }));
    const owner = spawn('sleep', ['600'], { stdio: 'ignore' });
    cleanups.push(async () => void owner.kill('SIGKILL'));
    const managed = startManagedProcess({ command: 'sleep', args: ['600'], logFile: join(dir, 'log'), ownerPid: owner.pid });
    cleanups.push(() => stopProcessGroup(managed.pgid, 1000));
    expect(isGroupAlive(managed.pgid)).toBe(true);

    owner.kill('SIGKILL');
    await waitFor(() => !isGroupAlive(managed.pgid), { description: `process group ${managed.pgid} to end after its owner`, timeoutMs: 10_000, intervalMs: 100 });
  });
});
