/**
 * Tracks MQTT packet boundaries in a byte stream by reading each fixed header's Remaining Length,
 * so an oversized packet is refused before its body is buffered. Aedes 1.x has no packet size
 * limit of its own: without this, one PUBLISH could make the gateway buffer up to 256 MB.
 * It also keeps the pre-CONNECT byte budget: until `accept()` (the CONNECT was accepted) at most
 * `preConnectMaxBytes` may arrive, so an unauthenticated socket costs the gateway a bounded amount.
 * Pure state machine over chunks; no I/O.
 */

export type GuardVerdict = { ok: true } | { ok: false; reason: 'oversized' | 'malformed_length' | 'pre_connect_budget'; packetBytes?: number };

export interface PacketSizeGuard {
  /** Feeds the next chunk of the client's byte stream. */
  scan(chunk: Buffer): GuardVerdict;
  /** The CONNECT was accepted: the pre-CONNECT budget no longer applies. */
  accept(): void;
  /** True once the first packet (the CONNECT) arrived whole and it is not yet accepted: read no further until it is. */
  awaitingAcceptance(): boolean;
  /** True once `accept()` was called. */
  isAccepted(): boolean;
  /** True when every byte scanned so far belongs to a whole packet: the next chunk starts a packet. */
  atPacketBoundary(): boolean;
}

export function createPacketSizeGuard(limits: { maxPacketBytes: number; preConnectMaxBytes: number }): PacketSizeGuard {
  const { maxPacketBytes, preConnectMaxBytes } = limits;
  // Bytes of the current packet's body still to skip.
  let bodyRemaining = 0;
  // Fixed-header parsing state: 0 = expect type byte, 1 = reading Remaining Length varint.
  let phase: 0 | 1 = 0;
  let length = 0;
  let multiplier = 1;
  let headerBytes = 0;
  let accepted = false;
  let preConnectBytes = 0;
  let firstPacketComplete = false;

  return {
    scan(chunk) {
      if (!accepted) {
        preConnectBytes += chunk.length;
        if (preConnectBytes > preConnectMaxBytes) return { ok: false, reason: 'pre_connect_budget' };
      }
      let index = 0;
      while (index < chunk.length) {
        if (bodyRemaining > 0) {
          const skip = Math.min(bodyRemaining, chunk.length - index);
          bodyRemaining -= skip;
          index += skip;
          if (bodyRemaining === 0) firstPacketComplete = true;
          continue;
        }
        const byte = chunk[index]!;
        index += 1;
        if (phase === 0) {
          phase = 1;
          length = 0;
          multiplier = 1;
          headerBytes = 0;
          continue;
        }
        headerBytes += 1;
        length += (byte & 0x7f) * multiplier;
        multiplier *= 128;
        if ((byte & 0x80) !== 0) {
          // [MQTT-2.2.3] Remaining Length takes at most four bytes.
          if (headerBytes >= 4) return { ok: false, reason: 'malformed_length' };
          continue;
        }
        const packetBytes = 1 + headerBytes + length;
        if (packetBytes > maxPacketBytes) return { ok: false, reason: 'oversized', packetBytes };
        bodyRemaining = length;
        phase = 0;
        if (length === 0) firstPacketComplete = true;
      }
      return { ok: true };
    },
    accept() {
      accepted = true;
    },
    awaitingAcceptance: () => firstPacketComplete && !accepted,
    isAccepted: () => accepted,
    atPacketBoundary: () => bodyRemaining === 0 && phase === 0,
  };
}
