/**
 * A size-bounded tmpfs for a stack's QuestDB root, so a fault can fill it (disk full). Mounting
 * needs root (CAP_SYS_ADMIN). tmpfs refuses writes and fallocate beyond `size=` with ENOSPC, like
 * a full disk, and leaves no image file or loop device behind once unmounted.
 */
import { execFile } from 'node:child_process';
import { readFile } from 'node:fs/promises';
import { resolve } from 'node:path';
import { promisify } from 'node:util';

const run = promisify(execFile);

/** Whether `path` is a mount point now (from /proc/self/mounts; octal escapes as the kernel writes them). */
async function isMountPoint(path: string): Promise<boolean> {
  const target = resolve(path);
  const mounts = await readFile('/proc/self/mounts', 'utf8');
  return mounts.split('\n').some((line) => line.split(' ')[1]?.replace(/\\(\d{3})/g, (_, octal: string) => String.fromCharCode(parseInt(octal, 8))) === target);
}

/** Mounts a tmpfs of `sizeMb` MiB on the (existing, empty) directory `path`. */
export async function mountTmpfs(path: string, sizeMb: number): Promise<void> {
  try {
    await run('mount', ['-t', 'tmpfs', '-o', `size=${sizeMb}m,mode=0755`, 'tributary-questdb', path]);
  } catch (error) {
    throw new Error(`could not mount a ${sizeMb} MiB tmpfs on ${path} (needs root): ${error instanceof Error ? error.message : String(error)}`, { cause: error });
  }
}

/** Unmounts `path` if something is mounted there; resolves either way once nothing is. */
export async function unmountIfMounted(path: string): Promise<boolean> {
  if (!(await isMountPoint(path))) return false;
  try {
    await run('umount', [path]);
  } catch (error) {
    // Unmounted meanwhile by a concurrent stop (a start that failed while the stack was being stopped).
    if (!(await isMountPoint(path))) return false;
    throw error;
  }
  return true;
}
