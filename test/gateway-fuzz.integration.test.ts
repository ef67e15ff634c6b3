/**
 * The MQTT mutation fuzzer (loadtest/mqtt-fuzzer.ts) against a running gateway and the real Kafka:
 * 20,000 packets (or what 45 s allow on a loaded machine), valid and mutated, over a few thousand
 * short raw TCP connections, while a legitimate device publishes QoS 1. The gateway must stay up
 * (/livez, /readyz), keep acknowledging the device, keep its memory within a ceiling, and write
 * nothing to Kafka that a valid authorized publish does not explain. A fresh seed each run
 * (TRIBUTARY_TEST_FUZZ_SEED replays one: connection i sends the same bytes); every failure names it.
 * The long run: loadtest/mqtt-fuzz-bench.ts, figures in docs/benchmarks/fuzz.md.
 */
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { auditFuzzRecords, runFuzz, startLegitimateDevice } from '../loadtest/mqtt-fuzzer.ts';
import { startGatewayHarness, type GatewayHarness } from './gateway-harness.ts';
import { eventually } from './helpers.ts';

const packets = 20_000;
// On a loaded machine the run stops here, whatever it sent; it must still have sent a fair share.
const fuzzDeadlineMs = 45_000;
const minimumPackets = 2_000;
// The whole test process (gateway, fuzzer, Kafka clients) may grow by this much over its start; what
// the gateway keeps per connection is freed when the connection goes, so a leak passes it quickly.
const rssCeilingGrowthBytes = 256 * 1024 * 1024;
const seed = Number(process.env.TRIBUTARY_TEST_FUZZ_SEED ?? Math.floor(Math.random() * 2 ** 31));
const replay = `seed ${seed} (replay: TRIBUTARY_TEST_FUZZ_SEED=${seed} npx vitest run test/gateway-fuzz.integration.test.ts)`;
const fuzzDevice = { deviceId: 'fuzz-1', secret: 'fuzz-secret' };
const legitDevice = { deviceId: 'legit-1', secret: 'legit-secret' };

let harness: GatewayHarness;

async function status(path: string): Promise<number> {
  return (await fetch(`${harness.httpUrl}${path}`, { signal: AbortSignal.timeout(5000) })).status;
}

beforeAll(async () => {
  harness = await startGatewayHarness({ brokers: inject('kafkaBrokers') });
  await harness.registerDevice(fuzzDevice.deviceId, fuzzDevice.secret);
  await harness.registerDevice(legitDevice.deviceId, legitDevice.secret);
  await harness.waitUntilAccepted(legitDevice.deviceId, legitDevice.secret, 30_000);
});

afterAll(async () => {
  await harness?.close();
});

describe('MQTT mutation fuzzer', () => {
  it(`survives ${packets} valid and mutated packets and forwards only valid authorized publishes`, async () => {
    process.stdout.write(`gateway fuzz: ${replay}\n`);
    const rssStart = process.memoryUsage().rss;
    let rssPeak = rssStart;
    const sampler = setInterval(() => (rssPeak = Math.max(rssPeak, process.memoryUsage().rss)), 100);
    const legit = startLegitimateDevice(await harness.connect(legitDevice.deviceId, legitDevice.secret), legitDevice.deviceId, 20);
    const port = Number(new URL(harness.mqttUrl).port);
    let run;
    try {
      run = await runFuzz({ host: '127.0.0.1', port, seed, packets, device: fuzzDevice, otherDeviceIds: [legitDevice.deviceId], concurrency: 16, signal: AbortSignal.timeout(fuzzDeadlineMs) });
    } finally {
      clearInterval(sampler);
    }
    const legitRun = await legit.stop();
    process.stdout.write(
      `gateway fuzz: ${run.packets} packets, ${run.connections} connections (${run.closedByGateway} closed by the gateway), ` +
        `mutations ${JSON.stringify(run.mutations)}; RSS ${(rssStart / 2 ** 20).toFixed(0)} → peak ${(rssPeak / 2 ** 20).toFixed(0)} MiB; ` +
        `legitimate device ${legitRun.acknowledged} PUBACKs, ${legitRun.failed} failed, slowest ${legitRun.maxPubackMs.toFixed(0)} ms\n`,
    );

    expect(run.packets, replay).toBeGreaterThanOrEqual(minimumPackets);
    expect(await status('/livez'), replay).toBe(200);
    expect(await status('/readyz'), replay).toBe(200);
    expect({ closed: legitRun.closed, failed: legitRun.failed }, replay).toEqual({ closed: false, failed: 0 });
    expect(legitRun.acknowledged, replay).toBeGreaterThan(10);
    expect(rssPeak - rssStart, replay).toBeLessThan(rssCeilingGrowthBytes);

    // The fuzzer's QoS 1/2 publishes were acknowledged after Kafka did; QoS 0 ones are in flight briefly.
    let previous = -1;
    const settled = async (): Promise<number> => {
      const count = await harness.recordCount(harness.topics.telemetry);
      const same = count === previous;
      previous = count;
      return same ? count : -1;
    };
    const total = await eventually(settled, (count) => count >= 0, 30_000, 'record count settled');
    const records = await harness.readRecords(harness.topics.telemetry, total, 60_000);
    const audit = auditFuzzRecords(
      records.map((record) => ({ key: record.key, mqttTopic: record.headers['mqtt.topic'] ?? '', value: record.valueBytes })),
      { run, fuzzDeviceId: fuzzDevice.deviceId, legitimate: { deviceId: legitDevice.deviceId, payloads: legitRun.payloads } },
    );
    process.stdout.write(`gateway fuzz: Kafka holds ${total} records: ${audit.legitimate} legitimate, ${audit.fuzzer} from the fuzzer's authorized publishes\n`);
    expect(audit.unexplained, replay).toEqual([]);
    // The fuzzer's own valid publishes got through: the gateway was serving it, not just refusing.
    expect(audit.fuzzer, replay).toBeGreaterThan(0);
    expect(audit.legitimate, replay).toBeGreaterThanOrEqual(legitRun.acknowledged);
  }, 180_000);
});
