/**
 * A seconds-long run of the end-to-end benchmark against the real stack, so the harness cannot rot:
 * a low rate, and assertions on the counting only (never on timing).
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { Kafka, logLevel } from 'kafkajs';
import { runE2eBench, type E2eOptions, type E2eResult } from './e2e-bench.ts';
import { createKafkaAuditor } from './kafka-audit.ts';
import { dropQuestdbTables, questdbExec, questdbRowCount } from './questdb-audit.ts';
import { smallE2eRun } from '../test/small-e2e-run.ts';

const smallRun = (logDir: string): E2eOptions =>
  smallE2eRun({ kafkaBrokers: inject('kafkaBrokers'), questdbHttpUrl: inject('questdbHttpUrl'), logDir }, { probePollMs: 100, maxProbeRatePerSec: 50, timelineIntervalMs: 1000 });

describe('e2e benchmark smoke run', () => {
  let logDir = '';
  let result: E2eResult;

  beforeAll(async () => {
    logDir = await mkdtemp(join(tmpdir(), 'tributary-bench-'));
    result = await runE2eBench({ ...smallRun(logDir), restWindowMs: 1000 });
  }, 180_000);

  afterAll(async () => {
    await rm(logDir, { recursive: true, force: true });
  });

  it('sent messages and had every one acknowledged', () => {
    expect(result.problems).toEqual([]);
    expect(result.fleet.connected).toBe(10);
    expect(result.counts.sent).toBeGreaterThan(0);
    expect(result.counts.acknowledged).toBe(result.counts.sent);
    expect(result.counts.failed).toBe(0);
  });

  it('finds every acknowledged message in Kafka once', () => {
    expect(result.counts.kafkaRecords).toBe(result.counts.acknowledged);
    expect(result.lost.kafka).toBe(0);
    expect(result.duplicates.kafkaRecords).toBe(0);
    expect(result.counts.deadLettered).toBe(0);
  });

  it('finds every reading in QuestDB once: rows = acknowledged × readings, nothing lost', () => {
    expect(result.counts.expectedRows).toBe(result.counts.acknowledged * 3);
    expect(result.counts.questdbRows).toBe(result.counts.expectedRows);
    expect(result.counts.questdbDistinctReadings).toBe(result.counts.expectedRows);
    expect(result.lost.questdb).toBe(0);
    expect(result.lost.questdbIncompleteMessages).toBe(0);
    expect(result.duplicates.questdbRows).toBe(0);
    expect(result.countsAgree).toBe(true);
  });

  it('measured the latencies and the pipeline processes', () => {
    expect(result.latency.pubackMs.count).toBe(result.counts.acknowledged);
    expect(result.latency.queryableMs?.count).toBeGreaterThan(0);
    expect(result.processes.map((p) => p.name).sort()).toEqual(['enricher', 'gateway', 'load-generator']);
    expect(result.processes.every((p) => p.peakRssMiB > 0)).toBe(true);
  });

  it('measured each process at rest once the gateway and enricher had gone quiet, then with the harness querying', () => {
    const { attribution } = result;
    expect(attribution).not.toBeNull();
    // At least one whole quiet second was looked for before the at-rest window.
    expect(attribution!.settledMs).toBeGreaterThanOrEqual(1000);
    expect(Object.keys(attribution!.atRestCores).sort()).toEqual(['enricher', 'gateway', 'load-generator']);
    expect(Object.keys(attribution!.harnessCores).sort()).toEqual(['enricher', 'gateway', 'load-generator']);
  });

  it('kept a timeline whose intervals follow each other and add up to the run', () => {
    const { timeline } = result;
    // 3 s of load at 1 s intervals, then the drain's remainder.
    expect(timeline.length).toBeGreaterThanOrEqual(3);
    expect(timeline[0]!.fromS).toBe(0);
    for (let index = 1; index < timeline.length; index += 1) expect(timeline[index]!.fromS).toBe(timeline[index - 1]!.toS);
    // Each interval's PUBACKs are the difference of two snapshots of the run's histogram: together, all of them.
    expect(timeline.reduce((sum, point) => sum + point.pubacks, 0)).toBe(result.latency.pubackMs.count);
    expect(timeline.every((point) => point.acknowledgedPerSec >= 0 && point.storedPerSec !== null)).toBe(true);
    for (const point of timeline) expect(Object.keys(point.rssMiB).sort()).toEqual(['enricher', 'gateway', 'load-generator']);
    expect(timeline.some((point) => point.pubackP99Ms !== null && point.pubackP99Ms > 0)).toBe(true);
  });

  it('removed the run\'s topics and tables once it was audited', async () => {
    // telemetry, devices, dead letters, events, alerts; the readings and completeness tables
    expect(result.runData).toEqual({ kept: false, removedTopics: 5, removedTables: 2 });
    const admin = new Kafka({ brokers: inject('kafkaBrokers'), logLevel: logLevel.NOTHING }).admin();
    await admin.connect();
    try {
      expect((await admin.listTopics()).filter((topic) => topic.startsWith(result.names.topicPrefix))).toEqual([]);
    } finally {
      await admin.disconnect();
    }
    const tables = await questdbExec(inject('questdbHttpUrl'), 'SELECT table_name FROM tables()');
    expect(tables.map(([name]) => String(name)).filter((name) => name.startsWith(result.names.tablePrefix))).toEqual([]);
  });
});

describe('e2e benchmark with a gateway crash', () => {
  let logDir = '';
  let result: E2eResult;

  beforeAll(async () => {
    logDir = await mkdtemp(join(tmpdir(), 'tributary-bench-'));
    result = await runE2eBench({ ...smallRun(logDir), durationMs: 6000, restartGateway: { afterMs: 2000, signal: 'SIGKILL' } });
  }, 180_000);

  afterAll(async () => {
    await rm(logDir, { recursive: true, force: true });
  });

  it('reconnected every device to the new gateway and got every message acknowledged', () => {
    expect(result.problems).toEqual([]);
    expect(result.fleet.disconnects).toBeGreaterThanOrEqual(10);
    expect(result.fleet.connected).toBe(10);
    expect(result.counts.acknowledged).toBe(result.counts.sent);
  });

  it('lost nothing acknowledged, and QuestDB holds each reading once however often Kafka has it', () => {
    expect(result.lost.kafka).toBe(0);
    expect(result.lost.questdb).toBe(0);
    expect(result.counts.kafkaRecords).toBe(result.counts.acknowledged + (result.duplicates.kafkaRecords ?? 0));
    expect(result.counts.questdbRows).toBe(result.counts.acknowledged * 3);
    expect(result.duplicates.questdbRows).toBe(0);
    expect(result.countsAgree).toBe(true);
  });
});

describe('e2e benchmark with a warm-up', () => {
  let logDir = '';
  let result: E2eResult;

  beforeAll(async () => {
    logDir = await mkdtemp(join(tmpdir(), 'tributary-bench-'));
    result = await runE2eBench({ ...smallRun(logDir), warmupMs: 2000, keepData: true });
  }, 180_000);

  afterAll(async () => {
    await rm(logDir, { recursive: true, force: true });
    const kafka = createKafkaAuditor(inject('kafkaBrokers'));
    await kafka.deleteTopicsByPrefix(result.names.topicPrefix).finally(() => kafka.close());
    await dropQuestdbTables(inject('questdbHttpUrl'), result.names.tablePrefix);
  });

  it('kept the run\'s data when asked to', async () => {
    expect(result.runData).toEqual({ kept: true, removedTopics: 0, removedTables: 0 });
    expect(await questdbRowCount(inject('questdbHttpUrl'), result.names.table)).toBe(result.counts.expectedRows);
    const kafka = createKafkaAuditor(inject('kafkaBrokers'));
    expect(await kafka.recordCount(result.names.telemetryTopic).finally(() => kafka.close())).toBe(result.counts.kafkaRecords);
  });

  it('warmed up at the run\'s rate until the pipeline caught up, then counted the measured load alone', () => {
    expect(result.problems).toEqual([]);
    expect(result.warmup).toMatchObject({ seconds: 2, offered: 400, sent: 400, acknowledged: 400, failed: 0 });
    expect(result.warmup?.caughtUpMs).not.toBeNull();
    // rate 200 msg/s: 400 offered in the warm-up's 2 s, 600 in the load's 3 s
    expect(result.counts.offered).toBe(600);
    expect(result.counts.acknowledged).toBe(result.counts.sent);
    expect(result.latency.pubackMs.count).toBe(result.counts.acknowledged);
    expect(result.throughput.kafka.count).toBe(result.counts.acknowledged);
    expect(result.throughput.questdb?.count).toBe(result.counts.acknowledged);
    expect(result.gateway?.acknowledged).toBe(result.counts.acknowledged);
    expect(result.enricher?.rowsWritten).toBe(result.counts.acknowledged * 3);
  });

  it('audited the warm-up\'s messages with the measured ones: nothing lost, nothing doubled', () => {
    const acknowledged = result.counts.acknowledged + 400;
    expect(result.counts.kafkaRecords).toBe(acknowledged);
    expect(result.counts.expectedRows).toBe(acknowledged * 3);
    expect(result.counts.questdbRows).toBe(acknowledged * 3);
    expect(result.lost).toMatchObject({ kafka: 0, questdb: 0, questdbIncompleteMessages: 0 });
    expect(result.duplicates).toMatchObject({ kafkaRecords: 0, questdbRows: 0 });
    expect(result.countsAgree).toBe(true);
  });
});
