/**
 * The long run of the MQTT mutation fuzzer (loadtest/mqtt-fuzzer.ts; the short one is
 * test/gateway-fuzz.integration.test.ts): one `tributary gateway` process, a legitimate device
 * publishing QoS 1 every 20 ms, and `packets` valid and mutated packets over short raw TCP
 * connections. Samples the gateway's RSS and /livez every 500 ms, then reads the telemetry topic
 * back and checks every record. Prints the figures docs/benchmarks/fuzz.md records; exits 1 (naming
 * the seed to replay) when the gateway died, stopped answering, failed the legitimate device or let
 * an unexplained record into Kafka.
 *
 *   node loadtest/mqtt-fuzz-bench.ts [--packets 200000] [--seed S] [--concurrency 16]
 *
 * Needs TRIBUTARY_KAFKA_BROKERS (e.g. a `tributary stack up --no-questdb` stack). The per-address
 * failed-CONNECT limit is lifted for the gateway: the fuzzer sends thousands of wrong passwords from
 * one address, and the limit would refuse them all before they reach the parser under test.
 */
import { mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { Kafka, logLevel } from 'kafkajs';
import mqtt from 'mqtt';
import { waitFor } from '../core/wait-for.ts';
import { stopKafkajsIdleLoop } from '../kafka/kafkajs-idle-loop.ts';
import { registerBenchDevices } from './bench-devices.ts';
import { auditFuzzRecords, runFuzz, startLegitimateDevice, type TelemetryRecord } from './mqtt-fuzzer.ts';
import { freePort, startPipelineProcess } from './pipeline-process.ts';
import { readProcessUsage } from './process-usage.ts';

stopKafkajsIdleLoop();
const { values: args } = parseArgs({ options: { packets: { type: 'string', default: '200000' }, seed: { type: 'string' }, concurrency: { type: 'string', default: '16' } } });
const packets = Number(args.packets);
const seed = Number(args.seed ?? Math.floor(Math.random() * 2 ** 31));
const concurrency = Number(args.concurrency);
const brokers = (process.env.TRIBUTARY_KAFKA_BROKERS ?? '').split(',').filter(Boolean);
if (brokers.length === 0) throw new Error('set TRIBUTARY_KAFKA_BROKERS');
const replay = `node loadtest/mqtt-fuzz-bench.ts --packets ${packets} --seed ${seed} --concurrency ${concurrency}`;
const run = `${Date.now().toString(36)}`;
const topics = { telemetry: `iot.telemetry.fuzz_${run}`, devices: `iot.devices.fuzz_${run}` };
const fuzzDevice = { deviceId: 'fuzz-1', secret: 'fuzz-secret-1' };
const legitDevice = { deviceId: 'legit-1', secret: 'legit-secret-1' };
const mib = (bytes: number): string => `${(bytes / 2 ** 20).toFixed(0)} MiB`;

/** Every record of `topic` up to its end offsets of now. */
async function readTopic(kafka: Kafka, topic: string): Promise<TelemetryRecord[]> {
  const admin = kafka.admin();
  await admin.connect();
  const ends = new Map((await admin.fetchTopicOffsets(topic)).map(({ partition, high }) => [partition, Number(high)]));
  await admin.disconnect();
  const remaining = new Set([...ends].filter(([, end]) => end > 0).map(([partition]) => partition));
  const records: TelemetryRecord[] = [];
  if (remaining.size === 0) return records;
  const consumer = kafka.consumer({ groupId: `fuzz-bench-${run}`, maxWaitTimeInMs: 200 });
  await consumer.connect();
  try {
    await consumer.subscribe({ topic, fromBeginning: true });
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`read ${records.length} records of ${topic}; partitions ${[...remaining].join(',')} unfinished`)), 120_000);
      consumer
        .run({
          autoCommit: false,
          eachBatch: async ({ batch }) => {
            const end = ends.get(batch.partition) ?? 0;
            for (const message of batch.messages) {
              if (Number(message.offset) >= end) break;
              records.push({ key: message.key?.toString() ?? '', mqttTopic: message.headers?.['mqtt.topic']?.toString() ?? '', value: message.value ?? Buffer.alloc(0) });
              if (Number(message.offset) + 1 >= end) remaining.delete(batch.partition);
            }
            if (remaining.size === 0) {
              clearTimeout(timer);
              resolve();
            }
            await Promise.resolve();
          },
        })
        .catch(reject);
    });
  } finally {
    await consumer.disconnect();
  }
  return records;
}

const kafka = new Kafka({ clientId: 'mqtt-fuzz-bench', brokers, logLevel: logLevel.NOTHING });
const admin = kafka.admin();
await admin.connect();
await admin.createTopics({ topics: [{ topic: topics.telemetry, numPartitions: 3 }, { topic: topics.devices, numPartitions: 1 }], waitForLeaders: true });
await registerBenchDevices({ brokers, devicesTopic: topics.devices, credentials: [fuzzDevice, legitDevice] });
const [mqttPort, httpPort] = [await freePort(), await freePort()];
const httpUrl = `http://127.0.0.1:${httpPort}`;
const gateway = await startPipelineProcess({
  name: 'gateway',
  command: 'gateway',
  env: {
    TRIBUTARY_TOPIC_TELEMETRY: topics.telemetry,
    TRIBUTARY_TOPIC_DEVICES: topics.devices,
    TRIBUTARY_MQTT_HOST: '127.0.0.1',
    TRIBUTARY_MQTT_TCP_PORT: String(mqttPort),
    TRIBUTARY_MQTT_WS_ENABLED: 'false',
    TRIBUTARY_HTTP_HOST: '127.0.0.1',
    TRIBUTARY_GATEWAY_HTTP_PORT: String(httpPort),
    TRIBUTARY_GATEWAY_AUTH_FAILURES_PER_ADDRESS: '1000000',
    TRIBUTARY_GATEWAY_AUTH_FAILURES_PER_DEVICE: '1000000',
    LOG_LEVEL: 'warn',
  },
  readyUrl: `${httpUrl}/readyz`,
  logDir: await mkdtemp(join(tmpdir(), 'tributary-fuzz-')),
  readyTimeoutMs: 180_000,
});

