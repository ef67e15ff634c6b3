/**
 * `tributary replay` against the real Kafka and QuestDB, run as an operator runs it (a child
 * process): it writes exactly the chosen range, re-enriches with today's registry, overlaps live
 * writes without doubling a row, resolves time bounds, and resumes where an interrupted run stopped.
 */
import { setTimeout as delay } from 'node:timers/promises';
import { afterEach, describe, expect, inject, it } from 'vitest';
import type { ReplayReport } from '../enrich/replay.ts';
import { createCleanups } from './cleanups.ts';
import { explain, startEnrichHarness, telemetryStream, type EnrichChild, type EnrichHarness } from './enrich-harness.ts';
import { eventually } from './helpers.ts';

const brokers = inject('kafkaBrokers');
const questdbHttpUrl = inject('questdbHttpUrl');
const t0 = Date.UTC(2026, 1, 1);
const devices = Array.from({ length: 12 }, (_, i) => `replay-${i}`);
const cleanups = createCleanups();

afterEach(() => cleanups.runAll());

async function harness(): Promise<EnrichHarness> {
  const created = await startEnrichHarness({ brokers, questdbHttpUrl, telemetryPartitions: 3 });
  cleanups.add(() => created.close());
  for (const deviceId of devices) await created.registerDevice({ deviceId, site: 'site-a' });
  return created;
}

