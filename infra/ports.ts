/** Port checks for the local stack: refuse to start on a taken port, wait for ports to be free. */
import { createServer } from 'node:net';
import { falseOnTimeout, waitFor } from '../core/wait-for.ts';

export function isPortFree(host: string, port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const server = createServer();
    server.once('error', () => resolve(false));
    server.listen({ host, port, exclusive: true }, () => server.close(() => resolve(true)));
  });
}

export async function assertPortsFree(host: string, ports: Record<string, number>): Promise<void> {
  const taken: string[] = [];
  for (const [purpose, port] of Object.entries(ports)) {
    if (!(await isPortFree(host, port))) taken.push(`${host}:${port} (${purpose})`);
  }
  if (taken.length > 0) {
    throw new Error(
      `port(s) already in use: ${taken.join(', ')}. Stop whatever holds them (is a stack already running? ` +
        '`tributary stack status`), or choose other ports with TRIBUTARY_STACK_PORT_BASE.',
    );
  }
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
