/** Real readiness probes: a Kafka admin metadata call that sees every broker, and a QuestDB query. */
import { Kafka, logLevel } from 'kafkajs';

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