/** Runs `tributary replay <args> --json` to its end; returns the exit code and the parsed report. */
async function replay(h: EnrichHarness, args: readonly string[], options: { interruptAfterProgress?: boolean } = {}): Promise<{ code: number | null; report: ReplayReport; child: EnrichChild }> {
  const child = h.spawnCli(['replay', ...args, '--json']);
  if (options.interruptAfterProgress === true) {
    await eventually(() => Promise.resolve(child.output()), (output) => / of \d+ records \(/.test(output), 60_000, 'replay progress').catch(explain(child));
    child.process.kill('SIGINT');
  }
  const { code } = await child.exited;
  try {
    return { code, report: JSON.parse(child.stdout()) as ReplayReport, child };
  } catch (error) {
    return explain(child)(error);
  }
}

async function rowsByPartitionOffset(h: EnrichHarness): Promise<string[]> {
  await eventually(() => h.walApplied(h.tables.readings), (applied) => applied, 30_000, 'writes applied');
  const rows = (await h.query(`select kafka_partition, kafka_offset, count() from '${h.tables.readings}' order by kafka_partition, kafka_offset`)) as Array<[number, number, number]>;
  return rows.map(([partition, offset, count]) => `${partition}@${offset}×${count}`);
}

/** Records of the telemetry topic per partition, in offset order. */
async function offsetsOf(h: EnrichHarness, total: number): Promise<Map<number, number[]>> {
  const byPartition = new Map<number, number[]>();
  for (const record of await h.readTopic(h.topics.telemetry, total)) byPartition.set(record.partition, [...(byPartition.get(record.partition) ?? []), Number(record.offset)]);
  for (const offsets of byPartition.values()) offsets.sort((a, b) => a - b);
  return byPartition;
}

describe('tributary replay', () => {
  it('writes exactly the chosen offset range of one partition, with two rows per reading', async () => {
    const h = await harness();
    const messages = telemetryStream(devices, 10, { t0 });
    await h.produceTelemetry(messages);
    const partitions = await offsetsOf(h, messages.length);
    const [partition, offsets] = [...partitions].find(([, list]) => list.length >= 10)!;
    const [from, to] = [offsets[2]!, offsets[8]!];

    const plan = h.spawnCli(['replay', '--partition', String(partition), '--from', String(from), '--to', String(to), '--dry-run', '--json']);
    expect((await plan.exited).code).toBe(0);
    expect(JSON.parse(plan.stdout())).toMatchObject({ ranges: [{ partition, fromOffset: String(from), toOffset: String(to) }], records: to - from });

    const { code, report } = await replay(h, ['--partition', String(partition), '--from', String(from), '--to', String(to)]);
    expect(code).toBe(0);
    expect(report).toMatchObject({ complete: true, records: to - from, rows: (to - from) * 2, missing: 0, refused: {}, error: null });
    expect(await rowsByPartitionOffset(h)).toEqual(Array.from({ length: to - from }, (_, i) => `${partition}@${from + i}×2`));
  });

  it('alongside a live enricher: overlapping replays add no row, and they re-enrich with the registry as it is now', async () => {
    const h = await harness();
    const enricher = await h.startEnricher();
    const group = h.env().TRIBUTARY_ENRICH_GROUP!;
    const first = telemetryStream(devices, 20, { t0 });
    await h.produceTelemetry(first);
    await eventually(() => h.committedEverything(group), (done) => done, 60_000, 'live enricher committed everything');

    // A device moved to another site: the replay rewrites its stored rows with the new site.
    await h.registerDevice({ deviceId: devices[0]!, site: 'site-b' });
    await delay(500);
    const live = (async () => {
      for (let seq = 21; seq <= 40; seq += 5) {
        await h.produceTelemetry(telemetryStream(devices, 5, { t0, firstSeq: seq }));
        await delay(100);
      }
    })();
    const { code, report } = await replay(h, ['--partition', 'all']);
    await live;
    expect(code).toBe(0);
    expect(report.complete).toBe(true);
    expect(report.records).toBeGreaterThanOrEqual(first.length);
    expect(report.partitions.map((p) => p.partition)).toEqual([0, 1, 2]);

    await eventually(() => h.committedEverything(group), (done) => done, 60_000, 'live enricher committed the live records');
    await eventually(() => h.walApplied(h.tables.readings), (applied) => applied, 30_000, 'writes applied');
    const expected = devices.length * 40 * 2;
    expect(await h.rowCounts()).toEqual({ rows: expected, distinct: expected });
    const sites = (await h.query(`select site, count() from '${h.tables.readings}' where device = '${devices[0]}' and seq <= 20 order by site`)) as Array<[string, number]>;
    expect(sites).toEqual([['site-b', 40]]);
    expect((await fetch(`${enricher.httpUrl}/readyz`)).status).toBe(200);
  });

  it('resolves a time bound to the first record at or after it', async () => {
    const h = await harness();
    const before = telemetryStream(devices, 3, { t0 });
    await h.produceTelemetry(before);
    await delay(1500);
    const since = new Date().toISOString();
    await delay(100);
    const after = telemetryStream(devices, 2, { t0, firstSeq: 4 });
    await h.produceTelemetry(after);

    const { code, report } = await replay(h, ['--partition', 'all', '--from', since]);
    expect(code).toBe(0);
    expect(report).toMatchObject({ complete: true, records: after.length, rows: after.length * 2 });
    await eventually(() => h.walApplied(h.tables.readings), (applied) => applied, 30_000, 'writes applied');
    const seqs = (await h.query(`select distinct seq from '${h.tables.readings}' order by seq`)) as Array<[number]>;
    expect(seqs.map(([seq]) => seq)).toEqual([4, 5]);
  });

  it('interrupted, it exits 1 with the offsets reached; resumed from there, it completes, and refused records are counted', async () => {
    const h = await harness();
    const messages = telemetryStream(devices, 30, { t0 });
    await h.produceTelemetry(messages);
    await h.produceTelemetry([{ deviceId: devices[1]!, payload: '{"v":1,"ts":', receivedAtMs: t0 }]);
    const total = messages.length + 1;

    const stopped = await replay(h, ['--partition', 'all', '--max-rate', '60'], { interruptAfterProgress: true });
    expect(stopped.code).toBe(1);
    expect(stopped.report.complete).toBe(false);
    expect(stopped.report.error).toBeNull();
    expect(stopped.report.records).toBeLessThan(total);
    expect(stopped.child.output()).toContain('to resume');

    let replayed = stopped.report.records;
    let refused = stopped.report.refused.invalid_json ?? 0;
    for (const partition of stopped.report.partitions.filter((p) => p.nextOffset !== p.toOffset)) {
      const resumed = await replay(h, ['--partition', String(partition.partition), '--from', partition.nextOffset, '--to', partition.toOffset]);
      expect(resumed.code).toBe(0);
      expect(resumed.report.complete).toBe(true);
      replayed += resumed.report.records;
      refused += resumed.report.refused.invalid_json ?? 0;
    }
    expect(replayed).toBe(total);
    expect(refused).toBe(1);
    await eventually(() => h.walApplied(h.tables.readings), (applied) => applied, 30_000, 'writes applied');
    expect(await h.rowCounts()).toEqual({ rows: messages.length * 2, distinct: messages.length * 2 });
  });
});
