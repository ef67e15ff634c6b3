/**
 * What one flooding device costs the rest of the fleet: registers two devices, starts one
 * `tributary gateway` process (from the checkout given, so an older commit is measured the same way),
 * then for `seconds` one device writes PUBLISH packets of `payloadBytes` at `qos` as fast as its TCP
 * socket takes them (loadtest/mqtt-flooder.ts),
 * while a well-behaved device publishes QoS 1 every 100 ms (10 msg/s) before, during and after the
 * flood. Prints the well-behaved device's PUBACK latency, the flooder's throughput, the gateway's
 * RSS (VmRSS, sampled every 250 ms) and its limit counters.
 *
 *   node loadtest/flood-bench.ts [qos=0] [payloadBytes=1024] [seconds=30] [checkout=this one]
 *
 * Needs TRIBUTARY_KAFKA_BROKERS (e.g. a `tributary stack up --no-questdb` stack). The gateway
 * inherits the environment, so its limit settings pass through.
 */
import { spawn } from 'node:child_process';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Kafka, logLevel } from 'kafkajs';
import mqtt from 'mqtt';
import { waitFor } from '../core/wait-for.ts';
import { stopKafkajsIdleLoop } from '../kafka/kafkajs-idle-loop.ts';
import { registerBenchDevices } from './bench-devices.ts';
import { startFlood } from './mqtt-flooder.ts';

stopKafkajsIdleLoop();
const qos = Number(process.argv[2] ?? 0) as 0 | 1 | 2;
const payloadBytes = Number(process.argv[3] ?? 1024);
const seconds = Number(process.argv[4] ?? 30);
const checkout = process.argv[5] ?? fileURLToPath(new URL('..', import.meta.url));
const brokers = (process.env.TRIBUTARY_KAFKA_BROKERS ?? '').split(',').filter(Boolean);
if (brokers.length === 0) throw new Error('set TRIBUTARY_KAFKA_BROKERS');
if (![0, 1, 2].includes(qos)) throw new Error('qos must be 0, 1 or 2');
const run = Date.now().toString(36);
const topics = { telemetry: `iot.telemetry.flood_${run}`, devices: `iot.devices.flood_${run}` };
const mqttPort = 18930 + Math.floor(Math.random() * 100);
const httpPort = mqttPort + 1000;

const kafka = new Kafka({ clientId: 'flood-bench', brokers, logLevel: logLevel.NOTHING });
const admin = kafka.admin();
await admin.connect();
await admin.createTopics({ topics: [{ topic: topics.telemetry, numPartitions: 3 }, { topic: topics.devices, numPartitions: 1 }], waitForLeaders: true });
const good = { deviceId: 'good-1', secret: 'good-secret-1' };
const flooder = { deviceId: 'flood-1', secret: 'flood-secret-1' };
await registerBenchDevices({ brokers, devicesTopic: topics.devices, credentials: [good, flooder] });

const child = spawn(process.execPath, [join(checkout, 'bin/tributary.ts'), 'gateway'], {
  env: {
    ...process.env,
    TRIBUTARY_TOPIC_TELEMETRY: topics.telemetry,
    TRIBUTARY_TOPIC_DEVICES: topics.devices,
    TRIBUTARY_MQTT_HOST: '127.0.0.1',
    TRIBUTARY_MQTT_TCP_PORT: String(mqttPort),
    TRIBUTARY_MQTT_WS_ENABLED: 'false',
    TRIBUTARY_HTTP_HOST: '127.0.0.1',
    TRIBUTARY_GATEWAY_HTTP_PORT: String(httpPort),
    LOG_LEVEL: 'error',
  },
  stdio: 'inherit',
});

const rssMb = async (): Promise<number> => {
  const status = await readFile(`/proc/${child.pid}/status`, 'utf8').catch(() => '');
  const kb = /VmRSS:\s+(\d+)/.exec(status)?.[1];
  return kb === undefined ? NaN : Number(kb) / 1024;
};
const percentile = (values: number[], p: number): number => {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))] ?? NaN;
};
const fmt = (ms: number): string => `${ms.toFixed(0)} ms`;
const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

