/**
 * A wrong-password flood against a registered device id, from one address, while a legitimate device
 * publishes QoS 1: the legitimate device keeps being acknowledged, the test process (gateway and
 * flood clients) stays within 128 MiB of its start, and the flood is refused, mostly without hashing
 * (rate_limited in the metrics).
 */
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { startGatewayHarness, type GatewayHarness } from './gateway-harness.ts';
import { eventually } from './helpers.ts';

let harness: GatewayHarness;
const floodAttempts = 400;
const floodConcurrency = 20;

async function connackCode(deviceId: string, secret: string): Promise<number> {
  try {
    const client = await harness.connect(deviceId, secret, { connectTimeout: 30_000 });
    await client.endAsync();
    return 0;
  } catch (error) {
    return (error as { code?: number }).code ?? -1;
  }
}

async function authRefusals(reason: string): Promise<number> {
  const text = await (await fetch(`${harness.httpUrl}/metrics`)).text();
  const line = text.split('\n').find((candidate) => candidate.startsWith(`tributary_gateway_auth_refusals_total{reason="${reason}"}`));
  return line === undefined ? 0 : Number(line.split(' ').at(-1));
}

beforeAll(async () => {
  harness = await startGatewayHarness({
    brokers: inject('kafkaBrokers'),
    env: {
      TRIBUTARY_GATEWAY_AUTH_FAILURES_PER_ADDRESS: '20',
      TRIBUTARY_GATEWAY_AUTH_FAILURES_PER_DEVICE: '10',
      TRIBUTARY_GATEWAY_AUTH_FAILURE_REFILL_MS: '2000',
    },
  });
  await harness.registerDevice('legit-1', 'legit-secret');
  await harness.registerDevice('target-1', 'target-secret');
  // Attempts while the registry loads fail and spend the address's budget; it refills every 2 s.
  await eventually(() => connackCode('legit-1', 'legit-secret'), (code) => code === 0, 60_000, 'registry loaded');
});

afterAll(async () => {
  await harness?.close();
});

describe('wrong-password flood', () => {
  it('keeps acknowledging a legitimate device while the flood is refused and rate limited', async () => {
    const legit = await harness.connect('legit-1', 'legit-secret');
    let legitClosed = false;
    legit.on('close', () => (legitClosed = true));
    const recordsBefore = await harness.recordCount(harness.topics.telemetry);

    const rssStart = process.memoryUsage().rss;
    let rssPeak = rssStart;
    const sampler = setInterval(() => (rssPeak = Math.max(rssPeak, process.memoryUsage().rss)), 100);
    const codes: number[] = [];
    let floodDone = false;
    const flood = (async () => {
      let next = 0;
      await Promise.all(
        Array.from({ length: floodConcurrency }, async () => {
          while (next < floodAttempts) {
            next += 1;
            codes.push(await connackCode('target-1', `wrong-${next}`));
          }
        }),
      );
      floodDone = true;
    })();

    let acknowledged = 0;
    while (!floodDone || acknowledged < 20) {
      await legit.publishAsync('devices/legit-1/telemetry', JSON.stringify({ v: 1, ts: Date.now(), seq: acknowledged, metrics: { temperature: 21 } }), { qos: 1 });
      acknowledged += 1;
    }
    await flood;
    clearInterval(sampler);

    expect(legitClosed).toBe(false);
    // Refused attempts hold nothing once answered; queued verifications are bounded (256).
    expect(rssPeak - rssStart).toBeLessThan(128 * 1024 * 1024);
    expect(await harness.recordCount(harness.topics.telemetry)).toBe(recordsBefore + acknowledged);
    expect(codes).toHaveLength(floodAttempts);
    expect(codes.filter((code) => code === 0)).toEqual([]);
    expect(new Set(codes.filter((code) => ![3, 4, 5].includes(code)))).toEqual(new Set());
    const rateLimited = await authRefusals('rate_limited');
    expect(rateLimited).toBeGreaterThan(0);
    // the buckets let through a burst and then one attempt per refill: most of the flood was refused without hashing
    expect(await authRefusals('bad_credentials')).toBeLessThan(floodAttempts / 2);
    await legit.endAsync();

    // The address is rate limited now, but a device whose secret the gateway already verified still gets in.
    expect(await connackCode('legit-1', 'legit-secret')).toBe(0);
    // Still limited: if the steps above took longer than a refill (2 s on a loaded machine), the
    // bucket holds one attempt, which is checked (4); the next one is refused unchecked (5).
    const after = [await connackCode('target-1', 'wrong-again')];
    if (after[0] === 4) after.push(await connackCode('target-1', 'wrong-once-more'));
    expect(after.at(-1)).toBe(5);
  });
});

