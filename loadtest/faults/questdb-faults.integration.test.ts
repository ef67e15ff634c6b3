/**
 * Short runs of the QuestDB fault kinds (bench e2e --fault) against a stack of their own: the shared
 * test stack's QuestDB must not be killed or filled. QuestDB's root is on a small tmpfs (the test
 * runs as root, as the disk-full kind needs). Assertions on the counting only, never on timing.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { startStack, stackDir, stopStack, type StackState } from '../../infra/stack.ts';
import { faultStackOptions } from '../../test/test-stacks.ts';
import { runE2eBench, type E2eResult } from '../e2e-bench.ts';
import { smallE2eRun } from '../../test/small-e2e-run.ts';
import { faultKinds, type FaultKindName } from './fault-catalog.ts';

const stackOptions = {
  ...faultStackOptions({ suffix: 'questdb', brokers: 1, home: inject('stackHome'), kafkaHeapMb: 256 }),
  questdb: true,
  questdbHeapMb: 384,
  // Its second pair of JVMs is started while the shared stack runs: on a loaded machine that took over 180 s.
  readyTimeoutMs: 360_000,
  // QuestDB takes ~110 MiB of it for its own tables at start, and each run's tables preallocate
  // more: with 512 MiB the runs after disk-full found the disk full again (errno 28) and never caught up.
  // tmpfs only holds what is written; the disk-full ballast fills the rest for a few seconds.
  questdbDiskMb: 1536,
};
const dir = stackDir(stackOptions.home, stackOptions.name);
let stack: StackState;
let logDir = '';

beforeAll(async () => {
  logDir = await mkdtemp(join(tmpdir(), 'tributary-qdbfaults-'));
  stack = await startStack(stackOptions);
}, 420_000);

afterAll(async () => {
  const result = await stopStack(dir, () => undefined);
  await rm(logDir, { recursive: true, force: true });
  expect(result.portsStillBusy).toEqual([]);
});

function faultRun(kind: FaultKindName, timing: { atMs: number; forMs: number }, enrichEnv: Record<string, string> = {}): Promise<E2eResult> {
  const options = smallE2eRun(
    { kafkaBrokers: stack.kafka.bootstrap, questdbHttpUrl: stack.questdb!.httpUrl, logDir },
    {
      stackDir: dir,
      ratePerSec: 100,
      durationMs: 10_000,
      drainTimeoutMs: 120_000,
      // Resume a suspended table soon after the disk has room again.
      enrichEnv: { TRIBUTARY_ENRICH_TABLE_CHECK_INTERVAL_MS: '500', ...enrichEnv },
      fault: { fault: faultKinds[kind].create(), ...timing },
    },
  );
  return runE2eBench(options);
}

/** What every QuestDB fault must leave: nothing acknowledged lost, each reading once, nothing unexpected. */
function expectNothingLostOrDoubled(result: E2eResult): void {
  expect(result.fault?.injectedAtMs).not.toBeNull();
  expect(result.fault?.healedAtMs).not.toBeNull();
  expect(result.fault?.error).toBeNull();
  expect(result.problems).toEqual([]);
  expect(result.counts.acknowledged).toBe(result.counts.sent);
  expect(result.lost.kafka).toBe(0);
  expect(result.lost.questdb).toBe(0);
  expect(result.counts.questdbRows).toBe(result.counts.acknowledged * 3);
  expect(result.duplicates.questdbRows).toBe(0);
  expect(result.duplicates.questdbUnexpected).toBe(0);
  expect(result.countsAgree).toBe(true);
}

// Disk full first: on a fresh filesystem the ballast is written before the first rows arrive.
describe('QuestDB fault kinds in short e2e runs', () => {
  it('questdb-disk-full: with its filesystem full, nothing acknowledged is lost and, once freed, everything arrives once', async () => {
    const result = await faultRun('questdb-disk-full', { atMs: 0, forMs: 4000 });
    expectNothingLostOrDoubled(result);
    // Whether QuestDB needed new space during these 4 s (a refused write or a suspended table) depends
    // on timing: two of four CI runs on 2026-12-02 saw neither, so it is not asserted here. The
    // 1,000,000-message benchmark run of this kind is where the full disk is felt (BENCHMARKS.md).
  }, 300_000);

  it('questdb-kill: QuestDB killed mid-write and restarted on its data loses nothing; the enricher retried the failed writes', async () => {
    const result = await faultRun('questdb-kill', { atMs: 3000, forMs: 2000 });
    expectNothingLostOrDoubled(result);
    expect(result.enricher?.questdbWriteFailures).toBeGreaterThan(0);
  }, 300_000);

  it('questdb-slow: writes that time out while QuestDB is stopped are retried without loss or duplicate rows', async () => {
    // A request timeout shorter than one stop (300 ms), so some writes time out and are sent again.
    const result = await faultRun('questdb-slow', { atMs: 2000, forMs: 5000 }, { TRIBUTARY_QUESTDB_REQUEST_TIMEOUT_MS: '150' });
    expectNothingLostOrDoubled(result);
  }, 300_000);
});
