/**
 * Fills the filesystem QuestDB's root is on (a tmpfs the stack mounted for it, `questdbDiskMb`)
 * with a ballast file until it refuses more (ENOSPC), so QuestDB's next file extension fails as on
 * a full disk; healed by deleting the ballast. What QuestDB does in between (refused writes, a
 * suspended table) is what the run measures.
 */
import { open, rm } from 'node:fs/promises';
import { join } from 'node:path';
import type { Fault } from './fault.ts';
import { localQuestdb } from './local-questdb.ts';

const kind = 'questdb-disk-full';
const chunk = Buffer.alloc(1024 * 1024);

/** Appends to `file` until the filesystem is full; returns the bytes written. */
async function fill(file: string): Promise<number> {
  const handle = await open(file, 'w');
  let written = 0;
  try {
    for (;;) {
      const { bytesWritten } = await handle.write(chunk, 0, chunk.length);
      written += bytesWritten;
      if (bytesWritten < chunk.length) return written;
    }
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOSPC') return written;
    throw error;
  } finally {
    await handle.close();
  }
}

export function createQuestdbDiskFull(): Fault {
  let ballast: string | null = null;
  return {
    kind,
    describe: () => "fill QuestDB's filesystem (a tmpfs) with a ballast file; delete it when healed",
    inject: async (environment) => {
      const questdb = await localQuestdb(environment, kind);
      if (questdb.diskMb === null) throw new Error(`${kind} needs QuestDB's root on a tmpfs of its own (the stack's questdbDiskMb, bench --questdb-disk-mb)`);
      ballast = join(questdb.root, 'ballast');
      const bytes = await fill(ballast);
      environment.progress(`${kind}: ${Math.round(bytes / 1024 / 1024)} MiB of ballast fill QuestDB's ${questdb.diskMb} MiB tmpfs`);
    },
    heal: async (environment) => {
      if (ballast === null) return;
      await rm(ballast, { force: true });
      ballast = null;
      environment.progress(`${kind}: ballast deleted, QuestDB's filesystem has room again`);
    },
  };
}
