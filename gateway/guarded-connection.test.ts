import { Duplex } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { guardConnection } from './guarded-connection.ts';

/** A device socket stand-in that records what the gateway writes (corked writes as one, like a socket's writev) and can refuse more (backpressure). */
function recordingSocket(options: { highWaterMark?: number } = {}) {
  const writes: Buffer[] = [];
  let release: (() => void) | null = null;
  const socket = new Duplex({
    highWaterMark: options.highWaterMark ?? 16 * 1024,
    read() {},
    write(chunk: Buffer, _encoding, callback) {
      writes.push(chunk);
      // Holds the write until `drain()` when told to, like a socket whose kernel buffer is full.
      if (options.highWaterMark !== undefined) release = () => callback();
      else callback();
    },
    writev(chunks, callback) {
      writes.push(Buffer.concat(chunks.map(({ chunk }) => chunk as Buffer)));
      callback();
    },
  });
  return {
    socket,
    writes,
    drain: () => {
      const next = release;
      release = null;
      next?.();
    },
  };
}

const tick = (): Promise<void> => new Promise((resolve) => setImmediate(resolve));

/**
 * Reads the way Aedes 1.x does: on 'readable', read() whatever is there, handle it, read again once
 * handled (here at once), until a read finds nothing; then wait for the next 'readable'.
 */
function readLikeAedes(stream: { on(event: 'readable', listener: () => void): unknown; read(): Buffer | null }): Buffer[] {
  const received: Buffer[] = [];
  stream.on('readable', () => {
    for (let chunk = stream.read(); chunk !== null; chunk = stream.read()) received.push(chunk);
  });
  return received;
}

