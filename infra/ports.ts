/** Port checks for the local stack: refuse to start on a taken port, wait for ports to be free. */
import { createServer } from 'node:net';
import { setTimeout as delay } from 'node:timers/promises';

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
  const deadline = Date.now() + timeoutMs;
  let busy = [...ports];
  while (busy.length > 0 && Date.now() < deadline) {
    const stillBusy: number[] = [];
    for (const port of busy) if (!(await isPortFree(host, port))) stillBusy.push(port);
    busy = stillBusy;
    if (busy.length > 0) await delay(200);
  }
  return busy;
}
