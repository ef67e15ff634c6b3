/**
 * Runs a real gateway process (composition of bin/commands/gateway-command.ts) in the test process
 * against the real Kafka, with its own topics so tests never see each other's records; `close`
 * deletes what the harness made (also after a failed start).
 */
import { Kafka, logLevel, type Producer } from 'kafkajs';
import mqtt, { type IClientOptions, type MqttClient } from 'mqtt';
import { composeGateway, readGatewaySettings, type GatewayProcess } from '../bin/commands/gateway-command.ts';
import { createEnvReader } from '../core/config.ts';
import { encodeDeviceRecord, hashSecret, type DeviceRecord } from '../core/device-record.ts';
import { createShutdown } from '../core/lifecycle.ts';
import { createLogger, silentLogger, type Logger } from '../core/logger.ts';
import { eventually, uniqueName } from './helpers.ts';
import { deleteGroups, deleteTopics } from './kafka-cleanup.ts';

export interface GatewayHarness {
  gateway: GatewayProcess;
  kafka: Kafka;
  topics: { telemetry: string; events: string; devices: string; commands: string; commandEvents: string };
  mqttUrl: string;
  wsUrl: string;
  httpUrl: string;
  registerDevice(deviceId: string, secret: string, extra?: Partial<DeviceRecord>): Promise<void>;
  removeDevice(deviceId: string): Promise<void>;
  connect(deviceId: string, secret: string, options?: IClientOptions): Promise<MqttClient>;
  /** Resolves once the gateway accepts this device's CONNECT (the registry follows its topic, so a new device takes a moment). */
  waitUntilAccepted(deviceId: string, secret: string, timeoutMs?: number): Promise<void>;
  /** Sum of end offsets over all partitions of a topic: how many records it holds. */
  recordCount(topic: string): Promise<number>;
  /** Reads `count` records from the beginning of the topic (waits for them); its group is deleted by `close`. */
  readRecords(topic: string, count: number, timeoutMs?: number): Promise<ReadRecord[]>;
  /** Stops the gateway and deletes the topics it created and the reader groups; tries every step. */
  close(): Promise<void>;
}

export interface ReadRecord {
  key: string;
  value: string;
  valueBytes: Buffer;
  partition: number;
  offset: number;
  headers: Record<string, string>;
}

/** A gateway's Kafka topics, named after `suffix` so that tests never see each other's records. */
export function gatewayTopicEnv(suffix: string) {
  return {
    TRIBUTARY_TOPIC_TELEMETRY: `iot.telemetry.${suffix}`,
    TRIBUTARY_TOPIC_EVENTS: `iot.events.${suffix}`,
    TRIBUTARY_TOPIC_DEVICES: `iot.devices.${suffix}`,
    TRIBUTARY_TOPIC_DEAD_LETTER: `iot.dlq.${suffix}`,
    TRIBUTARY_TOPIC_ALERTS: `iot.alerts.${suffix}`,
    TRIBUTARY_TOPIC_COMMANDS: `iot.commands.${suffix}`,
    TRIBUTARY_TOPIC_COMMAND_EVENTS: `iot.command-events.${suffix}`,
  };
}

