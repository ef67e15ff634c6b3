import { describe, expect, it } from 'vitest';
import { InfraError } from '../core/errors.ts';
import type { ConsumedBatch, ConsumedRecord, PartitionRange, RangeReaderPort } from '../core/kafka-port.ts';
import { silentLogger } from '../core/logger.ts';
import type { PositionedRow } from './questdb-writer.ts';
import { createReplay } from './replay.ts';

function record(partition: number, offset: number, value: string | null, key = 'dev-1'): ConsumedRecord {
  return { topic: 'iot.telemetry', partition, offset: String(offset), key: Buffer.from(key), value: value === null ? null : Buffer.from(value), headers: {}, timestampMs: 1_750_000_000_000 };
}

function reading(seq: number): string {
  return JSON.stringify({ v: 1, ts: 1_750_000_000_000 + seq, seq, metrics: { temperature: 20 + seq } });
}

/** Hands the given batches to `onBatch` in order, as the Kafka range reader does. */
function scriptedReader(batches: ConsumedBatch[], options: { stopAfter?: number } = {}): RangeReaderPort & { stopped: boolean } {
  const reader = {
    stopped: false,
    async read(onBatch: (batch: ConsumedBatch) => Promise<void>) {
      for (const [index, batch] of batches.entries()) {
        if (reader.stopped || index === options.stopAfter) return;
        await onBatch(batch);
      }
    },
    stop() {
      reader.stopped = true;
      return Promise.resolve();
    },
  };
  return reader;
}

function batch(partition: number, records: ConsumedRecord[]): ConsumedBatch {
  return { topic: 'iot.telemetry', partition, records };
}

const ranges: PartitionRange[] = [
  { partition: 0, fromOffset: '10', toOffset: '13' },
  { partition: 1, fromOffset: '5', toOffset: '7' },
];

function replayWith(reader: RangeReaderPort, writeRows: (rows: readonly PositionedRow[]) => Promise<void>, extra: { maxRowsPerWrite?: number } = {}) {
  return createReplay({
    ranges,
    reader,
    writer: { writeRows },
    deviceOf: (deviceId) => (deviceId === 'dev-1' ? { deviceId, site: 'plant-a' } : null),
    unknownDevicePolicy: 'dead-letter',
    maxRowsPerWrite: extra.maxRowsPerWrite ?? 100,
    retry: { minDelayMs: 1, maxDelayMs: 2 },
    maxRecordsPerSec: 0,
    logger: silentLogger(),
  });
}

describe('replay', () => {
  it('writes the rows of every record in the ranges, counts refused ones by reason, and reports each partition done', async () => {
    const written: PositionedRow[] = [];
    const reader = scriptedReader([
      batch(0, [record(0, 10, reading(1)), record(0, 11, '{broken'), record(0, 12, reading(3))]),
      batch(1, [record(1, 5, reading(4), 'stranger'), record(1, 6, reading(5))]),
    ]);
    const report = await replayWith(reader, (rows) => {
      written.push(...rows);
      return Promise.resolve();
    }).run();
    expect(written.map(({ row, partition, offset }) => [partition, offset, row.seq, row.site])).toEqual([
      [0, 10, 1, 'plant-a'],
      [0, 12, 3, 'plant-a'],
      [1, 6, 5, 'plant-a'],
    ]);
    expect(report).toMatchObject({ complete: true, records: 5, rows: 3, missing: 0, refused: { invalid_json: 1, unknown_device: 1 }, error: null });
    expect(report.partitions.map((p) => [p.partition, p.nextOffset, p.records, p.rows, p.refused])).toEqual([
      [0, '13', 3, 2, 1],
      [1, '7', 2, 1, 1],
    ]);
    expect(report.refusedSamples.map((sample) => `${sample.partition}@${sample.offset} ${sample.reason}`)).toEqual(['0@11 invalid_json', '1@5 unknown_device']);
  });

  it('counts offsets of the range that held no record, inside and at the end of a partition', async () => {
    const reader = scriptedReader([batch(0, [record(0, 10, reading(1))]), batch(0, [record(0, 12, reading(3))]), batch(1, [record(1, 5, reading(4))])]);
    const report = await replayWith(reader, () => Promise.resolve()).run();
    expect(report.partitions.map((p) => [p.partition, p.nextOffset, p.records, p.missing])).toEqual([
      [0, '13', 2, 1],
      [1, '7', 1, 1],
    ]);
    expect(report).toMatchObject({ complete: true, missing: 2 });
  });

  it('retries a failing QuestDB write until it succeeds, writing in chunks of maxRowsPerWrite', async () => {
    const attempts: number[] = [];
    let failures = 2;
    const reader = scriptedReader([batch(0, [record(0, 10, reading(1)), record(0, 11, reading(2)), record(0, 12, reading(3))])]);
    const report = await replayWith(
      reader,
      (rows) => {
        attempts.push(rows.length);
        if (failures-- > 0) return Promise.reject(new InfraError('QUESTDB_WRITE_FAILED', 'down', { retriable: true }));
        return Promise.resolve();
      },
      { maxRowsPerWrite: 2 },
    ).run();
    expect(attempts).toEqual([2, 2, 2, 1]);
    expect(report.rows).toBe(3);
    expect(report.partitions[0]?.nextOffset).toBe('13');
  });

  it('stopped part-way, it reports where each partition stands, so a rerun can resume there', async () => {
    const reader = scriptedReader([batch(0, [record(0, 10, reading(1))]), batch(0, [record(0, 11, reading(2))])], { stopAfter: 1 });
    const replay = replayWith(reader, () => Promise.resolve());
    await replay.stop();
    const report = await replay.run();
    expect(report.complete).toBe(false);
    expect(report.error).toBeNull();
    expect(report.partitions.map((p) => [p.partition, p.nextOffset])).toEqual([
      [0, '10'],
      [1, '5'],
    ]);
  });

  it('a write error that is not retriable ends the replay with the error and the position reached', async () => {
    const reader = scriptedReader([batch(0, [record(0, 10, reading(1))]), batch(0, [record(0, 11, reading(2))])]);
    let calls = 0;
    const report = await replayWith(reader, () => (calls++ === 0 ? Promise.resolve() : Promise.reject(new Error('table is missing a column')))).run();
    expect(report.complete).toBe(false);
    expect(report.error).toContain('table is missing a column');
    expect(report.partitions[0]?.nextOffset).toBe('11');
  });
});
