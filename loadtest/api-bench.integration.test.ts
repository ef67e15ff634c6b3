/**
 * A seconds-long run of the API benchmark against the real stack (a few dashboard clients, a low
 * rate, one replay round), so the harness cannot rot: assertions on counts and shape only, never on
 * timing.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { createBenchCredentials } from './bench-devices.ts';
import { runApiBench, type ApiBenchResult } from './api-bench.ts';
import { smallE2eRun } from '../test/small-e2e-run.ts';

describe('API benchmark smoke run', () => {
  let logDir = '';
  let result: ApiBenchResult;

  beforeAll(async () => {
    logDir = await mkdtemp(join(tmpdir(), 'tributary-api-bench-'));
    result = await runApiBench({
      e2e: smallE2eRun({ kafkaBrokers: inject('kafkaBrokers'), questdbHttpUrl: inject('questdbHttpUrl'), logDir }, { durationMs: 4000, credentials: createBenchCredentials('apibench', 10) }),
      questdbPgUrl: `postgresql://admin:quest@127.0.0.1:${inject('questdbPgPort')}/qdb`,
      clients: 4,
      replayRounds: 1,
      replayTimeoutMs: 120_000,
    });
  }, 300_000);

  afterAll(async () => {
    await rm(logDir, { recursive: true, force: true });
  });

  it('carried the pipeline load with every message counted', () => {
    expect(result.problems).toEqual([]);
    expect(result.pipeline.countsAgree).toBe(true);
    expect(result.e2e.counts.acknowledged).toBeGreaterThan(0);
    expect(result.pipeline.pubackMs.count).toBe(result.e2e.counts.acknowledged);
  });

  it('answered every dashboard request of both routes with 200', () => {
    const reads = result.reads!;
    for (const route of ['latest', 'series'] as const) {
      expect(reads.routes[route].requests).toBeGreaterThan(0);
      expect(reads.routes[route].ok).toBe(reads.routes[route].requests);
      expect(reads.routes[route].latencyMs.count).toBe(reads.routes[route].requests);
    }
    expect(reads.errors).toEqual({});
    expect(reads.processes.map((p) => p.name).sort()).toEqual(['api', 'load-generator']);
    expect(reads.processes.every((p) => p.cpuMicrosPerRequest !== null)).toBe(true);
  });

  it('replayed every record of the topic by the CLI and as a job', () => {
    const replay = result.replay!;
    expect(replay.topicRecords).toBe(result.e2e.counts.kafkaRecords);
    expect(replay.runs.map((run) => run.via)).toEqual(['cli', 'job']);
    for (const run of replay.runs) {
      expect(run.records).toBe(replay.topicRecords);
      expect(run.wallRecordsPerSec).toBeGreaterThan(0);
    }
  });

  it('left QuestDB with each reading once after the replays', () => {
    expect(result.e2e.counts.questdbRows).toBe(result.e2e.counts.expectedRows);
    expect(result.e2e.duplicates.questdbRows).toBe(0);
  });
});
