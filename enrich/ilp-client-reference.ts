/**
 * The enricher's rows written with @questdb/nodejs-client's own buffer (protocol version 2): the
 * reference that enrich/ilp-encoder.ts must match byte for byte (its test) and beat on CPU
 * (loadtest/ilp-encode-bench.ts). Not used on the write path (ADR 0018).
 */
import { SenderBufferV2, SenderOptions } from '@questdb/nodejs-client';
import { completenessColumns as k, readingsColumns as c } from '../core/questdb-tables.ts';
import type { DeviceCompleteness } from './completeness.ts';
import type { CanonicalRow } from './enrichment.ts';

export function createReferenceBuffer(): SenderBufferV2 {
  return new SenderBufferV2(new SenderOptions('http::addr=127.0.0.1:9000;protocol_version=2'));
}

/** What the buffer holds, copied. */
export function referenceBytes(buffer: SenderBufferV2): Buffer {
  return Buffer.from(buffer.toBufferView(buffer.currentPosition()) ?? Buffer.alloc(0));
}

export function referenceReading(buffer: SenderBufferV2, table: string, row: CanonicalRow, partition: number, offset: number): void {
  buffer
    .table(table)
    .symbol(c.device, row.device)
    .symbol(c.site, row.site)
    .symbol(c.model, row.model)
    .symbol(c.metric, row.metric)
    .symbol(c.unit, row.unit)
    .symbol(c.tsSource, row.tsSource)
    .floatColumn(c.value, row.value)
    .intColumn(c.seq, row.seq)
    .timestampColumn(c.receivedAt, Math.trunc(row.receivedAtMs), 'ms')
    .intColumn(c.kafkaPartition, partition)
    .intColumn(c.kafkaOffset, offset)
    .at(Math.round(row.ts * 1000), 'us');
}

export function referenceCompleteness(buffer: SenderBufferV2, table: string, device: DeviceCompleteness, atMs: number): void {
  buffer
    .table(table)
    .symbol(k.device, device.deviceId)
    .intColumn(k.received, device.received)
    .intColumn(k.duplicates, device.duplicates)
    .intColumn(k.gaps, device.gaps)
    .intColumn(k.resets, device.resets)
    .at(Math.trunc(atMs), 'ms');
}
