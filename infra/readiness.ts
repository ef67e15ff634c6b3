/** Real readiness probes: a Kafka admin metadata call that sees every broker, and a QuestDB query. */
import { Kafka, logLevel } from 'kafkajs';
import { setTimeout as delay } from 'node:timers/promises';

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
 * Polls `probe` until it returns true. Fails early when `failed()` reports the process died, and
 * with a clear message after `timeoutMs`.
 */
export async function waitUntil(
  what: string,
  probe: () => Promise<boolean>,
  options: { timeoutMs: number; failed: () => string | null },
): Promise<number> {
  const started = Date.now();
  let lastError = '';
  for (;;) {
    const failure = options.failed();
    if (failure !== null) throw new Error(`${what} failed to start: ${failure}`);
    try {
      if (await probe()) return Date.now() - started;
    } catch (error) {
      lastError = error instanceof Error ? error.message : String(error);
    }
    if (Date.now() - started > options.timeoutMs) {
      throw new Error(`${what} was not ready after ${options.timeoutMs} ms${lastError ? ` (last error: ${lastError})` : ''}`);
    }
    await delay(250);
  }
}
