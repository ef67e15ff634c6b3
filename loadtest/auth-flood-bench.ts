/**
 * What a wrong-password flood costs the fleet: registers two devices with the default scrypt cost,
 * starts one `tributary gateway` process (from the checkout given, so an older commit can be measured
 * the same way), then
 *   1. times 10 wrong-password refusals for the registered id and 10 for unknown ids, interleaved;
 *   2. sends `attempts` wrong-password CONNECTs for the registered id from `concurrency` sockets while
 *      a legitimate device publishes QoS 1 every 20 ms, and prints CONNACK latency and codes, the
 *      legitimate device's PUBACK latency, and the gateway's auth refusal counters.
 *
 *   node loadtest/auth-flood-bench.ts [attempts=5000] [concurrency=50] [checkout=this one]
 *
 * Needs TRIBUTARY_KAFKA_BROKERS (e.g. a `tributary stack up --no-questdb` stack). The gateway inherits
 * the environment, so the gateway's auth limit settings pass through.
 */
import { spawn } from 'node:child_process';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Kafka, logLevel } from 'kafkajs';
import mqtt from 'mqtt';
import { waitFor } from '../core/wait-for.ts';
import { stopKafkajsIdleLoop } from '../kafka/kafkajs-idle-loop.ts';
import { registerBenchDevices } from './bench-devices.ts';

stopKafkajsIdleLoop();
const attempts = Number(process.argv[2] ?? 5000);
const concurrency = Number(process.argv[3] ?? 50);
const checkout = process.argv[4] ?? fileURLToPath(new URL('..', import.meta.url));
const brokers = (process.env.TRIBUTARY_KAFKA_BROKERS ?? '').split(',').filter(Boolean);
if (brokers.length === 0) throw new Error('set TRIBUTARY_KAFKA_BROKERS');
const run = Date.now().toString(36);
const topics = { telemetry: `iot.telemetry.authflood_${run}`, devices: `iot.devices.authflood_${run}` };
const mqttPort = 18830 + Math.floor(Math.random() * 100);

const kafka = new Kafka({ clientId: 'auth-flood-bench', brokers, logLevel: logLevel.NOTHING });
const admin = kafka.admin();
await admin.connect();
await admin.createTopics({ topics: [{ topic: topics.telemetry, numPartitions: 3 }, { topic: topics.devices, numPartitions: 1 }], waitForLeaders: true });
const legit = { deviceId: 'legit-1', secret: 'legit-secret-1' };
const target = { deviceId: 'target-1', secret: 'target-secret-1' };
// the default cost (N=16384), as `tributary devices add` stores it
await registerBenchDevices({ brokers, devicesTopic: topics.devices, credentials: [legit, target], scryptN: 16384 });

const child = spawn(process.execPath, [join(checkout, 'bin/tributary.ts'), 'gateway'], {
  env: {
    ...process.env,
    TRIBUTARY_TOPIC_TELEMETRY: topics.telemetry,
    TRIBUTARY_TOPIC_DEVICES: topics.devices,
    TRIBUTARY_MQTT_HOST: '127.0.0.1',
    TRIBUTARY_MQTT_TCP_PORT: String(mqttPort),
    TRIBUTARY_MQTT_WS_ENABLED: 'false',
    TRIBUTARY_HTTP_HOST: '127.0.0.1',
    TRIBUTARY_GATEWAY_HTTP_PORT: String(mqttPort + 1000),
    LOG_LEVEL: 'error',
  },
  stdio: 'inherit',
});

const connectOnce = async (deviceId: string, secret: string): Promise<{ code: number; ms: number }> => {
  const started = performance.now();
  try {
    const client = await mqtt.connectAsync(`mqtt://127.0.0.1:${mqttPort}`, { clientId: deviceId, username: deviceId, password: secret, reconnectPeriod: 0, connectTimeout: 60_000 });
    await client.endAsync();
    return { code: 0, ms: performance.now() - started };
  } catch (error) {
    return { code: (error as { code?: number }).code ?? -1, ms: performance.now() - started };
  }
};
const percentile = (values: number[], p: number): number => {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))] ?? NaN;
};
const fmt = (ms: number): string => `${ms.toFixed(1)} ms`;

try {
  await waitFor(async () => (await connectOnce(legit.deviceId, legit.secret)).code === 0, { description: 'gateway serving', timeoutMs: 60_000, intervalMs: 500 });

  const known: number[] = [];
  const unknown: number[] = [];
  for (let i = 0; i < 10; i += 1) {
    known.push((await connectOnce(target.deviceId, `wrong-${i}`)).ms);
    unknown.push((await connectOnce(`ghost-${run}-${i}`, `wrong-${i}`)).ms);
  }
  process.stdout.write(`refusal time, median of 10: registered id ${fmt(percentile(known, 50))}, unknown id ${fmt(percentile(unknown, 50))}\n`);

  const device = await mqtt.connectAsync(`mqtt://127.0.0.1:${mqttPort}`, { clientId: legit.deviceId, username: legit.deviceId, password: legit.secret, reconnectPeriod: 0 });
  const pubacks: number[] = [];
  let publishFailures = 0;
  let floodDone = false;
  const publisher = (async () => {
    const inFlight: Array<Promise<void>> = [];
    for (let seq = 0; !floodDone; seq += 1) {
      const sent = performance.now();
      inFlight.push(
        device.publishAsync(`devices/${legit.deviceId}/telemetry`, JSON.stringify({ v: 1, ts: Date.now(), seq, metrics: { temperature: 21 } }), { qos: 1 }).then(
          () => void pubacks.push(performance.now() - sent),
          () => void (publishFailures += 1),
        ),
      );
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
    await Promise.all(inFlight);
  })();

  const connacks: number[] = [];
  const codes = new Map<number, number>();
  let next = 0;
  const floodStarted = performance.now();
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      while (next < attempts) {
        next += 1;
        const { code, ms } = await connectOnce(target.deviceId, `wrong-${next}`);
        connacks.push(ms);
        codes.set(code, (codes.get(code) ?? 0) + 1);
      }
    }),
  );
  const floodSeconds = (performance.now() - floodStarted) / 1000;
  floodDone = true;
  await publisher;
  await device.endAsync();

  process.stdout.write(`flood: ${attempts} wrong-password CONNECTs, ${concurrency} at once, ${floodSeconds.toFixed(1)} s (${(attempts / floodSeconds).toFixed(0)}/s)\n`);
  process.stdout.write(`  CONNACK p50 ${fmt(percentile(connacks, 50))}, p99 ${fmt(percentile(connacks, 99))}, max ${fmt(Math.max(...connacks))}; codes ${JSON.stringify(Object.fromEntries(codes))}\n`);
  process.stdout.write(`legitimate device during the flood: ${pubacks.length} PUBACKs, ${publishFailures} failed; p50 ${fmt(percentile(pubacks, 50))}, p99 ${fmt(percentile(pubacks, 99))}, max ${fmt(Math.max(...pubacks))}\n`);
  const metrics = await (await fetch(`http://127.0.0.1:${mqttPort + 1000}/metrics`)).text();
  for (const line of metrics.split('\n')) if (line.startsWith('tributary_gateway_auth_refusals_total{')) process.stdout.write(`  ${line}\n`);
} finally {
  child.kill('SIGTERM');
  await new Promise((resolve) => child.once('exit', resolve));
  await admin.deleteTopics({ topics: Object.values(topics) }).catch(() => undefined);
  await admin.disconnect();
}
