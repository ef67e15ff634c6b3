/**
 * The record a running `tributary start` leaves in TRIBUTARY_HOME (start.json): its pid and the
 * ports it serves, so that a second one can say which process holds them instead of failing on a
 * taken port. A record whose process is gone (SIGKILL leaves it behind) counts as absent.
 */
import { existsSync } from 'node:fs';
import { mkdir, readFile, rm, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';

export interface StartRecord {
  pid: number;
  startedAt: string;
  /** Port by purpose, e.g. { 'MQTT TCP': 1883 }. */
  ports: Record<string, number>;
}

export function startRecordFile(home: string): string {
  return join(home, 'start.json');
}

/** The record of a `tributary start` that is still running, or null. */
export async function readLiveStartRecord(file: string): Promise<StartRecord | null> {
  const record = await readStartRecord(file);
  if (record === null || record.pid === process.pid || !(await isTributaryStart(record.pid))) return null;
  return record;
}

export async function writeStartRecord(file: string, record: StartRecord): Promise<void> {
  await mkdir(dirname(file), { recursive: true });
  await writeFile(file, `${JSON.stringify(record, null, 2)}\n`);
}

/** Removes the record, unless it is another process's (a second start that raced this one). */
export async function removeStartRecord(file: string): Promise<void> {
  if ((await readStartRecord(file))?.pid === process.pid) await rm(file, { force: true });
}

export function describeStartRecord(record: StartRecord): string {
  const ports = Object.entries(record.ports).map(([purpose, port]) => `${purpose} ${port}`);
  return `pid ${record.pid}, running since ${record.startedAt}, ports ${ports.join(', ')}`;
}

/** The record, or null when there is none or it is unreadable (a run killed while writing it). */
async function readStartRecord(file: string): Promise<StartRecord | null> {
  if (!existsSync(file)) return null;
  try {
    const record = JSON.parse(await readFile(file, 'utf8')) as Partial<StartRecord>;
    return Number.isInteger(record.pid) && typeof record.startedAt === 'string' && typeof record.ports === 'object' ? (record as StartRecord) : null;
  } catch {
    return null;
  }
}

async function isTributaryStart(pid: number): Promise<boolean> {
  try {
    process.kill(pid, 0);
  } catch (error) {
    // EPERM: it exists, under another user.
    if ((error as NodeJS.ErrnoException).code !== 'EPERM') return false;
  }
  // A reused pid is some other program: where /proc tells, check the command line.
  const command = await readFile(`/proc/${pid}/cmdline`, 'utf8').catch(() => null);
  return command === null || command.split('\0').includes('start');
}
