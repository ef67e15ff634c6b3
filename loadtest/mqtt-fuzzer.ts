/**
 * The MQTT mutation fuzzer (issue 9, "abuse tests"): sends the connections of
 * loadtest/mqtt-fuzz-plan.ts over raw TCP (node:net), many short ones at a time, and afterwards
 * checks what reached Kafka: every record must be the legitimate device's (a payload it sent) or
 * the fuzzer device's, with a payload found in the bytes of a connection that carried its secret,
 * on that device's own telemetry topic. Used by test/gateway-fuzz.integration.test.ts and
 * loadtest/mqtt-fuzz-bench.ts.
 */
import { connect } from 'node:net';
import type { MqttClient } from 'mqtt';
import { connectionOfPayload, planConnection, type FuzzDevice, type MutationKind } from './mqtt-fuzz-plan.ts';

export interface FuzzRun {
  seed: number;
  packets: number;
  connections: number;
  bytes: number;
  /** Connections the gateway closed before the fuzzer was done with them. */
  closedByGateway: number;
  mutations: Partial<Record<MutationKind, number>>;
  /** What was written on each connection that carried the fuzzer device's secret: only these can have published. */
  authenticatedStreams: Map<number, Buffer>;
}

/** Writes one planned connection and waits until the gateway closes it or it has been quiet for `quietMs`. */
async function sendConnection(host: string, port: number, writes: readonly Buffer[], quietMs: number): Promise<{ closedByGateway: boolean }> {
  return new Promise((resolve) => {
    const socket = connect(port, host);
    let written = false;
    let done = false;
    let quiet: NodeJS.Timeout | undefined;
    const finish = (closedByGateway: boolean): void => {
      if (done) return;
      done = true;
      clearTimeout(quiet);
      socket.destroy();
      resolve({ closedByGateway });
    };
    const rearm = (): void => {
      clearTimeout(quiet);
      if (written) quiet = setTimeout(() => finish(false), quietMs);
    };
    socket.setNoDelay(true);
    socket.on('data', rearm);
    socket.on('error', () => undefined);
    socket.on('close', () => finish(true));
    // A gateway that keeps answering (PINGRESPs) never lets the connection go quiet.
    const lifetime = setTimeout(() => finish(false), 5000);
    socket.once('close', () => clearTimeout(lifetime));
    socket.once('connect', () => {
      void (async () => {
        for (const chunk of writes) {
          if (socket.destroyed) break;
          // One write per chunk, each in its own event-loop turn, so the gateway reads them apart.
          await new Promise<void>((next) => socket.write(chunk, () => setImmediate(next)));
        }
        written = true;
        rearm();
      })();
    });
  });
}

/**
 * Sends planned connections (index 0, 1, …) to host:port, `concurrency` at a time, until `packets`
 * packets went out or `signal` aborts.
 */
export async function runFuzz(options: {
  host: string;
  port: number;
  seed: number;
  packets: number;
  device: FuzzDevice;
  otherDeviceIds: readonly string[];
  concurrency: number;
  quietMs?: number;
  signal?: AbortSignal;
}): Promise<FuzzRun> {
  const run: FuzzRun = { seed: options.seed, packets: 0, connections: 0, bytes: 0, closedByGateway: 0, mutations: {}, authenticatedStreams: new Map() };
  const secret = Buffer.from(options.device.secret);
  let next = 0;
  const worker = async (): Promise<void> => {
    while (run.packets < options.packets && !options.signal?.aborted) {
      const plan = planConnection({ seed: options.seed, index: next++, device: options.device, otherDeviceIds: options.otherDeviceIds });
      run.packets += plan.packets;
      run.connections += 1;
      for (const kind of plan.mutations) run.mutations[kind] = (run.mutations[kind] ?? 0) + 1;
      const stream = Buffer.concat(plan.writes);
      run.bytes += stream.length;
      if (stream.includes(secret)) run.authenticatedStreams.set(plan.index, stream);
      const { closedByGateway } = await sendConnection(options.host, options.port, plan.writes, options.quietMs ?? 30);
      if (closedByGateway) run.closedByGateway += 1;
    }
  };
  await Promise.all(Array.from({ length: options.concurrency }, worker));
  return run;
}

