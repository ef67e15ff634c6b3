/**
 * Telemetry payloads written straight into a packet buffer from pre-encoded pieces: the bytes are
 * exactly those of buildTelemetryPayload (telemetry-generator.ts), but only the changing parts
 * (send time and seq, as ASCII digits) are written per message; the readings come from one of
 * `valuePeriod` pre-encoded tails, since the simulated values repeat every `valuePeriod` seqs.
 * The load generator's hot path: no string building, no UTF-8 encoding, no allocation.
 */
import { buildTelemetryPayload, valuePeriod, type SchemaVersion } from './telemetry-generator.ts';

export interface TelemetryEncoder {
  /** Most bytes one payload can take (send time and seq of up to 16 digits each). */
  readonly maxBytes: number;
  /** Writes the payload for (seq, sentAtMs) at `offset`; returns the offset after it. The caller makes room for `maxBytes`. */
  write(target: Buffer, offset: number, seq: number, sentAtMs: number): number;
}

const maxDigits = 16;
const isoLength = 24;

/** Writes a non-negative safe integer as ASCII digits; returns the offset after it. */
function writeDecimal(target: Buffer, offset: number, value: number): number {
  let digits = 1;
  for (let power = 10; power <= value; power *= 10) digits += 1;
  let rest = value;
  for (let at = offset + digits - 1; at >= offset; at -= 1) {
    target[at] = 48 + (rest % 10);
    rest = Math.floor(rest / 10);
  }
  return offset + digits;
}

/** Creates the encoder for one schema version and readings count (clamped as buildTelemetryPayload clamps it). */
export function createTelemetryEncoder(version: SchemaVersion, readings: number): TelemetryEncoder {
  // Everything after the seq digits, per seq modulo the value period, cut from the reference builder.
  const tails = Array.from({ length: valuePeriod }, (_, seq) => {
    const payload = buildTelemetryPayload(version, seq, 0, readings);
    return Buffer.from(payload.slice(payload.indexOf(`"seq":${seq}`) + `"seq":${seq}`.length), 'utf8');
  });
  const head = Buffer.from(version === 1 ? '{"v":1,"ts":' : '{"v":2,"time":"', 'latin1');
  const middle = Buffer.from(version === 1 ? ',"seq":' : '","seq":', 'latin1');
  const maxBytes = head.length + (version === 1 ? maxDigits : isoLength) + middle.length + maxDigits + Math.max(...tails.map((tail) => tail.length));
  // v2's ISO time changes once per millisecond, and a tick sends many messages within one.
  const iso = Buffer.alloc(isoLength);
  let isoMs = Number.NaN;

  return {
    maxBytes,
    // TypedArray set, not Buffer copy: a few bytes each, where copy's argument handling costs more than the bytes.
    write(target, offset, seq, sentAtMs) {
      target.set(head, offset);
      let at = offset + head.length;
      if (version === 1) at = writeDecimal(target, at, sentAtMs);
      else {
        if (sentAtMs !== isoMs) {
          iso.write(new Date(sentAtMs).toISOString(), 0, 'latin1');
          isoMs = sentAtMs;
        }
        target.set(iso, at);
        at += isoLength;
      }
      target.set(middle, at);
      at = writeDecimal(target, at + middle.length, seq);
      const tail = tails[seq % valuePeriod]!;
      target.set(tail, at);
      return at + tail.length;
    },
  };
}
