/**
 * Reads a chunk of a device's byte stream that holds only whole MQTT 3.1/3.1.1 QoS 1 PUBLISH packets,
 * the shape nearly every telemetry read has, so the gateway can take them without Aedes (ADR 0025).
 * Anything else (another packet type, QoS 0 or 2, a packet cut by the chunk's end, a length that does
 * not add up, packet id 0, an empty topic) gives null, and the chunk goes to Aedes whole, which parses
 * it, answers it or refuses it as before. Pure; the payloads are views into the chunk, not copies.
 */

export interface Qos1Publish {
  topic: string;
  messageId: number;
  payload: Buffer;
  retain: boolean;
}

const publishType = 3;

export function readQos1Publishes(chunk: Buffer): Qos1Publish[] | null {
  const publishes: Qos1Publish[] = [];
  let index = 0;
  while (index < chunk.length) {
    const first = chunk[index]!;
    // Type 3, QoS bits 01; DUP and RETAIN may be anything.
    if (first >> 4 !== publishType || ((first >> 1) & 0x03) !== 1) return null;
    let length = 0;
    let multiplier = 1;
    let cursor = index + 1;
    for (let lengthBytes = 1; ; lengthBytes++) {
      if (cursor >= chunk.length || lengthBytes > 4) return null;
      const byte = chunk[cursor++]!;
      length += (byte & 0x7f) * multiplier;
      multiplier *= 128;
      if ((byte & 0x80) === 0) break;
    }
    const end = cursor + length;
    // Topic length, at least one topic byte, packet id.
    if (end > chunk.length || length < 5) return null;
    const topicLength = chunk.readUInt16BE(cursor);
    const topicEnd = cursor + 2 + topicLength;
    if (topicLength === 0 || topicEnd + 2 > end) return null;
    const messageId = chunk.readUInt16BE(topicEnd);
    if (messageId === 0) return null;
    publishes.push({ topic: chunk.toString('utf8', cursor + 2, topicEnd), messageId, payload: chunk.subarray(topicEnd + 2, end), retain: (first & 0x01) === 1 });
    index = end;
  }
  return publishes.length > 0 ? publishes : null;
}

/** The 4 bytes of a PUBACK for `messageId`. */
export function pubackBytes(messageId: number): Buffer {
  return Buffer.from([0x40, 0x02, messageId >> 8, messageId & 0xff]);
}
