/**
 * Runs real enricher processes (the composition of bin/commands/enrich-command.ts, in the test
 * process or as `node bin/tributary.ts enrich` children) against the real Kafka and QuestDB, each
 * test with its own topics, consumer groups and tables, which `close` deletes (also after a failed start).
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { Kafka, logLevel, type IHeaders, type Producer } from 'kafkajs';
import { composeEnricher, readEnrichSettings, type EnrichProcess } from '../bin/commands/enrich-command.ts';
import { createEnvReader } from '../core/config.ts';
import { encodeDeviceRecord, hashSecret, type DeviceRecord } from '../core/device-record.ts';
import { recordHeaders } from '../core/envelope.ts';
import { describeError } from '../core/errors.ts';
import { createShutdown } from '../core/lifecycle.ts';
import { createLogger, silentLogger } from '../core/logger.ts';
import { eventually, questdbQuery, uniqueName } from './helpers.ts';
import { deleteGroups, deleteTopics } from './kafka-cleanup.ts';

export interface TelemetryMessage {
  deviceId: string;
  /** An object is sent as JSON; a string as it is. */
  payload: unknown;
  receivedAtMs: number;
}

export interface ReadRecord {
  key: string | null;
  value: Buffer | null;
  partition: number;
  offset: string;
  headers: Record<string, string>;
}

export interface EnrichChild {
  process: ChildProcess;
  /** stdout and stderr as they came. */
  output(): string;
  stdout(): string;
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
}

export interface EnrichHarness {
  kafka: Kafka;
  topics: { telemetry: string; devices: string; deadLetter: string; alerts: string };
  tables: { readings: string; completeness: string };
  questdbHttpUrl: string;
  /** The topic variables of this harness, for another process (e.g. a gateway) on the same topics. */
  topicEnv: Record<string, string>;
  /** The environment `tributary enrich` reads for this harness's topics and tables. */
  env(overrides?: Record<string, string>): Record<string, string>;
  /** Composes and starts an enricher in this process; stopped by `close` unless stopped before. */
  startEnricher(overrides?: Record<string, string>): Promise<EnrichProcess & { httpUrl: string }>;
  /** Starts `node bin/tributary.ts enrich` as a child process; killed by `close` if still running. */
  spawnEnricher(overrides?: Record<string, string>): EnrichChild;
  /** Starts `node bin/tributary.ts <args>` with this harness's environment; killed by `close` if still running. */
  spawnCli(args: readonly string[], overrides?: Record<string, string>): EnrichChild;
  registerDevice(record: Partial<DeviceRecord> & { deviceId: string }): Promise<void>;
  produceTelemetry(messages: readonly TelemetryMessage[], options?: { extraHeaders?: Record<string, string> }): Promise<void>;
  /** Reads `count` records of a topic from the beginning, without a consumer group. */
  readTopic(topic: string, count: number, timeoutMs?: number): Promise<ReadRecord[]>;
  query(sql: string): Promise<unknown[][]>;
  /** True once QuestDB applied every committed WAL transaction of the table (rows are visible). */
  walApplied(table: string): Promise<boolean>;
  /** Rows in the readings table, and distinct (device, seq, metric) among them. */
  rowCounts(): Promise<{ rows: number; distinct: number }>;
  /** True once the group committed every partition of the telemetry topic to its end. */
  committedEverything(groupId: string): Promise<boolean>;
  /** Committed offset per partition of the telemetry topic for a group (-1: none). */
  committedOffsets(groupId: string): Promise<Map<number, number>>;
  endOffsets(topic: string): Promise<Map<number, number>>;
  /** Stops the enrichers, kills the children, deletes the topics, consumer groups and tables; tries every step. */
  close(): Promise<void>;
}

const entryPoint = fileURLToPath(new URL('../bin/tributary.ts', import.meta.url));