export interface TelemetryRecord {
  key: string;
  /** The record's mqtt.topic header. */
  mqttTopic: string;
  value: Buffer;
}

export interface FuzzAudit {
  legitimate: number;
  fuzzer: number;
  /** Records no valid authorized publish explains (at most 10 shown), with why. */
  unexplained: Array<{ key: string; mqttTopic: string; value: string; why: string }>;
  unexplainedCount: number;
}

/** Checks every telemetry record against what the legitimate device and the fuzzer sent. */
export function auditFuzzRecords(
  records: readonly TelemetryRecord[],
  options: { run: FuzzRun; fuzzDeviceId: string; legitimate: { deviceId: string; payloads: ReadonlySet<string> } },
): FuzzAudit {
  const audit: FuzzAudit = { legitimate: 0, fuzzer: 0, unexplained: [], unexplainedCount: 0 };
  const streams = options.run.authenticatedStreams;
  const sentByFuzzer = (value: Buffer): boolean => {
    const index = connectionOfPayload(options.run.seed, value);
    if (index !== null && streams.get(index)?.includes(value)) return true;
    for (const stream of streams.values()) if (stream.includes(value)) return true;
    return false;
  };
  const explain = (record: TelemetryRecord): string | null => {
    if (record.mqttTopic !== `devices/${record.key}/telemetry`) return 'topic is not the device’s own telemetry topic';
    if (record.key === options.legitimate.deviceId) return options.legitimate.payloads.has(record.value.toString()) ? null : 'payload the legitimate device never sent';
    if (record.key === options.fuzzDeviceId) return sentByFuzzer(record.value) ? null : 'payload not in any connection that carried the secret';
    return 'key is neither the legitimate nor the fuzzer device';
  };
  for (const record of records) {
    const why = explain(record);
    if (why === null) {
      if (record.key === options.legitimate.deviceId) audit.legitimate += 1;
      else audit.fuzzer += 1;
      continue;
    }
    audit.unexplainedCount += 1;
    if (audit.unexplained.length < 10) audit.unexplained.push({ key: record.key, mqttTopic: record.mqttTopic, value: record.value.toString('latin1').slice(0, 200), why });
  }
  return audit;
}

export interface LegitimateDeviceRun {
  acknowledged: number;
  failed: number;
  /** Longest wait for a PUBACK, ms. */
  maxPubackMs: number;
  closed: boolean;
  /** Every payload sent, acknowledged or not. */
  payloads: Set<string>;
}

/** Publishes QoS 1 on `client` every `intervalMs`, one at a time, until `stop` (which waits for the last PUBACK). */
export function startLegitimateDevice(client: MqttClient, deviceId: string, intervalMs: number): { stop(): Promise<LegitimateDeviceRun> } {
  const run: LegitimateDeviceRun = { acknowledged: 0, failed: 0, maxPubackMs: 0, closed: false, payloads: new Set() };
  client.on('close', () => (run.closed = true));
  let stopping = false;
  const loop = (async () => {
    for (let seq = 0; !stopping && !run.closed; seq += 1) {
      const payload = JSON.stringify({ v: 1, ts: Date.now(), seq, metrics: { temperature: 21 } });
      run.payloads.add(payload);
      const sentAt = performance.now();
      try {
        await client.publishAsync(`devices/${deviceId}/telemetry`, payload, { qos: 1 });
        run.acknowledged += 1;
        run.maxPubackMs = Math.max(run.maxPubackMs, performance.now() - sentAt);
      } catch {
        run.failed += 1;
      }
      await new Promise((resolve) => setTimeout(resolve, intervalMs));
    }
  })();
  return {
    async stop() {
      stopping = true;
      await loop;
      return run;
    },
  };
}
