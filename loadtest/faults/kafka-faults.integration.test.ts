/**
 * Short runs of `bench e2e --fault` for the Kafka faults on a 3-broker KRaft cluster of this test's
 * own (RF 3, min.insync.replicas 2; QuestDB is the shared stack's): the leader of the most telemetry
 * partitions paused, 2 of 3 brokers paused (below min ISR), the active controller SIGKILLed and
 * started again. Each pause outlasts the gateway's send timeout (3 s here). Assertions are on the
 * counts only: nothing acknowledged lost in Kafka or QuestDB, no duplicate rows, no phantoms.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { startStack, stackDir, stopStack, type StackState } from '../../infra/stack.ts';
import { faultStackOptions } from '../../test/test-stacks.ts';
import { runE2eBench, type E2eResult } from '../e2e-bench.ts';
import { smallE2eRun } from '../../test/small-e2e-run.ts';
import { findGroupMembers } from '../process-usage.ts';
import { faultKinds, type FaultKindName } from './fault-catalog.ts';

// Three JVMs starting at once on a loaded 2-core machine can take minutes.
const stack = { ...faultStackOptions({ suffix: 'kafka-faults', brokers: 3, home: inject('stackHome'), kafkaHeapMb: 256 }), readyTimeoutMs: 360_000 };
const dir = stackDir(stack.home, stack.name);
let state: StackState;
let logDir = '';

beforeAll(async () => {
  state = await startStack(stack);
  logDir = await mkdtemp(join(tmpdir(), 'tributary-kafka-faults-'));
}, 400_000);

afterAll(async () => {
  const result = await stopStack(dir, () => undefined);
  await rm(logDir, { recursive: true, force: true });
  expect(result.portsStillBusy).toEqual([]);
});

async function serverPids(): Promise<Record<string, number>> {
  const pids: Record<string, number> = {};
  for (const node of state.kafka.nodes) {
    const [pid] = await findGroupMembers(node.pgid, 'java');
    if (pid !== undefined) pids[`kafka-${node.nodeId}`] = pid;
  }
  return pids;
}

async function runWithFault(kind: FaultKindName, atMs: number, forMs: number): Promise<E2eResult> {
  // The controller kill restarts a node: pids and bootstrap are read afresh for every run.
  return runE2eBench(
    smallE2eRun(
      { kafkaBrokers: state.kafka.bootstrap, questdbHttpUrl: inject('questdbHttpUrl'), logDir },
      {
        durationMs: 12_000,
        drainTimeoutMs: 120_000,
        maxProbeRatePerSec: 50,
        serverPids: await serverPids(),
        stackDir: dir,
        gatewayEnv: { TRIBUTARY_KAFKA_SEND_TIMEOUT_MS: '3000' },
        fault: { fault: faultKinds[kind].create(), atMs, forMs },
      },
    ),
  );
}

function expectNothingLost(result: E2eResult): void {
  expect(result.fault?.error ?? null).toBeNull();
  expect(result.fault?.injectedAtMs).not.toBeNull();
  expect(result.fault?.healedAtMs).not.toBeNull();
  expect(result.drain.caughtUp).toBe(true);
  expect(result.counts.acknowledged).toBeGreaterThan(0);
  expect(result.lost.kafka).toBe(0);
  expect(result.lost.questdb).toBe(0);
  expect(result.lost.questdbIncompleteMessages).toBe(0);
  expect(result.duplicates.questdbRows).toBe(0);
  expect(result.phantoms).toEqual({ kafka: 0, questdb: 0 });
  expect(result.counts.deadLettered).toBe(0);
}

describe('Kafka faults on a 3-broker cluster', () => {
  it('leader of the most telemetry partitions paused past the send timeout: nothing acknowledged lost', async () => {
    expectNothingLost(await runWithFault('kafka-leader-pause', 2000, 6000));
  }, 300_000);

  it('below min ISR (a broker out of the ISR, min.insync.replicas 3): no PUBACK while writes are refused, nothing acknowledged lost', async () => {
    const result = await runWithFault('kafka-min-isr', 2000, 6000);
    expectNothingLost(result);
    // The fault bit: sends were refused until they timed out, and the gateway closed connections instead of acknowledging.
    expect(result.fleet.disconnects).toBeGreaterThan(0);
  }, 300_000);

  it('active controller SIGKILLed and started again: nothing acknowledged lost', async () => {
    // Starting the JVM again (it replays the metadata log) takes minutes on a loaded machine.
    expectNothingLost(await runWithFault('kafka-controller-kill', 2000, 2000));
  }, 600_000);
});