const problems: string[] = [];
try {
  const connectLegit = (): Promise<mqtt.MqttClient> =>
    mqtt.connectAsync(`mqtt://127.0.0.1:${mqttPort}`, { clientId: legitDevice.deviceId, username: legitDevice.deviceId, password: legitDevice.secret, reconnectPeriod: 0 });
  await waitFor(() => connectLegit().then((client) => client.endAsync().then(() => true), () => false), { description: 'registry loaded', timeoutMs: 60_000, intervalMs: 500 });

  const rss = { min: Infinity, max: 0 };
  let livezFailures = 0;
  const sample = async (): Promise<void> => {
    const usage = await readProcessUsage(gateway.pid);
    if (usage === null) return;
    rss.min = Math.min(rss.min, usage.rssBytes);
    rss.max = Math.max(rss.max, usage.rssBytes);
    const live = await fetch(`${httpUrl}/livez`, { signal: AbortSignal.timeout(5000) }).then((response) => response.ok, () => false);
    if (!live) livezFailures += 1;
  };
  await sample();
  const sampler = setInterval(() => void sample(), 500);
  const legit = startLegitimateDevice(await connectLegit(), legitDevice.deviceId, 20);
  const started = performance.now();
  process.stdout.write(`fuzzing: seed ${seed}, ${packets} packets, ${concurrency} connections at once (replay: ${replay})\n`);
  const fuzz = await runFuzz({ host: '127.0.0.1', port: mqttPort, seed, packets, device: fuzzDevice, otherDeviceIds: [legitDevice.deviceId], concurrency });
  const seconds = (performance.now() - started) / 1000;
  clearInterval(sampler);
  await sample();
  const legitRun = await legit.stop();
  const alive = (await readProcessUsage(gateway.pid)) !== null;
  const ready = await fetch(`${httpUrl}/readyz`, { signal: AbortSignal.timeout(5000) }).then((response) => response.ok, () => false);

  // QoS 0 records may still be on their way to Kafka: read once the count stops moving.
  let previous = -1;
  await waitFor(
    async () => {
      const count = (await admin.fetchTopicOffsets(topics.telemetry)).reduce((sum, { high }) => sum + Number(high), 0);
      const settled = count === previous;
      previous = count;
      return settled;
    },
    { description: 'telemetry record count settled', timeoutMs: 60_000, intervalMs: 1000 },
  );
  const records = await readTopic(kafka, topics.telemetry);
  const audit = auditFuzzRecords(records, { run: fuzz, fuzzDeviceId: fuzzDevice.deviceId, legitimate: { deviceId: legitDevice.deviceId, payloads: legitRun.payloads } });

  process.stdout.write(
    [
      `seed ${seed}; ${fuzz.packets} packets (${fuzz.bytes} bytes) over ${fuzz.connections} connections in ${seconds.toFixed(1)} s (${(fuzz.packets / seconds).toFixed(0)} packets/s); ${fuzz.closedByGateway} closed by the gateway first`,
      `mutations: ${JSON.stringify(fuzz.mutations)}`,
      `gateway: ${alive ? 'alive' : 'DEAD'}, /readyz ${ready ? 'ok' : 'FAILING'}, /livez failures ${livezFailures}; RSS ${mib(rss.min)} – ${mib(rss.max)}`,
      `legitimate device: ${legitRun.acknowledged} PUBACKs, ${legitRun.failed} failed, ${legitRun.closed ? 'DISCONNECTED' : 'connected throughout'}, slowest PUBACK ${legitRun.maxPubackMs.toFixed(0)} ms`,
      `Kafka: ${records.length} records: ${audit.legitimate} legitimate, ${audit.fuzzer} from the fuzzer's authorized publishes, ${audit.unexplainedCount} unexplained`,
      ...audit.unexplained.map((record) => `  unexplained: ${JSON.stringify(record)}`),
      '',
    ].join('\n'),
  );
  if (!alive) problems.push('the gateway process died');
  if (!ready || livezFailures > 0) problems.push('the gateway stopped answering its health checks');
  if (legitRun.failed > 0 || legitRun.closed) problems.push('the legitimate device was not served throughout');
  if (audit.unexplainedCount > 0) problems.push('Kafka holds records no valid authorized publish explains');
} finally {
  await gateway.stop(10_000);
  await admin.deleteTopics({ topics: Object.values(topics) }).catch(() => undefined);
  await admin.disconnect();
}
if (problems.length > 0) {
  process.stdout.write(`FAILED (seed ${seed}): ${problems.join('; ')}\nreplay: ${replay}\n`);
  process.exitCode = 1;
}
