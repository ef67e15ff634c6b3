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
      const guard = createPacketSizeGuard({ maxPacketBytes: 1100, preConnectMaxBytes: Infinity });
      for (let offset = 0; offset < stream.length; offset += chunkSize) {
        expect(guard.scan(stream.subarray(offset, offset + chunkSize))).toEqual({ ok: true });
      }
    }
  });

  it('refuses an oversized packet from its header alone, before the body arrives', () => {
    const guard = createPacketSizeGuard({ maxPacketBytes: 1024, preConnectMaxBytes: Infinity });
    expect(guard.scan(publishPacket(100))).toEqual({ ok: true });
    const big = publishPacket(5000);
    expect(guard.scan(big.subarray(0, 3))).toEqual({ ok: false, reason: 'oversized', packetBytes: 5003 });
  });

  it('refuses a Remaining Length longer than four bytes', () => {
    const guard = createPacketSizeGuard({ maxPacketBytes: 1 << 30, preConnectMaxBytes: Infinity });
    expect(guard.scan(Buffer.from([0x30, 0xff, 0xff, 0xff, 0xff, 0x01]))).toEqual({ ok: false, reason: 'malformed_length' });
  });

  it('closes a connection that sends more than its pre-CONNECT budget, counting every byte until accept()', () => {
    const guard = createPacketSizeGuard({ maxPacketBytes: 1024, preConnectMaxBytes: 1500 });
    expect(guard.scan(Buffer.from([0xc0, 0x00]))).toEqual({ ok: true });
    expect(guard.scan(publishPacket(900))).toEqual({ ok: true });
    expect(guard.scan(publishPacket(1000))).toEqual({ ok: false, reason: 'pre_connect_budget' });
  });

  it('lifts the budget once the CONNECT is accepted', () => {
    const guard = createPacketSizeGuard({ maxPacketBytes: 1024, preConnectMaxBytes: 1100 });
    expect(guard.scan(publishPacket(1000))).toEqual({ ok: true });
    guard.accept();
    for (let i = 0; i < 10; i++) expect(guard.scan(publishPacket(1000))).toEqual({ ok: true });
  });

  it('awaits acceptance from the moment the first packet is whole, not before', () => {
    const guard = createPacketSizeGuard({ maxPacketBytes: 1024, preConnectMaxBytes: 4096 });
    const connect = publishPacket(100);
    guard.scan(connect.subarray(0, 50));
    expect(guard.awaitingAcceptance()).toBe(false);
    guard.scan(connect.subarray(50));
    expect(guard.awaitingAcceptance()).toBe(true);
    guard.accept();
    expect(guard.awaitingAcceptance()).toBe(false);
    const empty = createPacketSizeGuard({ maxPacketBytes: 1024, preConnectMaxBytes: 4096 });
    empty.scan(Buffer.from([0xc0, 0x00]));
    expect(empty.awaitingAcceptance()).toBe(true);
  });
});
