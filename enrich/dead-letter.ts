/**
 * The dead-letter record for a telemetry record the enricher refused: the original key, value and
 * headers untouched, plus the `dlq.*` headers from core/envelope.ts saying why, where from and when.
 * Pure; no I/O.
 */
import { deadLetterHeaders } from '../core/envelope.ts';
import type { ConsumedRecord, OutgoingRecord } from '../core/kafka-port.ts';

export interface DeadLetterInput {
  record: ConsumedRecord;
  /** The dead-letter topic. */
  topic: string;
  /** Stable machine-readable reason, e.g. `invalid_json`, `unknown_device`. */
  reason: string;
  /** Short human detail; the reason when absent. */
  detail?: string;
  consumerGroup: string;
  failedAtMs: number;
}

/** Reasons the worker adds to the decoder's and enrichment's own. */
export const recordRejections = {
  invalidDeviceId: 'invalid_device_id',
  missingValue: 'missing_value',
} as const;

export function buildDeadLetter(input: DeadLetterInput): OutgoingRecord {
  const { record } = input;
  return {
    topic: input.topic,
    key: record.key === null ? null : record.key.toString('utf8'),
    value: record.value,
    headers: {
      ...record.headers,
      [deadLetterHeaders.error]: input.detail ?? input.reason,
      [deadLetterHeaders.errorReason]: input.reason,
      [deadLetterHeaders.sourceTopic]: record.topic,
      [deadLetterHeaders.sourcePartition]: String(record.partition),
      [deadLetterHeaders.sourceOffset]: record.offset,
      [deadLetterHeaders.consumerGroup]: input.consumerGroup,
      [deadLetterHeaders.failedAtMs]: String(input.failedAtMs),
    },
  };
}