export async function startEnrichHarness(options: { brokers: string[]; questdbHttpUrl: string; telemetryPartitions?: number }): Promise<EnrichHarness> {
  const suffix = uniqueName('e');
  const topics = {
    telemetry: `iot.telemetry.${suffix}`,
    devices: `iot.devices.${suffix}`,
    deadLetter: `iot.dlq.${suffix}`,
    alerts: `iot.alerts.${suffix}`,
  };
  const prefix = `${suffix}_`;
  const tables = { readings: `${prefix}readings`, completeness: `${prefix}device_completeness` };
  const kafka = new Kafka({ clientId: 'enrich-test', brokers: options.brokers, logLevel: logLevel.NOTHING });
  const admin = kafka.admin();
  const producer: Producer = kafka.producer({ idempotent: true });
  const enrichers: EnrichProcess[] = [];
  const children: EnrichChild[] = [];
  // Every consumer group an enricher of this harness or one of its readers may have joined.
  const groups = new Set<string>();
  const close = createShutdown(() => [
    {
      name: 'children',
      stop: async () => {
        for (const child of children) if (child.process.exitCode === null && child.process.signalCode === null) child.process.kill('SIGKILL');
        await Promise.all(children.map((child) => child.exited));
      },
    },
    {
      name: 'enrichers',
      // A test may have stopped one itself and judged its outcome already.
      stop: async () => void (await Promise.allSettled(enrichers.map((enricher) => enricher.stop()))),
    },
    { name: 'producer', stop: () => producer.disconnect() },
    { name: 'consumer groups', stop: () => deleteGroups(admin, groups) },
    { name: 'topics', stop: () => deleteTopics(admin, Object.values(topics)) },
    { name: 'admin', stop: () => admin.disconnect() },
    {
      name: 'tables',
      stop: async () => {
        for (const table of Object.values(tables)) await questdbQuery(options.questdbHttpUrl, `drop table if exists '${table}'`);
      },
    },
  ]);
  try {
    await admin.connect();
    // kafkajs' waitForLeaders gives up on the UNKNOWN_TOPIC_OR_PARTITION a busy KRaft broker answers
    // right after creating a topic; poll the metadata instead.
    await admin.createTopics({
      waitForLeaders: false,
      topics: [
        { topic: topics.telemetry, numPartitions: options.telemetryPartitions ?? 4, replicationFactor: 1 },
        { topic: topics.devices, numPartitions: 1, replicationFactor: 1, configEntries: [{ name: 'cleanup.policy', value: 'compact' }] },
        { topic: topics.deadLetter, numPartitions: 1, replicationFactor: 1 },
        { topic: topics.alerts, numPartitions: 1, replicationFactor: 1 },
      ],
    });
    await eventually(
      async () => (await admin.fetchTopicMetadata({ topics: Object.values(topics) })).topics,
      (metadata) => metadata.length === 4 && metadata.every((topic) => topic.partitions.length > 0 && topic.partitions.every((partition) => partition.leader >= 0)),
      30_000,
      'topic leaders elected',
    );
    await producer.connect();
  } catch (error) {
    await close().catch(() => undefined);
    throw error;
  }
  const secretHash = await hashSecret('test-secret', { N: 16, r: 1, p: 1 });

  const topicEnv = {
    TRIBUTARY_TOPIC_TELEMETRY: topics.telemetry,
    TRIBUTARY_TOPIC_DEVICES: topics.devices,
    TRIBUTARY_TOPIC_DEAD_LETTER: topics.deadLetter,
    TRIBUTARY_TOPIC_ALERTS: topics.alerts,
  };
  const env = (overrides: Record<string, string> = {}): Record<string, string> => ({
    TRIBUTARY_KAFKA_BROKERS: options.brokers.join(','),
    TRIBUTARY_QUESTDB_URL: options.questdbHttpUrl,
    TRIBUTARY_QUESTDB_TABLE_PREFIX: prefix,
    ...topicEnv,
    TRIBUTARY_ENRICH_GROUP: `enrich-${suffix}`,
    TRIBUTARY_KAFKA_PARTITIONS: String(options.telemetryPartitions ?? 4),
    TRIBUTARY_HTTP_HOST: '127.0.0.1',
    TRIBUTARY_ENRICH_HTTP_PORT: '0',
    TRIBUTARY_ENRICH_RETRY_MIN_MS: '50',
    TRIBUTARY_ENRICH_RETRY_MAX_MS: '500',
    TRIBUTARY_QUESTDB_REQUEST_TIMEOUT_MS: '2000',
    TRIBUTARY_ENRICH_LAG_POLL_INTERVAL_MS: '500',
    ...overrides,
  });

  const committedOffsets = async (groupId: string): Promise<Map<number, number>> => {
    const [topic] = await admin.fetchOffsets({ groupId, topics: [topics.telemetry] });
    return new Map((topic?.partitions ?? []).map(({ partition, offset }) => [partition, Number(offset)]));
  };
  const endOffsets = async (topic: string): Promise<Map<number, number>> =>
    new Map((await admin.fetchTopicOffsets(topic)).map(({ partition, high }) => [partition, Number(high)]));

  const spawnCli = (args: readonly string[], overrides: Record<string, string>): EnrichChild => {
    let output = '';
    let stdout = '';
    const childEnv = env(overrides);
    if (childEnv.TRIBUTARY_ENRICH_GROUP !== undefined) groups.add(childEnv.TRIBUTARY_ENRICH_GROUP);
    const child = spawn(process.execPath, [entryPoint, ...args], {
      env: { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '', LOG_LEVEL: 'warn', ...childEnv },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    child.stdout.on('data', (chunk: Buffer) => {
      output += chunk.toString();
      stdout += chunk.toString();
    });
    child.stderr.on('data', (chunk: Buffer) => (output += chunk.toString()));
    // 'close', not 'exit': every byte of stdout has been read by then.
    const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) => child.once('close', (code, signal) => resolve({ code, signal })));
    const handle = { process: child, output: () => output, stdout: () => stdout, exited };
    children.push(handle);
    return handle;
  };

  return {
    kafka,
    topics,
    tables,
    questdbHttpUrl: options.questdbHttpUrl,
    topicEnv,
    env,
    async startEnricher(overrides = {}) {
      const values = env(overrides);
      if (values.TRIBUTARY_ENRICH_GROUP !== undefined) groups.add(values.TRIBUTARY_ENRICH_GROUP);
      const reader = createEnvReader(values);
      const settings = readEnrichSettings(reader);
      reader.finish();
      const logger = process.env.TRIBUTARY_TEST_LOGS ? createLogger({ level: 'debug' }) : silentLogger();
      const enricher = composeEnricher(settings, logger);
      enrichers.push(enricher);
      await enricher.start();
      return Object.assign(enricher, { httpUrl: `http://127.0.0.1:${enricher.httpPort()}` });
    },
    spawnEnricher(overrides = {}) {
      return spawnCli(['enrich'], overrides);
    },
    spawnCli: (args, overrides = {}) => spawnCli(args, overrides),
    async registerDevice(record) {
      const value = encodeDeviceRecord({ secretHash, enabled: true, createdAtMs: 1_700_000_000_000, updatedAtMs: 1_700_000_000_000, ...record });
      await producer.send({ topic: topics.devices, acks: -1, messages: [{ key: record.deviceId, value }] });
    },
    async produceTelemetry(messages, produceOptions = {}) {
      await producer.send({
        topic: topics.telemetry,
        acks: -1,
        messages: messages.map(({ deviceId, payload, receivedAtMs }) => ({
          key: deviceId,
          value: typeof payload === 'string' ? payload : JSON.stringify(payload),
          // The gateway's envelope (ingest/record-builder.ts).
          headers: {
            [recordHeaders.mqttTopic]: `devices/${deviceId}/telemetry`,
            [recordHeaders.mqttQos]: '1',
            [recordHeaders.mqttRetain]: 'false',
            [recordHeaders.gatewayId]: 'gw-test',
            [recordHeaders.receivedAtMs]: String(receivedAtMs),
            [recordHeaders.contentType]: 'application/json',
            ...produceOptions.extraHeaders,
          },
        })),
      });
    },
    async readTopic(topic, count, timeoutMs = 30_000) {
      const groupId = uniqueName('enrich-test-reader');
      groups.add(groupId);
      const consumer = kafka.consumer({ groupId });
      const records: ReadRecord[] = [];
      await consumer.connect();
      try {
        await consumer.subscribe({ topic, fromBeginning: true });
        await new Promise<void>((resolve, reject) => {
          const timer = setTimeout(() => reject(new Error(`read ${records.length} of ${count} records from ${topic} within ${timeoutMs} ms`)), timeoutMs);
          void consumer.run({
            eachMessage: ({ message, partition }) => {
              records.push({ key: message.key?.toString() ?? null, value: message.value, partition, offset: message.offset, headers: headersOf(message.headers) });
              if (records.length >= count) {
                clearTimeout(timer);
                resolve();
              }
              return Promise.resolve();
            },
          });
        });
      } finally {
        await consumer.disconnect();
      }
      return records;
    },
    query: (sql) => questdbQuery(options.questdbHttpUrl, sql),
    async walApplied(table) {
      const rows = await questdbQuery(options.questdbHttpUrl, `select writerTxn, sequencerTxn from wal_tables() where name = '${table}'`);
      return rows.length === 1 && rows[0]?.[0] === rows[0]?.[1];
    },
    async rowCounts() {
      const [[rows]] = (await questdbQuery(options.questdbHttpUrl, `select count() from '${tables.readings}'`)) as [[number]];
      const [[distinct]] = (await questdbQuery(options.questdbHttpUrl, `select count() from (select distinct device, seq, metric from '${tables.readings}')`)) as [[number]];
      return { rows, distinct };
    },
    async committedEverything(groupId) {
      const [committed, ends] = await Promise.all([committedOffsets(groupId), endOffsets(topics.telemetry)]);
      return [...ends].every(([partition, end]) => end === 0 || committed.get(partition) === end);
    },
    committedOffsets,
    endOffsets,
    close,
  };
}

