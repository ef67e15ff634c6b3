/** Real readiness probes: a Kafka admin metadata call that sees every broker, a QuestDB query, and a Redis PING. */
import { Kafka, logLevel } from 'kafkajs';
import { connect } from 'node:net';

export async function kafkaBrokerCount(bootstrap: readonly string[]): Promise<number> {
  const kafka = new Kafka({
    clientId: 'tributary-stack-probe',
    brokers: [...bootstrap],
    logLevel: logLevel.NOTHING,
    connectionTimeout: 2000,
    requestTimeout: 5000,
    retry: { retries: 0 },
  });
  const admin = kafka.admin();
  try {
    await admin.connect();
    const cluster = await admin.describeCluster();
    return cluster.controller === null ? 0 : cluster.brokers.length;
  } finally {
    await admin.disconnect().catch(() => undefined);
  }
}

export async function questdbAnswers(httpUrl: string): Promise<boolean> {
  const response = await fetch(`${httpUrl}/exec?query=${encodeURIComponent('select 1')}`, { signal: AbortSignal.timeout(3000) });
  return response.ok;
}

/**
 * Whether Redis answers PING with PONG within `timeoutMs`. While Redis still loads its AOF it answers
 * `-LOADING`, which is not ready: PONG means the data is back.
 */
export function redisAnswersPing(host: string, port: number, timeoutMs = 3000): Promise<boolean> {
  return new Promise((resolve) => {
    let received = '';
    const socket = connect({ host, port });
    const finish = (answered: boolean): void => {
      socket.destroy();
      resolve(answered);
    };
    socket.setTimeout(timeoutMs, () => finish(false));
    socket.once('error', () => finish(false));
    socket.once('connect', () => socket.write('*1\r\n$4\r\nPING\r\n'));
    socket.on('data', (chunk: Buffer) => {
      received += chunk.toString('latin1');
      if (received.includes('\r\n')) finish(received === '+PONG\r\n');
    });
    socket.once('end', () => finish(false));
  });
}