try {
  await waitFor(
    async () => {
      try {
        const probe = await mqtt.connectAsync(`mqtt://127.0.0.1:${mqttPort}`, { clientId: good.deviceId, username: good.deviceId, password: good.secret, reconnectPeriod: 0 });
        await probe.endAsync();
        return true;
      } catch {
        return false;
      }
    },
    { description: 'gateway serving', timeoutMs: 60_000, intervalMs: 500 },
  );
  const baselineRss = await rssMb();
  let peakRss = baselineRss;
  const sampler = setInterval(() => void rssMb().then((mb) => (peakRss = Math.max(peakRss, Number.isNaN(mb) ? 0 : mb))), 250);

  const device = await mqtt.connectAsync(`mqtt://127.0.0.1:${mqttPort}`, { clientId: good.deviceId, username: good.deviceId, password: good.secret, reconnectPeriod: 1000 });
  let disconnects = 0;
  device.on('close', () => (disconnects += 1));
  const pubacks: Array<{ sentAt: number; ms: number }> = [];
  let missed = 0;
  let publishing = true;
  const benchStart = performance.now();
  const publisher = (async () => {
    const inFlight: Array<Promise<void>> = [];
    for (let seq = 0; publishing; seq += 1) {
      const sent = performance.now();
      const payload = JSON.stringify({ v: 1, ts: Date.now(), seq, metrics: { temperature: 21 } });
      inFlight.push(
        Promise.race([device.publishAsync(`devices/${good.deviceId}/telemetry`, payload, { qos: 1 }).then(() => true), sleep(20_000).then(() => false)]).then(
          (acked) => void (acked ? pubacks.push({ sentAt: sent - benchStart, ms: performance.now() - sent }) : (missed += 1)),
          () => void (missed += 1),
        ),
      );
      await sleep(100);
    }
    await Promise.all(inFlight);
  })();

  await sleep(3000);
  const floodStart = performance.now() - benchStart;
  const flooding = await startFlood({ port: mqttPort, ...flooder, topic: `devices/${flooder.deviceId}/telemetry`, qos, payloadBytes });
  await sleep(seconds * 1000);
  const flooded = await flooding.stop();
  const floodEnd = performance.now() - benchStart;
  await sleep(5000);
  publishing = false;
  await publisher;
  clearInterval(sampler);
  const endRss = await rssMb();
  const dropped = disconnects;
  await device.endAsync();

  const during = pubacks.filter(({ sentAt }) => sentAt >= floodStart && sentAt <= floodEnd).map(({ ms }) => ms);
  const all = pubacks.map(({ ms }) => ms);
  process.stdout.write(`flood: QoS ${qos}, ${payloadBytes} B payloads, ${seconds} s; checkout ${checkout}\n`);
  process.stdout.write(
    `  flooder wrote ${flooded.written} packets (${(flooded.written / seconds).toFixed(0)}/s, ${((flooded.written * payloadBytes) / seconds / 1e6).toFixed(1)} MB/s), ${flooded.acknowledged} acknowledged, closed by the gateway: ${flooded.closedByGateway}\n`,
  );
  process.stdout.write(
    `  well-behaved device during the flood: ${during.length} PUBACKs, p50 ${fmt(percentile(during, 50))}, p99 ${fmt(percentile(during, 99))}, max ${fmt(Math.max(...during))}\n`,
  );
  process.stdout.write(`  well-behaved device overall: ${all.length} acknowledged, ${missed} missed (no PUBACK within 20 s), ${dropped} connections lost\n`);
  process.stdout.write(`  gateway RSS: before ${baselineRss.toFixed(0)} MB, peak ${peakRss.toFixed(0)} MB, 5 s after ${endRss.toFixed(0)} MB\n`);
  const metrics = await (await fetch(`http://127.0.0.1:${httpPort}/metrics`)).text();
  const shown = /^tributary_gateway_(qos0_dropped|rate_limited|throttle_events|publishes_failed|publishes_acknowledged|send_queue)/;
  for (const line of metrics.split('\n')) if (shown.test(line)) process.stdout.write(`  ${line}\n`);
} finally {
  child.kill('SIGTERM');
  await new Promise((resolve) => child.once('exit', resolve));
  await admin.deleteTopics({ topics: Object.values(topics) }).catch(() => undefined);
  await admin.disconnect();
}
