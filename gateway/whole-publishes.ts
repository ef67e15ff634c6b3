/**
 * Reads a chunk of a device's byte stream that holds only whole MQTT 3.1/3.1.1 PUBLISH packets of
 * QoS 0 or 1, the shape nearly every telemetry read has, so the gateway can take them without Aedes
 * (ADR 0025). Anything else (another packet type, QoS 2, a packet cut by the chunk's end, a length
 * that does not add up, packet id 0, an empty topic) gives null, and the chunk goes to Aedes whole,
 * which parses it, answers it or refuses it as before. Pure; payloads are views into the chunk.
 */

export interface WholePublish {
  topic: string;
  qos: 0 | 1;
  /** The packet id of a QoS 1 publish; 0 for QoS 0, which has none. */
  messageId: number;
  payload: Buffer;
  retain: boolean;
}

const publishType = 3;

export function readWholePublishes(chunk: Buffer): WholePublish[] | null {
  const publishes: WholePublish[] = [];
  let index = 0;
  while (index < chunk.length) {
    const first = chunk[index]!;
    const qosBits = (first >> 1) & 0x03;
    // Type 3, QoS 0 or 1; DUP and RETAIN may be anything.
    if (first >> 4 !== publishType || qosBits > 1) return null;
    const qos = qosBits === 1 ? 1 : 0;
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
    const idBytes = qos === 1 ? 2 : 0;
    // Topic length, at least one topic byte, the packet id of QoS 1.
    if (end > chunk.length || length < 3 + idBytes) return null;
    const topicLength = chunk.readUInt16BE(cursor);
    const topicEnd = cursor + 2 + topicLength;
    if (topicLength === 0 || topicEnd + idBytes > end) return null;
    const messageId = qos === 1 ? chunk.readUInt16BE(topicEnd) : 0;
    if (qos === 1 && messageId === 0) return null;
    publishes.push({ topic: chunk.toString('utf8', cursor + 2, topicEnd), qos, messageId, payload: chunk.subarray(topicEnd + idBytes, end), retain: (first & 0x01) === 1 });
    index = end;
  }
  return publishes.length > 0 ? publishes : null;
}

/** The 4 bytes of a PUBACK for `messageId`. */
export function pubackBytes(messageId: number): Buffer {
  return Buffer.from([0x40, 0x02, messageId >> 8, messageId & 0xff]);
}