/** Adds the children's last output lines to a failure: `.catch(explain(child))`. */
export function explain(...children: EnrichChild[]): (error: unknown) => never {
  return (error) => {
    throw new Error(`${describeError(error)}\n${children.map((child) => child.output().slice(-3000)).join('\n---\n')}`);
  };
}

/** `count` messages per device, seq firstSeq.., two metrics each, one second apart from `t0`. */
export function telemetryStream(devices: readonly string[], count: number, options: { firstSeq?: number; t0: number }): TelemetryMessage[] {
  const messages: TelemetryMessage[] = [];
  const firstSeq = options.firstSeq ?? 1;
  for (let seq = firstSeq; seq < firstSeq + count; seq += 1) {
    for (const deviceId of devices) {
      const atMs = options.t0 + seq * 1000;
      messages.push({ deviceId, payload: { v: 1, ts: atMs, seq, metrics: { temperature: 20 + (seq % 7), humidity: 40 } }, receivedAtMs: atMs + 30 });
    }
  }
  return messages;
}

function headersOf(headers: IHeaders | undefined): Record<string, string> {
  const result: Record<string, string> = {};
  for (const [name, value] of Object.entries(headers ?? {})) {
    const first = Array.isArray(value) ? value[0] : value;
    if (first !== undefined) result[name] = first.toString();
  }
  return result;
}
