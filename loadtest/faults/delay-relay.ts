/**
 * A TCP relay between the isolated pipeline process and one server that holds every chunk it
 * forwards, in each direction, for a delay ± jitter while a delay fault is in effect (order kept:
 * a chunk never overtakes the one before it). A latency fault at the stream level, as a delay proxy
 * gives it, since this machine's kernel has no sch_netem: TCP below it sees no loss or reordering.
 * `start` listens, `stop` closes the listener and every relayed connection.
 */
import { createConnection, createServer, type Socket } from 'node:net';

export interface DelayRelay {
  /** Listens; resolves with the port (the one asked for, or the one given for 0). */
  start(): Promise<number>;
  /** Delays what is forwarded from now on; 0 forwards at once. */
  setDelay(delay: { ms: number; jitterMs: number }): void;
  stop(): Promise<void>;
}

export function createDelayRelay(options: { listen: { host: string; port: number }; target: { host: string; port: number }; random?: () => number }): DelayRelay {
  const random = options.random ?? Math.random;
  const sockets = new Set<Socket>();
  let delay = { ms: 0, jitterMs: 0 };
  let stopped: Promise<void> | undefined;

  /** Forwards `from` to `to`, each chunk after the current delay and never before the previous one. */
  const forward = (from: Socket, to: Socket): void => {
    let lastDueMs = 0;
    from.on('data', (chunk: Buffer) => {
      if (delay.ms === 0 && lastDueMs <= performance.now()) {
        if (!to.write(chunk)) from.pause();
        return;
      }
      const dueMs = Math.max(lastDueMs, performance.now() + delay.ms + (random() * 2 - 1) * delay.jitterMs);
      lastDueMs = dueMs;
      setTimeout(() => {
        if (!to.destroyed && !to.write(chunk)) from.pause();
      }, dueMs - performance.now());
    });
    to.on('drain', () => from.resume());
    from.on('end', () => setTimeout(() => to.end(), Math.max(0, lastDueMs - performance.now())));
  };

  const server = createServer((client) => {
    const upstream = createConnection(options.target);
    for (const socket of [client, upstream]) {
      sockets.add(socket);
      socket.on('close', () => sockets.delete(socket));
      // One side failing ends the relayed connection, as a reset would.
      socket.on('error', () => {
        client.destroy();
        upstream.destroy();
      });
    }
    forward(client, upstream);
    forward(upstream, client);
  });

  return {
    start: () =>
      new Promise<number>((resolve, reject) =>
        server.once('error', reject).listen(options.listen.port, options.listen.host, () => {
          const address = server.address();
          resolve(address !== null && typeof address === 'object' ? address.port : options.listen.port);
        }),
      ),
    setDelay(next) {
      delay = next;
    },
    stop: () =>
      (stopped ??= new Promise<void>((resolve) => {
        for (const socket of sockets) socket.destroy();
        server.close(() => resolve());
      })),
  };
}
