import { describe, expect, it } from 'vitest';
import { createPacketSizeGuard } from './packet-size-guard.ts';

function publishPacket(bodyBytes: number): Buffer {
  const header = [0x30];
  let length = bodyBytes;
  do {
    let byte = length % 128;
    length = Math.floor(length / 128);
    if (length > 0) byte |= 0x80;
    header.push(byte);
  } while (length > 0);
  return Buffer.concat([Buffer.from(header), Buffer.alloc(bodyBytes, 0x61)]);
}

describe('createPacketSizeGuard', () => {
  it('accepts a stream of packets within the limit, however it is chunked', () => {
    const stream = Buffer.concat([publishPacket(10), publishPacket(200), publishPacket(1000), Buffer.from([0xc0, 0x00])]);
    for (const chunkSize of [1, 3, 7, 64, stream.length]) {
      const guard = createPacketSizeGuard(1100);
      for (let offset = 0; offset < stream.length; offset += chunkSize) {
        expect(guard.scan(stream.subarray(offset, offset + chunkSize))).toEqual({ ok: true });
      }
    }
  });

  it('refuses an oversized packet from its header alone, before the body arrives', () => {
    const guard = createPacketSizeGuard(1024);
    expect(guard.scan(publishPacket(100))).toEqual({ ok: true });
    const big = publishPacket(5000);
    expect(guard.scan(big.subarray(0, 3))).toEqual({ ok: false, reason: 'oversized', packetBytes: 5003 });
  });

  it('refuses a Remaining Length longer than four bytes', () => {
    const guard = createPacketSizeGuard(1 << 30);
    expect(guard.scan(Buffer.from([0x30, 0xff, 0xff, 0xff, 0xff, 0x01]))).toEqual({ ok: false, reason: 'malformed_length' });
  });
});
