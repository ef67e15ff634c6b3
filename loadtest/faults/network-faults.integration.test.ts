/**
 * Short runs of the end-to-end benchmark with each network fault kind, against a stack of this
 * file's own that listens on a fault network (the shared test stack's network is never touched).
 * Counts only, never timing: nothing acknowledged lost, no duplicate rows, no phantoms, and the
 * fault visibly acted where the kind guarantees it (failed sends, failed and retried writes).
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { faultNetworksSupported } from '../../infra/fault-network.ts';
import { stackDir, startStack, stopStack, type StackState } from '../../infra/stack.ts';
import { faultStackOptions } from '../../test/test-stacks.ts';
import { runE2eBench, type E2eResult } from '../e2e-bench.ts';
import { smallE2eRun } from '../../test/small-e2e-run.ts';
import { metricTotal } from '../../core/prometheus-text.ts';
import { faultKinds, type FaultKindName } from './fault-catalog.ts';
import { faultIsolation } from './fault-isolation.ts';
import type { Fault, FaultEnvironment } from './fault.ts';

const canIsolate = await faultNetworksSupported();

const stackOptions = { ...faultStackOptions({ suffix: 'netfaults', brokers: 1, home: inject('stackHome'), kafkaHeapMb: 384 }), questdb: true, questdbHeapMb: 384, faultNetwork: true };

/** What the enricher reported while QuestDB was still cut off (read just before the heal). */
interface EnricherAtHeal {
  writeFailures: number;
  recordsCommitted: number;
  rowsWritten: number;
}

/** The fault, with the enricher's metrics read at the moment it is healed. */
function observingEnricher(fault: Fault, seen: EnricherAtHeal[]): Fault {
  return {
    ...fault,
    heal: async (environment: FaultEnvironment) => {
      const enricher = environment.enricher();
      if (enricher) {
        const text = await (await fetch(enricher.readyUrl.replace(/\/readyz$/, '/metrics'))).text();
        seen.push({
          writeFailures: metricTotal(text, 'tributary_enrich_questdb_write_failures_total'),
          recordsCommitted: metricTotal(text, 'tributary_enrich_records_committed_total'),
          rowsWritten: metricTotal(text, 'tributary_enrich_rows_written_total'),
        });
      }
      await fault.heal(environment);
    },
  };
}

describe.skipIf(!canIsolate)('network faults in the end-to-end benchmark (needs root and iproute2)', () => {
  let stack: StackState;
  let logDir = '';

  beforeAll(async () => {
    logDir = await mkdtemp(join(tmpdir(), 'tributary-netfaults-'));
    stack = await startStack(stackOptions);
  }, 240_000);

  afterAll(async () => {
    await stopStack(stackDir(stackOptions.home, stackOptions.name), () => undefined);
    await rm(logDir, { recursive: true, force: true });
  }, 60_000);

  const run = (kind: FaultKindName, wrap: (fault: Fault) => Fault = (fault) => fault): Promise<E2eResult> => {
    const isolated = faultIsolation(faultKinds[kind].needs, { questdbHttpUrl: stack.questdb!.httpUrl, ...(stack.network && { network: stack.network }), ...(stack.kafka.relayed && { kafkaRelayed: stack.kafka.relayed }) });
    const options = smallE2eRun(
      { kafkaBrokers: stack.kafka.bootstrap, questdbHttpUrl: stack.questdb!.httpUrl, logDir },
      {
        ratePerSec: 150,
        durationMs: 12_000,
        // A partition of 4 s outlasts these, so sends and writes fail within it.
        gatewayEnv: { TRIBUTARY_KAFKA_SEND_TIMEOUT_MS: '1500' },
        enrichEnv: { TRIBUTARY_QUESTDB_REQUEST_TIMEOUT_MS: '1000', TRIBUTARY_ENRICH_RETRY_MAX_MS: '1000' },
        fault: { fault: wrap(faultKinds[kind].create()), atMs: 2000, forMs: 4000 },
        ...(isolated && { isolated }),
      },
    );
    return runE2eBench(options);
  };

  const expectNothingLost = (result: E2eResult): void => {
    expect(result.problems).toEqual([]);
    expect(result.fault?.error).toBeNull();
    expect(result.fault?.injectedAtMs).not.toBeNull();
    expect(result.fault?.healedAtMs).not.toBeNull();
    expect(result.counts.acknowledged).toBeGreaterThan(0);
    expect(result.lost).toMatchObject({ kafka: 0, questdb: 0, questdbIncompleteMessages: 0 });
    expect(result.duplicates).toMatchObject({ questdbRows: 0, kafkaUnexpected: 0, questdbUnexpected: 0 });
    expect(result.counts.questdbRows).toBe(result.counts.expectedRows);
    expect(result.countsAgree).toBe(true);
  };

  it('gateway↔Kafka partition: sends fail, devices get no PUBACK and resend; nothing acknowledged is lost', async () => {
    const result = await run('gateway-kafka-partition');
    expectNothingLost(result);
    expect(result.fleet.resent).toBeGreaterThan(0);
  }, 240_000);

  it('gateway↔Kafka packet loss: nothing acknowledged is lost', async () => {
    expectNothingLost(await run('gateway-kafka-loss'));
  }, 240_000);

  it('gateway↔Kafka delay: nothing acknowledged is lost', async () => {
    expectNothingLost(await run('gateway-kafka-delay'));
  }, 240_000);

  it('enricher↔QuestDB partition: writes fail and are retried, offsets wait for QuestDB; no row lost or doubled', async () => {
    const seen: EnricherAtHeal[] = [];
    const result = await run('enricher-questdb-partition', (fault) => observingEnricher(fault, seen));
    expectNothingLost(result);
    expect(seen).toHaveLength(1);
    const [atHeal] = seen;
    expect(atHeal!.writeFailures).toBeGreaterThan(0);
    // Every committed record's readings were already acknowledged by QuestDB.
    expect(atHeal!.recordsCommitted * 3).toBeLessThanOrEqual(atHeal!.rowsWritten);
    expect(result.enricher?.questdbWriteFailures).toBeGreaterThanOrEqual(atHeal!.writeFailures);
  }, 240_000);

  it('enricher↔QuestDB packet loss: no row lost or doubled', async () => {
    expectNothingLost(await run('enricher-questdb-loss'));
  }, 240_000);

  it('enricher↔QuestDB delay: no row lost or doubled', async () => {
    expectNothingLost(await run('enricher-questdb-delay'));
  }, 240_000);
});