export async function startGatewayHarness(options: {
  brokers: string[];
  env?: Record<string, string>;
  /** Aedes persistence for the gateway's broker, for tests that look into what it stores. */
  brokerPersistence?: object;
  /** The gateway's logger, for tests that look at what it logged; silent (or TRIBUTARY_TEST_LOGS) otherwise. */
  logger?: Logger;
}): Promise<GatewayHarness> {
  const suffix = uniqueName('t');
  const values = {
    TRIBUTARY_KAFKA_BROKERS: options.brokers.join(','),
    ...gatewayTopicEnv(suffix),
    TRIBUTARY_GATEWAY_COMMANDS_GROUP: `commands-${suffix}`,
    TRIBUTARY_MQTT_HOST: '127.0.0.1',
    TRIBUTARY_MQTT_TCP_PORT: '0',
    TRIBUTARY_MQTT_WS_PORT: '0',
    TRIBUTARY_HTTP_HOST: '127.0.0.1',
    TRIBUTARY_GATEWAY_HTTP_PORT: '0',
    TRIBUTARY_GATEWAY_ID: `gw-${suffix}`,
    // Tests refuse many CONNECTs on purpose (and while the registry loads) from one address: only the auth-flood test limits them.
    TRIBUTARY_GATEWAY_AUTH_FAILURES_PER_ADDRESS: '1000000',
    TRIBUTARY_GATEWAY_AUTH_FAILURES_PER_DEVICE: '1000000',
    ...options.env,
  };
  const topics = {
    telemetry: values.TRIBUTARY_TOPIC_TELEMETRY,
    events: values.TRIBUTARY_TOPIC_EVENTS,
    devices: values.TRIBUTARY_TOPIC_DEVICES,
    commands: values.TRIBUTARY_TOPIC_COMMANDS,
    commandEvents: values.TRIBUTARY_TOPIC_COMMAND_EVENTS,
  };
  const env = createEnvReader(values);
  const settings = readGatewaySettings(env);
  env.finish();
  const logger = options.logger ?? (process.env.TRIBUTARY_TEST_LOGS ? createLogger({ level: 'debug' }) : silentLogger());
  const gateway = composeGateway(settings, logger, { brokerPersistence: options.brokerPersistence });
  const kafka = new Kafka({ clientId: 'gateway-test', brokers: options.brokers, logLevel: logLevel.NOTHING });
  const admin = kafka.admin();
  let producer: Producer | null = null;
  const readerGroups: string[] = [];
  // The gateway creates every topic of its settings that is missing; those it created are deleted
  // after the test, topics that existed before (another harness's) are left to their owner.
  let createdTopics: string[] = [];
  const close = createShutdown(() => [
    { name: 'gateway', stop: () => gateway.stop() },
    { name: 'producer', stop: () => producer?.disconnect() },
    { name: 'reader groups', stop: () => deleteGroups(admin, readerGroups) },
    // Best effort: after a Kafka outage kafkajs may still be rejoining the gateway's command group when the
    // gateway stops (a restart it scheduled before the stop), which keeps the group non-empty for a while.
    { name: 'command group', stop: () => (options.env?.TRIBUTARY_GATEWAY_COMMANDS_GROUP ? undefined : deleteGroups(admin, [values.TRIBUTARY_GATEWAY_COMMANDS_GROUP], 15_000).catch(() => undefined)) },
    { name: 'topics', stop: () => deleteTopics(admin, createdTopics) },
    { name: 'admin', stop: () => admin.disconnect() },
  ]);
  try {
    await admin.connect();
    const existing = new Set(await admin.listTopics());
    createdTopics = [...Object.values(topics), values.TRIBUTARY_TOPIC_DEAD_LETTER, values.TRIBUTARY_TOPIC_ALERTS].filter((topic) => !existing.has(topic));
    await gateway.start();
  } catch (error) {
    await close().catch(() => undefined);
    throw error;
  }
  const ports = gateway.gateway.ports();
  const writeDevice = async (deviceId: string, value: Buffer | null): Promise<void> => {
    if (!producer) {
      producer = kafka.producer({ idempotent: true });
      await producer.connect();
    }
    await producer.send({ topic: topics.devices, acks: -1, messages: [{ key: deviceId, value }] });
  };
  const connect = (deviceId: string, secret: string, clientOptions: IClientOptions = {}): Promise<MqttClient> =>
    mqtt.connectAsync(clientOptions.protocol === 'ws' ? `ws://127.0.0.1:${ports.ws}/mqtt` : `mqtt://127.0.0.1:${ports.tcp}`, {
      clientId: deviceId,
      username: deviceId,
      password: secret,
      reconnectPeriod: 0,
      connectTimeout: 10_000,
      ...clientOptions,
    });
  return {
    gateway,
    kafka,
    topics,
    mqttUrl: `mqtt://127.0.0.1:${ports.tcp}`,
    wsUrl: `ws://127.0.0.1:${ports.ws}/mqtt`,
    httpUrl: `http://127.0.0.1:${gateway.httpPort()}`,
    async registerDevice(deviceId, secret, extra = {}) {
      const now = Date.now();
      // Small scrypt cost keeps the tests fast; the gateway verifies whatever parameters the hash names.
      const record: DeviceRecord = { deviceId, secretHash: await hashSecret(secret, { N: 1024 }), enabled: true, createdAtMs: now, updatedAtMs: now, ...extra };
      await writeDevice(deviceId, encodeDeviceRecord(record));
    },
    removeDevice: (deviceId) => writeDevice(deviceId, null),
    connect,
    async waitUntilAccepted(deviceId, secret, timeoutMs = 20_000) {
      const accepted = (): Promise<boolean> => connect(deviceId, secret).then((client) => client.endAsync().then(() => true), () => false);
      await eventually(accepted, (ok) => ok, timeoutMs, `gateway accepts ${deviceId}`);
    },
    async recordCount(topic) {
      const offsets = await admin.fetchTopicOffsets(topic);
      return offsets.reduce((sum, partition) => sum + Number(partition.high), 0);
    },
    async readRecords(topic, count, timeoutMs = 30_000) {
      const groupId = uniqueName('reader');
      readerGroups.push(groupId);
      const consumer = kafka.consumer({ groupId, maxWaitTimeInMs: 100 });
      const records: ReadRecord[] = [];
      await consumer.connect();
      try {
        await consumer.subscribe({ topic, fromBeginning: true });
        await new Promise<void>((resolve, reject) => {
          const timer = setTimeout(() => reject(new Error(`read ${records.length} of ${count} records from ${topic}`)), timeoutMs);
          if (count === 0) {
            clearTimeout(timer);
            resolve();
            return;
          }
          void consumer.run({
            eachMessage: async ({ message, partition }) => {
              const headers: Record<string, string> = {};
              for (const [name, value] of Object.entries(message.headers ?? {})) headers[name] = String(value);
              records.push({ key: message.key?.toString() ?? '', value: message.value?.toString() ?? '', valueBytes: message.value ?? Buffer.alloc(0), partition, offset: Number(message.offset), headers });
              if (records.length >= count) {
                clearTimeout(timer);
                resolve();
              }
              await Promise.resolve();
            },
          });
        });
      } finally {
        await consumer.disconnect();
      }
      return records;
    },
    close,
  };
}
