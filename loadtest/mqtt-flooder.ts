/**
 * A device that publishes as fast as its TCP socket takes the bytes: raw MQTT 3.1.1 packets on one
 * socket, a new packet whenever the previous write did not fill the socket's buffer. It answers
 * PUBREC with PUBREL (so QoS 2 flows complete) and otherwise only counts acknowledgements: it never
 * waits for one, which is what a broken or hostile device does.
 */
import { connect as connectTcp } from 'node:net';
import { generate, parser, type Packet } from 'mqtt-packet';

export interface FloodResult {
  /** PUBLISH packets written to the socket. */
  written: number;
  /** PUBACKs (QoS 1) or PUBCOMPs (QoS 2) received. */
  acknowledged: number;
  /** The gateway closed the connection before the flood ended. */
  closedByGateway: boolean;
}

export interface Flood {
  /** Stops writing and closes the socket. */
  stop(): Promise<FloodResult>;
}

/** Connects as `deviceId` and floods `topic` until `stop`; rejects if the CONNECT is refused. */
export async function startFlood(options: { port: number; host?: string; deviceId: string; secret: string; topic: string; qos: 0 | 1 | 2; payloadBytes: number }): Promise<Flood> {
  const socket = connectTcp(options.port, options.host ?? '127.0.0.1');
  const decoder = parser({ protocolVersion: 4 });
  const result: FloodResult = { written: 0, acknowledged: 0, closedByGateway: false };
  let stopping = false;
  const connacked = new Promise<void>((resolve, reject) => {
    decoder.on('packet', (packet: Packet) => {
      if (packet.cmd === 'connack') {
        if (packet.returnCode === 0) resolve();
        else reject(new Error(`flooder refused: CONNACK ${packet.returnCode}`));
      } else if (packet.cmd === 'puback' || packet.cmd === 'pubcomp') {
        result.acknowledged += 1;
      } else if (packet.cmd === 'pubrec') {
        socket.write(generate({ cmd: 'pubrel', messageId: packet.messageId ?? 0 }));
      }
    });
    socket.once('close', () => reject(new Error('flooder closed before CONNACK')));
  });
  socket.on('data', (chunk) => decoder.parse(chunk));
  socket.on('error', () => undefined);
  const closed = new Promise<void>((resolve) =>
    socket.once('close', () => {
      result.closedByGateway = !stopping;
      resolve();
    }),
  );
  socket.write(generate({ cmd: 'connect', protocolId: 'MQTT', protocolVersion: 4, clientId: options.deviceId, username: options.deviceId, password: Buffer.from(options.secret), clean: true, keepalive: 0 }));
  await connacked;

  const payload = Buffer.alloc(options.payloadBytes, 0x61);
  let wake: () => void = () => undefined;
  const writing = (async () => {
    let messageId = 0;
    while (!stopping && !socket.destroyed) {
      messageId = (messageId % 65535) + 1;
      const packet = generate({ cmd: 'publish', topic: options.topic, payload, qos: options.qos, messageId: options.qos > 0 ? messageId : undefined, retain: false, dup: false });
      result.written += 1;
      if (!socket.write(packet)) {
        await Promise.race([new Promise<void>((resolve) => (wake = resolve)), new Promise((resolve) => socket.once('drain', resolve)), closed]);
      } else if (result.written % 64 === 0) {
        // Let the socket's acknowledgements (and the rest of this process) in now and then.
        await new Promise((resolve) => setImmediate(resolve));
      }
    }
  })();
  return {
    async stop() {
      stopping = true;
      wake();
      await writing;
      socket.destroy();
      await closed;
      return result;
    },
  };
}
