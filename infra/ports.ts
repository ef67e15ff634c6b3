/** Port checks for the local stack and `tributary start`: refuse a taken port (naming who holds it), wait for ports to be free. */
import { readdir, readFile, readlink } from 'node:fs/promises';
import { createServer } from 'node:net';
import { falseOnTimeout, waitFor } from '../core/wait-for.ts';

export function isPortFree(host: string, port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const server = createServer();
    server.once('error', () => resolve(false));
    server.listen({ host, port, exclusive: true }, () => server.close(() => resolve(true)));
  });
}

/** Each taken port as `host:port (purpose)`, followed by the process that listens on it where that can be told. */
export async function takenPorts(host: string, ports: Record<string, number>): Promise<string[]> {
  const taken: string[] = [];
  for (const [purpose, port] of Object.entries(ports)) {
    if (await isPortFree(host, port)) continue;
    const holder = await portListener(port);
    taken.push(`${host}:${port} (${purpose})${holder ? ` held by pid ${holder.pid} (${holder.command})` : ''}`);
  }
  return taken;
}

export async function assertPortsFree(host: string, ports: Record<string, number>): Promise<void> {
  const taken = await takenPorts(host, ports);
  if (taken.length > 0) {
    throw new Error(
      `port(s) already in use: ${taken.join(', ')}. Stop whatever holds them (is a stack already running? ` +
        '`tributary stack status`), or choose other ports with TRIBUTARY_STACK_PORT_BASE.',
    );
  }
}

/** A TCP socket in the LISTEN state, in /proc/net/tcp's `st` column. */
const tcpListen = '0A';

/**
 * The process listening on a TCP port, found through /proc (Linux; null elsewhere, or when the
 * holder belongs to another user): the socket's inode from /proc/net/tcp{,6}, then the process
 * whose file descriptors include that socket.
 */
export async function portListener(port: number): Promise<{ pid: number; command: string } | null> {
  const inodes = new Set<string>();
  for (const table of ['/proc/net/tcp', '/proc/net/tcp6']) {
    const text = await readFile(table, 'utf8').catch(() => '');
    for (const line of text.split('\n').slice(1)) {
      const [, local = '', , state, , , , , , inode] = line.trim().split(/\s+/);
      if (state === tcpListen && inode !== undefined && Number.parseInt(local.split(':')[1] ?? '', 16) === port) inodes.add(inode);
    }
  }
  if (inodes.size === 0) return null;
  for (const entry of await readdir('/proc').catch(() => [])) {
    if (!/^\d+$/.test(entry)) continue;
    const fds = await readdir(`/proc/${entry}/fd`).catch(() => []);
    for (const fd of fds) {
      const link = await readlink(`/proc/${entry}/fd/${fd}`).catch(() => '');
      const socket = /^socket:\[(\d+)\]$/.exec(link)?.[1];
      if (socket !== undefined && inodes.has(socket)) {
        const command = await readFile(`/proc/${entry}/cmdline`, 'utf8').catch(() => '');
        return { pid: Number(entry), command: command.split('\0').join(' ').trim() };
      }
    }
  }
  return null;
}

export async function waitForPortsFree(host: string, ports: readonly number[], timeoutMs: number): Promise<number[]> {
  let busy = [...ports];
  const allFree = async (): Promise<boolean> => {
    const stillBusy: number[] = [];
    for (const port of busy) if (!(await isPortFree(host, port))) stillBusy.push(port);
    busy = stillBusy;
    return busy.length === 0;
  };
  await waitFor(allFree, { description: `ports ${ports.join(', ')} to be free`, timeoutMs, intervalMs: 200 }).catch(falseOnTimeout);
  return busy;
}
