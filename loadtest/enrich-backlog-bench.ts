/**
 * How many rows per second one enricher writes to QuestDB when it is not waiting for input:
 * fills a fresh telemetry topic with a backlog (N messages from D registered devices, 3 readings
 * each, gateway headers), starts one `tributary enrich` process on it, and times it from start
 * until every record is committed. Prints rows/s and the enricher's CPU. Then replays the whole
 * topic over the stored rows with `tributary replay --partition all` (every row an upsert) and
 * prints its rate and whether the row count stayed the same.
 *
 *   node loadtest/enrich-backlog-bench.ts [messages=100000] [devices=1000]
 *
 * Needs TRIBUTARY_KAFKA_BROKERS and TRIBUTARY_QUESTDB_URL (e.g. a `tributary stack up` stack).
 */
import { spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { Kafka, logLevel } from 'kafkajs';
import { recordHeaders } from '../core/envelope.ts';
import { waitFor } from '../core/wait-for.ts';
import { stopKafkajsIdleLoop } from '../kafka/kafkajs-idle-loop.ts';
import { createBenchCredentials, registerBenchDevices } from './bench-devices.ts';
import { buildTelemetryPayload } from './telemetry-generator.ts';

stopKafkajsIdleLoop();
const messages = Number(process.argv[2] ?? 100_000);
const deviceCount = Number(process.argv[3] ?? 1000);
const brokers = (process.env.TRIBUTARY_KAFKA_BROKERS ?? '').split(',').filter(Boolean);
const questdbUrl = process.env.TRIBUTARY_QUESTDB_URL ?? '';
if (brokers.length === 0 || questdbUrl === '') throw new Error('set TRIBUTARY_KAFKA_BROKERS and TRIBUTARY_QUESTDB_URL');
const run = Date.now().toString(36);
const topics = { telemetry: `iot.telemetry.backlog_${run}`, devices: `iot.devices.backlog_${run}` };
const prefix = `backlog_${run}_`;
const group = `backlog-${run}`;

const kafka = new Kafka({ clientId: 'enrich-backlog-bench', brokers, logLevel: logLevel.NOTHING });
const admin = kafka.admin();
await admin.connect();
await admin.createTopics({ topics: [{ topic: topics.telemetry, numPartitions: 12 }, { topic: topics.devices, numPartitions: 1 }], waitForLeaders: true });
const credentials = createBenchCredentials('bl', deviceCount);
await registerBenchDevices({ brokers, devicesTopic: topics.devices, credentials, scryptN: 1024 });

const producer = kafka.producer();
await producer.connect();
const receivedAt = Date.now();
for (let start = 0; start < messages; start += 5000) {
  const batch = [];
  for (let i = start; i < Math.min(messages, start + 5000); i += 1) {
    const device = credentials[i % deviceCount]!.deviceId;
    const seq = Math.floor(i / deviceCount);
    batch.push({
      key: device,
      value: buildTelemetryPayload(i % 2 === 0 ? 1 : 2, seq, receivedAt + i, 3),
      headers: { [recordHeaders.receivedAtMs]: String(receivedAt + i), [recordHeaders.mqttTopic]: `devices/${device}/telemetry` },
    });
  }
  await producer.send({ topic: topics.telemetry, acks: -1, messages: batch });
}
await producer.disconnect();
process.stdout.write(`backlog: ${messages} messages from ${deviceCount} devices in ${topics.telemetry}\n`);

const entry = fileURLToPath(new URL('../bin/tributary.ts', import.meta.url));
const started = Date.now();
const env = {
  ...process.env,
  TRIBUTARY_TOPIC_TELEMETRY: topics.telemetry,
  TRIBUTARY_TOPIC_DEVICES: topics.devices,
  TRIBUTARY_QUESTDB_TABLE_PREFIX: prefix,
  TRIBUTARY_ENRICH_GROUP: group,
  TRIBUTARY_ENRICH_HTTP_PORT: '0',
  LOG_LEVEL: 'warn',
};
const child = spawn(process.execPath, [entry, 'enrich'], { env, stdio: 'inherit' });
const cpuTicks = (): number => {
  const fields = readFileSync(`/proc/${child.pid}/stat`, 'utf8').split(') ')[1]!.split(' ');
  return Number(fields[11]) + Number(fields[12]);
};
let committedRecords = 0;
await waitFor(
  async () => {
    const committed = await admin.fetchOffsets({ groupId: group, topics: [topics.telemetry] });
    committedRecords = (committed[0]?.partitions ?? []).reduce((sum, p) => sum + Math.max(0, Number(p.offset)), 0);
    return committedRecords >= messages;
  },
  { description: `the enricher to commit ${messages} records`, timeoutMs: 30 * 60_000, intervalMs: 250, lastSeen: () => `${committedRecords} committed` },
);
const seconds = (Date.now() - started) / 1000;
const cpuSeconds = cpuTicks() / 100;
child.kill('SIGTERM');
await new Promise((resolve) => child.once('exit', resolve));

const query = async (sql: string): Promise<unknown[][]> => ((await (await fetch(`${questdbUrl}/exec?query=${encodeURIComponent(sql)}`)).json()) as { dataset: unknown[][] }).dataset;
/** Row count once QuestDB applied every committed WAL transaction. */
const storedRows = async (): Promise<number> => {
  await waitFor(
    async () => {
      const [txns] = await query(`select writerTxn, sequencerTxn from wal_tables() where name = '${prefix}readings'`);
      return txns !== undefined && txns[0] === txns[1];
    },
    { description: 'QuestDB to apply every committed WAL transaction', timeoutMs: 10 * 60_000, intervalMs: 200 },
  );
  return Number((await query(`select count() from '${prefix}readings'`))[0]?.[0] ?? 0);
};
const rows = await storedRows();
process.stdout.write(
  `one enricher: ${messages} messages = ${rows} rows in ${seconds.toFixed(1)} s (from process start, incl. startup) → ` +
    `${Math.round(rows / seconds)} rows/s, ${Math.round(messages / seconds)} msg/s; enricher CPU ${cpuSeconds.toFixed(1)} s ` +
    `(${((cpuSeconds * 1e6) / messages).toFixed(0)} µs/msg)\n`,
);

const replayStarted = Date.now();
const replay = spawn(process.execPath, [entry, 'replay', '--partition', 'all', '--json'], { env, stdio: ['ignore', 'pipe', 'ignore'] });
let replayOutput = '';
replay.stdout.on('data', (chunk: Buffer) => (replayOutput += chunk.toString()));
const replayCode = await new Promise((resolve) => replay.once('close', resolve));
const replaySeconds = (Date.now() - replayStarted) / 1000;
const report = JSON.parse(replayOutput) as { complete: boolean; records: number; rows: number; durationMs: number };
const rowsAfterReplay = await storedRows();
process.stdout.write(
  `replay over the stored rows: exit ${String(replayCode)}, complete ${report.complete}, ${report.records} records = ${report.rows} rows in ` +
    `${replaySeconds.toFixed(1)} s (from process start; ${(report.durationMs / 1000).toFixed(1)} s reading and writing) → ` +
    `${Math.round(report.rows / replaySeconds)} rows/s; table rows ${rows} before, ${rowsAfterReplay} after\n`,
);
await admin.disconnect();