describe('guardConnection', () => {
  it('sends the packets written in one corked tick as one socket write, bytes in order', async () => {
    const { socket, writes } = recordingSocket();
    const { stream } = guardConnection(socket, { maxPacketBytes: 1024, preConnectMaxBytes: 4096, onRefused: () => undefined });
    stream.cork();
    for (const id of [1, 2, 3]) {
      stream.write(Buffer.from([0x40, 0x02]));
      stream.write(Buffer.from([0x00, id]));
    }
    process.nextTick(() => stream.uncork());
    await tick();
    expect(writes).toEqual([Buffer.from([0x40, 0x02, 0x00, 1, 0x40, 0x02, 0x00, 2, 0x40, 0x02, 0x00, 3])]);
  });

  it('writes uncorked packets as they come, without waiting for each to reach the socket', async () => {
    const { socket, writes } = recordingSocket();
    const { stream } = guardConnection(socket, { maxPacketBytes: 1024, preConnectMaxBytes: 4096, onRefused: () => undefined });
    stream.write(Buffer.from('a'));
    stream.write(Buffer.from('b'));
    await tick();
    expect(Buffer.concat(writes).toString()).toBe('ab');
  });

  it('tells the writer to wait while the socket is backed up, and passes its drain on', async () => {
    const { socket, writes, drain } = recordingSocket({ highWaterMark: 4 });
    const { stream } = guardConnection(socket, { maxPacketBytes: 1024, preConnectMaxBytes: 4096, onRefused: () => undefined });
    const done: string[] = [];
    stream.write(Buffer.from([0x20, 0x02, 0x00, 0x00]));
    expect(stream.write(Buffer.from('12345'), () => done.push('first'))).toBe(false);
    const drained = new Promise<void>((resolve) => stream.once('drain', resolve));
    drain();
    await tick();
    drain();
    await drained;
    expect(done).toEqual(['first']);
    expect(writes.map(String).slice(1).join('')).toBe('12345');
  });

  it('reports flushed only once corked packets reached the socket', async () => {
    const { socket, writes } = recordingSocket();
    const guarded = guardConnection(socket, { maxPacketBytes: 1024, preConnectMaxBytes: 4096, onRefused: () => undefined });
    guarded.stream.cork();
    guarded.stream.write(Buffer.from([0x40, 0x02, 0x00, 0x01]));
    process.nextTick(() => guarded.stream.uncork());
    let flushed = false;
    const done = guarded.flushed().then(() => (flushed = true));
    expect(flushed).toBe(false);
    await done;
    expect(Buffer.concat(writes)).toEqual(Buffer.from([0x40, 0x02, 0x00, 0x01]));
    socket.destroy();
    await tick();
    await guarded.flushed();
  });

  it('fails writes once the socket is gone', async () => {
    const { socket } = recordingSocket();
    const { stream } = guardConnection(socket, { maxPacketBytes: 1024, preConnectMaxBytes: 4096, onRefused: () => undefined });
    socket.destroy();
    await tick();
    const error = await new Promise<Error | null | undefined>((resolve) => stream.write(Buffer.from('x'), resolve));
    expect(error).toBeInstanceOf(Error);
  });

  it('reads nothing past the CONNECT until it is accepted, then passes the pipelined bytes on in order', async () => {
    const { socket } = recordingSocket();
    const guarded = guardConnection(socket, { maxPacketBytes: 1024, preConnectMaxBytes: 4096, onRefused: () => undefined });
    const received = readLikeAedes(guarded.stream);
    socket.push(Buffer.from([0x10, 0x01, 0xaa, 0xc0, 0x00]));
    await tick();
    socket.push(Buffer.from([0xc0, 0x00]));
    await tick();
    // The read that completed the CONNECT passes whole; the next bytes wait in the socket.
    expect(Buffer.concat(received)).toEqual(Buffer.from([0x10, 0x01, 0xaa, 0xc0, 0x00]));
    expect(socket.readableLength).toBe(2);
    guarded.connectAccepted();
    await tick();
    expect(Buffer.concat(received)).toEqual(Buffer.from([0x10, 0x01, 0xaa, 0xc0, 0x00, 0xc0, 0x00]));
  });

  it('holds bytes in the socket while throttled and hands them on when the last reason ends, none lost', async () => {
    const { socket } = recordingSocket();
    const guarded = guardConnection(socket, { maxPacketBytes: 1024, preConnectMaxBytes: 4096, onRefused: () => undefined });
    const received = readLikeAedes(guarded.stream);
    socket.push(Buffer.from([0x10, 0x00]));
    await tick();
    guarded.connectAccepted();
    expect(guarded.throttle('client', true)).toBe(true);
    expect(guarded.throttle('client', true)).toBe(false);
    expect(guarded.throttle('rate', true)).toBe(true);
    socket.push(Buffer.from([0xc0, 0x00]));
    socket.push(Buffer.from([0xe0, 0x00]));
    await tick();
    expect(Buffer.concat(received)).toEqual(Buffer.from([0x10, 0x00]));
    guarded.throttle('client', false);
    await tick();
    expect(socket.readableLength).toBe(4);
    // Nothing new arrives: ending the last reason alone must wake the reader.
    guarded.throttle('rate', false);
    await tick();
    expect(Buffer.concat(received)).toEqual(Buffer.from([0x10, 0x00, 0xc0, 0x00, 0xe0, 0x00]));
    // And reading goes on with the bytes that come next.
    socket.push(Buffer.from([0xc0, 0x00]));
    await tick();
    expect(Buffer.concat(received)).toHaveLength(8);
  });

  it('gives a reader busy with its last bytes the next ones when it reads again, without a readable event', async () => {
    const { socket } = recordingSocket();
    const guarded = guardConnection(socket, { maxPacketBytes: 1024, preConnectMaxBytes: 4096, onRefused: () => undefined });
    let readables = 0;
    guarded.stream.on('readable', () => (readables += 1));
    socket.push(Buffer.from([0x10, 0x00]));
    await tick();
    expect(readables).toBe(1);
    expect(guarded.stream.read()).toEqual(Buffer.from([0x10, 0x00]));
    guarded.connectAccepted();
    socket.push(Buffer.from([0xc0, 0x00]));
    socket.push(Buffer.from([0xe0, 0x00]));
    await tick();
    // Still handling the CONNECT (no read came back empty): no event, the bytes wait for its next read.
    expect(readables).toBe(1);
    expect(guarded.stream.read()).toEqual(Buffer.from([0xc0, 0x00, 0xe0, 0x00]));
    expect(guarded.stream.read()).toBeNull();
    socket.push(Buffer.from([0xc0, 0x00]));
    await tick();
    expect(readables).toBe(2);
  });

  it('stops reading the device while 64 KiB wait for the reader, and reads on once it took them', async () => {
    const { socket } = recordingSocket();
    const guarded = guardConnection(socket, { maxPacketBytes: 1 << 20, preConnectMaxBytes: 1 << 20, onRefused: () => undefined });
    socket.push(Buffer.from([0x10, 0x00]));
    await tick();
    guarded.stream.read();
    guarded.connectAccepted();
    // One PUBLISH of 100,000 bytes arriving in 10,000-byte chunks, nobody reading.
    socket.push(Buffer.from([0x30, 0x9d, 0x8d, 0x06]));
    for (let index = 0; index < 10; index += 1) socket.push(Buffer.alloc(10_000));
    await tick();
    expect(socket.isPaused()).toBe(true);
    expect(socket.readableLength).toBeGreaterThan(0);
    expect(guarded.stream.read()!.length).toBeGreaterThanOrEqual(64 * 1024);
    await tick();
    expect(guarded.stream.read()!.length).toBeGreaterThan(0);
    expect(socket.readableLength).toBe(0);
  });

  it('passes on the end of a device that closed its side only after the reader took its last bytes', async () => {
    const { socket } = recordingSocket();
    const guarded = guardConnection(socket, { maxPacketBytes: 1024, preConnectMaxBytes: 4096, onRefused: () => undefined });
    const events: string[] = [];
    guarded.stream.on('end', () => events.push('end'));
    socket.push(Buffer.from([0x10, 0x00]));
    await tick();
    guarded.stream.read();
    guarded.connectAccepted();
    // The reader is busy (its last read was not empty): the DISCONNECT and the FIN wait for it.
    socket.push(Buffer.from([0xe0, 0x00]));
    socket.push(null);
    await tick();
    expect(events).toEqual([]);
    events.push(`read ${guarded.stream.read()!.toString('hex')}`);
    await tick();
    expect(events).toEqual(['read e000', 'end']);
    expect(guarded.stream.read()).toBeNull();
  });

  it('passes on the end at once when nothing waits for the reader', async () => {
    const { socket } = recordingSocket();
    const guarded = guardConnection(socket, { maxPacketBytes: 1024, preConnectMaxBytes: 4096, onRefused: () => undefined });
    readLikeAedes(guarded.stream);
    let ended = false;
    guarded.stream.on('end', () => (ended = true));
    socket.push(Buffer.from([0x10, 0x00]));
    await tick();
    guarded.connectAccepted();
    socket.push(null);
    await tick();
    expect(ended).toBe(true);
  });

  it('refuses an oversized packet from its fixed header: the reader never sees it, the socket is closed', async () => {
    const { socket } = recordingSocket();
    const refusals: string[] = [];
    const guarded = guardConnection(socket, { maxPacketBytes: 1024, preConnectMaxBytes: 1 << 20, onRefused: ({ reason }) => refusals.push(reason) });
    const received = readLikeAedes(guarded.stream);
    const closed = new Promise<void>((resolve) => guarded.stream.once('close', resolve));
    socket.push(Buffer.from([0x30, 0x80, 0x10]));
    await closed;
    expect(refusals).toEqual(['oversized']);
    expect(received).toEqual([]);
    expect(guarded.stream.destroyed).toBe(true);
  });

  it('closes the socket and reports the refusal when the pre-CONNECT budget is exceeded', async () => {
    const { socket } = recordingSocket();
    const refusals: string[] = [];
    const guarded = guardConnection(socket, { maxPacketBytes: 1024, preConnectMaxBytes: 100, onRefused: ({ reason }) => refusals.push(reason) });
    readLikeAedes(guarded.stream);
    socket.push(Buffer.alloc(101, 0xc0));
    await tick();
    expect(refusals).toEqual(['pre_connect_budget']);
    expect(socket.destroyed).toBe(true);
  });

  it('sets the session-present flag of an accepting CONNACK when told the session was stored, and nothing else', async () => {
    const connack = (flags: number, returnCode: number): Buffer[] => [Buffer.from([0x20]), Buffer.from([0x02]), Buffer.from([flags]), Buffer.from([returnCode])];
    const written = async (returnCode: number, present: boolean): Promise<Buffer> => {
      const { socket, writes } = recordingSocket();
      const guarded = guardConnection(socket, { maxPacketBytes: 1024, preConnectMaxBytes: 4096, onRefused: () => undefined });
      if (present) guarded.sessionPresent();
      guarded.stream.cork();
      for (const chunk of connack(0, returnCode)) guarded.stream.write(chunk);
      process.nextTick(() => guarded.stream.uncork());
      guarded.stream.write(Buffer.from([0xd0, 0x00]));
      await tick();
      return Buffer.concat(writes);
    };
    expect([...(await written(0, true))]).toEqual([0x20, 0x02, 0x01, 0x00, 0xd0, 0x00]);
    expect([...(await written(0, false))]).toEqual([0x20, 0x02, 0x00, 0x00, 0xd0, 0x00]);
    expect([...(await written(5, true))]).toEqual([0x20, 0x02, 0x00, 0x05, 0xd0, 0x00]);
  });
});
