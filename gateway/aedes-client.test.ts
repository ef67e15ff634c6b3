import { once } from 'node:events';
import { createServer, connect, type Server, type Socket } from 'node:net';
import { Aedes, type Client } from 'aedes';
import { generate } from 'mqtt-packet';
import { afterEach, describe, expect, it } from 'vitest';
import { failClient, refreshKeepalive } from './aedes-client.ts';

let broker: Aedes | null = null;
let server: Server | null = null;
const sockets: Socket[] = [];

afterEach(async () => {
  for (const socket of sockets.splice(0)) socket.destroy();
  if (server) await new Promise<void>((resolve) => server!.close(() => resolve()));
  await new Promise<void>((resolve) => (broker ? broker.close(() => resolve()) : resolve()));
  broker = null;
  server = null;
});

/** A real Aedes broker on a loopback port, and one raw device connected with `keepalive` seconds; resolves with its Aedes client. */
async function connectedDevice(keepalive: number): Promise<{ client: Client; socket: Socket; closedAt: Promise<number> }> {
  broker = await Aedes.createBroker({});
  const target = broker;
  server = createServer((socket) => target.handle(socket));
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const { port } = server.address() as { port: number };
  const ready = once(target, 'client') as Promise<[Client]>;
  const socket = connect(port, '127.0.0.1');
  sockets.push(socket);
  socket.on('error', () => undefined);
  socket.resume(); // reads the CONNACK, so the server's close arrives
  const closedAt = once(socket, 'close').then(() => Date.now());
  socket.write(generate({ cmd: 'connect', protocolId: 'MQTT', protocolVersion: 4, clientId: 'd1', clean: true, keepalive }));
  const [client] = await ready;
  return { client, socket, closedAt };
}

const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

describe('refreshKeepalive', () => {
  it('moves the keepalive deadline of a device that sends Aedes nothing', async () => {
    // keepalive 1 s: Aedes closes after 1.5 s without a packet
    const { client, closedAt } = await connectedDevice(1);
    const startedAt = Date.now();
    for (let i = 0; i < 5; i++) {
      await sleep(500);
      refreshKeepalive(client);
    }
    const closed = await closedAt;
    // open for the 2.5 s of refreshes, then closed within the 1.5 s deadline after the last one
    expect(closed - startedAt).toBeGreaterThanOrEqual(2_500 + 1_400);
    expect(closed - startedAt).toBeLessThan(2_500 + 2_500);
  }, 10_000);

  it('leaves a connection without keepalive alone', async () => {
    const { client, socket } = await connectedDevice(0);
    refreshKeepalive(client);
    await sleep(50);
    expect(socket.destroyed).toBe(false);
  });
});

describe('failClient', () => {
  it('closes the connection as Aedes does for a refused publish, reporting a client error', async () => {
    const { client, closedAt } = await connectedDevice(60);
    const reported = once(broker!, 'clientError') as Promise<[Client, Error]>;
    failClient(client, new Error('not acknowledged'));
    const [, error] = await reported;
    expect(error.message).toBe('not acknowledged');
    await closedAt;
  });
});
