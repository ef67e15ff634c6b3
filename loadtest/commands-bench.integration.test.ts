/**
 * A seconds-long run of the commands benchmark against the real stack, with sessions in the
 * gateway's memory and in Redis, so the harness cannot rot: assertions on the counting only (never
 * on timing).
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { runCommandsBench, type CommandsBenchResult } from './commands-bench.ts';

const devices = 20;
let logDir = '';

beforeAll(async () => {
  logDir = await mkdtemp(join(tmpdir(), 'tributary-commands-bench-'));
});

afterAll(async () => {
  await rm(logDir, { recursive: true, force: true });
});

const smallRun = (gatewayEnv: Record<string, string>): Promise<CommandsBenchResult> =>
  runCommandsBench({ kafkaBrokers: inject('kafkaBrokers'), devices, connectConcurrency: 10, reconnectRatePerSec: 50, produceBatch: 7, phaseTimeoutMs: 30_000, logDir, gatewayEnv });

describe.each([
  ['memory', () => ({})],
  ['redis', () => ({ TRIBUTARY_GATEWAY_REDIS_URL: inject('redisUrl') })],
])('commands benchmark smoke run, sessions in %s', (store, env) => {
  let result: CommandsBenchResult;

  // Longer than every wait of the run together, so a slow step shows up as counts, not as a hook timeout.
  beforeAll(async () => {
    result = await smallRun(env());
  }, 300_000);

  it('connects every device and delivers each connected device its command once', () => {
    expect(result.sessionStore).toBe(store);
    expect(result.problems).toEqual([]);
    expect(result.connect.connected).toBe(devices);
    expect(result.connected).toMatchObject({ commands: devices, received: devices, lost: 0, duplicates: 0, crossed: 0, deliveredByGateway: devices });
    expect(result.connected.latencyMs.count).toBe(devices);
  });

  it('queues a command for every offline device and delivers it once when the device is back', () => {
    expect(result.offline).toMatchObject({ commands: devices, notQueued: 0, sessionsPresent: devices, reconnectFailures: 0, received: devices, lost: 0, duplicates: 0, crossed: 0, deliveredByGateway: devices });
  });

  it('finds a queued and a delivered event for every command', () => {
    expect(result.connected.commandEvents).toBe(2 * devices);
    expect(result.offline.commandEvents).toBe(2 * devices);
  });

  it('measures the gateway', () => {
    expect(result.connected.processes.map((process) => process.name)).toContain('gateway');
  });
});
