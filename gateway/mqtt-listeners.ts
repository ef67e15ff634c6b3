/**
 * The MQTT transports: plain TCP, TLS (optionally with device client certificates) and MQTT over
 * WebSocket. Each accepted stream goes to `onConnection`; listeners close on stop. A WebSocket message
 * longer than the packet limit is refused by ws from its frame header (close code 1009, Message Too
 * Big) and reported to `onMessageTooBig`.
 */
import { readFileSync } from 'node:fs';
import { createServer as createHttpServer, type Server as HttpServer } from 'node:http';
import { createServer as createTcpServer, type Server as TcpServer } from 'node:net';
import type { Duplex } from 'node:stream';
import { createServer as createTlsServer, type TLSSocket } from 'node:tls';
import { WebSocketServer, createWebSocketStream } from 'ws';
import type { GatewayConfig } from './gateway-config.ts';

export interface AcceptedConnection {
  stream: Duplex;
  /** Common name of a client certificate the TLS layer verified against our CA. */
  certificateSubject: string | undefined;
  remoteAddress: string | undefined;
}

export interface MqttListeners {
  start(): Promise<void>;
  /**
   * Stops accepting connections; existing ones stay open. The promise resolves once every
   * connection has ended too (Node closes a server only after its last connection).
   */
  stopAccepting(): Promise<void>;
  addresses(): Record<string, number>;
}

export function createMqttListeners(
  config: GatewayConfig,
  handlers: { onConnection: (connection: AcceptedConnection) => void; onMessageTooBig: (remoteAddress: string | undefined) => void },
): MqttListeners {
  const { onConnection } = handlers;
  const servers: Array<{ name: string; server: TcpServer | HttpServer; host: string; port: number }> = [];
  let wss: WebSocketServer | null = null;

  return {
    async start() {
      if (config.tcp.enabled) {
        const server = createTcpServer({ noDelay: true }, (socket) =>
          onConnection({ stream: socket, certificateSubject: undefined, remoteAddress: socket.remoteAddress }),
        );
        server.maxConnections = config.maxConnections;
        servers.push({ name: 'tcp', server, host: config.tcp.host, port: config.tcp.port });
      }
      if (config.tls.enabled) {
        const { certFile, keyFile, caFile, clientCert } = config.tls;
        const server = createTlsServer(
          {
            cert: readFileSync(certFile!),
            key: readFileSync(keyFile!),
            ca: caFile ? readFileSync(caFile) : undefined,
            requestCert: clientCert !== 'off',
            rejectUnauthorized: clientCert === 'required',
          },
          (socket: TLSSocket) => {
            const subject = socket.authorized ? socket.getPeerCertificate().subject?.CN : undefined;
            onConnection({ stream: socket, certificateSubject: typeof subject === 'string' ? subject : undefined, remoteAddress: socket.remoteAddress });
          },
        );
        server.maxConnections = config.maxConnections;
        servers.push({ name: 'tls', server, host: config.tls.host, port: config.tls.port });
      }
      if (config.ws.enabled) {
        const server = createHttpServer((_request, response) => response.writeHead(426, { 'content-type': 'text/plain' }).end('MQTT over WebSocket only\n'));
        wss = new WebSocketServer({
          server,
          path: config.ws.path,
          handleProtocols: (protocols) => (protocols.has('mqtt') ? 'mqtt' : false),
          // Checked from each frame header before its payload is buffered (ws counts payload bytes only).
          maxPayload: config.maxPacketBytes,
        });
        wss.on('connection', (socket, request) => {
          const remoteAddress = request.socket.remoteAddress;
          socket.on('error', (error: Error & { code?: string }) => {
            if (error.code === 'WS_ERR_UNSUPPORTED_MESSAGE_LENGTH') handlers.onMessageTooBig(remoteAddress);
          });
          onConnection({ stream: createWebSocketStream(socket), certificateSubject: undefined, remoteAddress });
        });
        servers.push({ name: 'ws', server, host: config.ws.host, port: config.ws.port });
      }
      for (const entry of servers) {
        await new Promise<void>((resolve, reject) => {
          entry.server.once('error', (error) => reject(new Error(`MQTT ${entry.name} listener on ${entry.host}:${entry.port}: ${error.message}`)));
          entry.server.listen(entry.port, entry.host, () => resolve());
        });
        const address = entry.server.address();
        if (address && typeof address === 'object') entry.port = address.port;
      }
    },
    async stopAccepting() {
      wss?.close();
      await Promise.all(servers.map(({ server }) => new Promise<void>((resolve) => server.close(() => resolve()))));
    },
    addresses: () => Object.fromEntries(servers.map(({ name, port }) => [name, port])),
  };
}
