/**
 * Builds the Kafka record for an accepted MQTT publish: key = device id (one partition per device keeps its
 * order), value = the payload bytes untouched, headers from `recordHeaders`. Runs per message: no JSON.parse.
 */
import { recordHeaders } from '../core/envelope.ts';
import type { OutgoingRecord } from '../core/kafka-port.ts';

export interface PublishToRecord {
  deviceId: string;
  mqttTopic: string;
  qos: 0 | 1 | 2;
  retain: boolean;
  payload: Buffer;
  gatewayId: string;
  /** Epoch milliseconds. */
  receivedAtMs: number;
  kafkaTopic: string;
}

export type ContentType = 'application/json' | 'application/octet-stream';

export function buildRecord(input: PublishToRecord): OutgoingRecord {
  const headers: Record<string, string> = {
    [recordHeaders.mqttTopic]: input.mqttTopic,
    [recordHeaders.mqttQos]: String(input.qos),
    [recordHeaders.mqttRetain]: input.retain ? 'true' : 'false',
    [recordHeaders.gatewayId]: input.gatewayId,
    [recordHeaders.receivedAtMs]: String(input.receivedAtMs),
    [recordHeaders.contentType]: sniffContentType(input.payload),
  };
  const version = sniffSchemaVersion(input.payload);
  if (version !== null) headers[recordHeaders.schemaVersion] = String(version);
  return { topic: input.kafkaTopic, key: input.deviceId, value: input.payload, headers };
}

const space = 0x20;
const tab = 0x09;
const lineFeed = 0x0a;
const carriageReturn = 0x0d;
const quote = 0x22;
const backslash = 0x5c;
const colon = 0x3a;
const comma = 0x2c;
const openBrace = 0x7b;
const closeBrace = 0x7d;
const openBracket = 0x5b;
const closeBracket = 0x5d;
const letterV = 0x76;
const digitOne = 0x31;
const digitTwo = 0x32;

function isJsonWhitespace(byte: number | undefined): boolean {
  return byte === space || byte === tab || byte === lineFeed || byte === carriageReturn;
}

/** `application/json` when the first non-whitespace byte is `{`, else `application/octet-stream`. */
export function sniffContentType(payload: Buffer): ContentType {
  let i = 0;
  while (i < payload.length && isJsonWhitespace(payload[i])) i++;
  return payload[i] === openBrace ? 'application/json' : 'application/octet-stream';
}

/** How far into the payload the version is looked for; devices put `"v"` first or near it. */
export const schemaSniffWindowBytes = 64;

/**
 * The telemetry schema version from a top-level `"v": 1` or `"v": 2` member within the first
 * {@link schemaSniffWindowBytes} bytes, or null when it cannot be told that cheaply. A hint for routing and metrics:
 * consumers still validate the decoded payload. Skips strings and nested objects/arrays, so `{"meta":{"v":1}}` and
 * `{"note":"\"v\":1"}` give null; any other value (`12`, `1.0`, `"1"`) gives null too.
 */
export function sniffSchemaVersion(payload: Buffer): 1 | 2 | null {
  const end = Math.min(payload.length, schemaSniffWindowBytes);
  let i = skipWhitespace(payload, 0, end);
  if (i >= end || payload[i] !== openBrace) return null;
  i++;
  let depth = 1;
  while (i < end) {
    const byte = payload[i];
    if (byte === quote) {
      const start = i + 1;
      let close = start;
      while (close < end && payload[close] !== quote) close += payload[close] === backslash ? 2 : 1;
      if (close >= end) return null;
      i = close + 1;
      if (depth !== 1 || close !== start + 1 || payload[start] !== letterV) continue;
      i = skipWhitespace(payload, i, end);
      // a "v" string followed by ':' is a key; otherwise it was a value such as {"k":"v"}
      if (payload[i] !== colon) continue;
      return readVersion(payload, skipWhitespace(payload, i + 1, end), end);
    }
    if (byte === openBrace || byte === openBracket) depth++;
    else if (byte === closeBrace || byte === closeBracket) {
      depth--;
      if (depth === 0) return null;
    }
    i++;
  }
  return null;
}

function readVersion(payload: Buffer, i: number, end: number): 1 | 2 | null {
  if (i >= end) return null;
  const digit = payload[i];
  if (digit !== digitOne && digit !== digitTwo) return null;
  // the terminator may sit just past the window; only a byte that ends a JSON number counts
  const next = payload[i + 1];
  if (next !== comma && next !== closeBrace && !isJsonWhitespace(next)) return null;
  return digit === digitOne ? 1 : 2;
}

function skipWhitespace(payload: Buffer, from: number, end: number): number {
  let i = from;
  while (i < end && isJsonWhitespace(payload[i])) i++;
  return i;
}
