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

/** A log file in a directory of its own, removed after the test. */
async function tempLogFile(): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'tributary-watchdog-'));
  cleanups.push(() => rm(dir, { recursive: true, force: true }));
  return join(dir, 'log');
}

describe('startManagedProcess with an owner', () => {
  it('ends the process group when the owner is SIGKILLed (the watchdog notices within a second)', async () => {
    const logFile = await tempLogFile();
    const owner = spawn('sleep', ['600'], { stdio: 'ignore' });
    cleanups.push(async () => void owner.kill('SIGKILL'));
    const managed = startManagedProcess({ command: 'sleep', args: ['600'], logFile, ownerPid: owner.pid });
    cleanups.push(() => stopProcessGroup(managed.pgid, 1000));
    expect(isGroupAlive(managed.pgid)).toBe(true);

    owner.kill('SIGKILL');
    await waitFor(() => !isGroupAlive(managed.pgid), { description: `process group ${managed.pgid} to end after its owner`, timeoutMs: 10_000, intervalMs: 100 });
  }, 15_000);

  it('ends the process group when the owner was gone before the watchdog started', async () => {
    const logFile = await tempLogFile();
    const owner = spawn('true', [], { stdio: 'ignore' });
    await new Promise((resolve) => owner.once('exit', resolve));
    const managed = startManagedProcess({ command: 'sleep', args: ['600'], logFile, ownerPid: owner.pid });
    cleanups.push(() => stopProcessGroup(managed.pgid, 1000));

    await waitFor(() => !isGroupAlive(managed.pgid), { description: `process group ${managed.pgid} to end without its owner`, timeoutMs: 10_000, intervalMs: 100 });
  }, 15_000);

  it('exits with the status of the child when it ends first, leaving nothing of the group behind', async () => {
    const logFile = await tempLogFile();
    const owner = spawn('sleep', ['600'], { stdio: 'ignore' });
    cleanups.push(async () => void owner.kill('SIGKILL'));
    const managed = startManagedProcess({ command: 'sh', args: ['-c', 'sleep 0.3; exit 3'], logFile, ownerPid: owner.pid });
    cleanups.push(() => stopProcessGroup(managed.pgid, 1000));

    expect(await managed.exited).toBe(3);
    await waitFor(() => !isGroupAlive(managed.pgid), { description: `the watcher of process group ${managed.pgid} to end`, timeoutMs: 10_000, intervalMs: 100 });
  }, 15_000);
});
