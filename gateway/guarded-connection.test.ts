import { Duplex } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { guardConnection } from './guarded-connection.ts';

/** A device socket stand-in that records what the gateway writes and can refuse more (backpressure). */
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

/** A guarded connection whose fast lane records each chunk offered (hex) and takes it while `take()` says so. */
function withFastLane(take: () => boolean) {
  const { socket } = recordingSocket();
  const offered: string[] = [];
  const guarded = guardConnection(socket, {
    maxPacketBytes: 1024,
    preConnectMaxBytes: 4096,
    onRefused: () => undefined,
    takeChunk: (chunk) => {
      offered.push(chunk.toString('hex'));
      return take();
    },
  });
  return { socket, guarded, offered };
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

  it('stops taking bytes while the socket is backed up and resumes on drain, losing none', async () => {
    const { socket, writes, drain } = recordingSocket({ highWaterMark: 4 });
    const { stream } = guardConnection(socket, { maxPacketBytes: 1024, preConnectMaxBytes: 4096, onRefused: () => undefined });
    const done: string[] = [];
    stream.write(Buffer.from('12345'), () => done.push('first'));
    stream.write(Buffer.from('678'), () => done.push('second'));
    await tick();
    // The socket holds 5 bytes above its mark: the second packet waits in the guard.
    expect(done).toEqual([]);
    expect(writes.map(String)).toEqual(['12345']);
    drain();
    await tick();
    drain();
    await tick();
    expect(done).toEqual(['first', 'second']);
    expect(writes.map(String).join('')).toBe('12345678');
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
    const received: Buffer[] = [];
    guarded.stream.on('data', (chunk: Buffer) => received.push(chunk));
    socket.push(Buffer.from([0x10, 0x01, 0xaa, 0xc0, 0x00]));
    socket.push(Buffer.from([0xc0, 0x00]));
    await tick();
    // The chunk that completed the CONNECT passes whole; the next one waits in the socket.
    expect(Buffer.concat(received)).toEqual(Buffer.from([0x10, 0x01, 0xaa, 0xc0, 0x00]));
    guarded.connectAccepted();
    await tick();
    expect(Buffer.concat(received)).toEqual(Buffer.from([0x10, 0x01, 0xaa, 0xc0, 0x00, 0xc0, 0x00]));
  });

  it('closes the socket and reports the refusal when the pre-CONNECT budget is exceeded', async () => {
    const { socket } = recordingSocket();
    const refusals: string[] = [];
    guardConnection(socket, { maxPacketBytes: 1024, preConnectMaxBytes: 100, onRefused: ({ reason }) => refusals.push(reason) });
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

  it('offers takeChunk only chunks of whole packets after the CONNECT was accepted, with nothing waiting for Aedes', async () => {
    let take = true;
    const { socket, guarded, offered } = withFastLane(() => take);
    const toAedes: string[] = [];
    const read = (): void => {
      for (let chunk = guarded.stream.read() as Buffer | null; chunk !== null; chunk = guarded.stream.read() as Buffer | null) toAedes.push(chunk.toString('hex'));
    };
    guarded.stream.on('readable', read);
    socket.push(Buffer.from([0x10, 0x01, 0xaa]));
    await tick();
    guarded.connectAccepted();
    socket.push(Buffer.from([0xc0, 0x00])); // whole: taken
    await tick();
    socket.push(Buffer.from([0xc0, 0x00, 0x30])); // ends inside a packet: to Aedes
    await tick();
    socket.push(Buffer.from([0x00, 0xc0, 0x00])); // starts inside one: to Aedes
    await tick();
    take = false;
    socket.push(Buffer.from([0xc0, 0x00])); // declined: to Aedes
    await tick();
    expect(offered).toEqual(['c000', 'c000']);
    expect(toAedes).toEqual(['1001aa', 'c00030', '00c000', 'c000']);
  });

  it('offers nothing while Aedes has bytes still to read, so packets keep their order', async () => {
    const { socket, guarded, offered } = withFastLane(() => true);
    guarded.connectAccepted();
    socket.push(Buffer.from([0xc0, 0x00]));
    await tick();
    guarded.stream.push(Buffer.from([0xe0, 0x00])); // as if a chunk were still unread by Aedes
    socket.push(Buffer.from([0xc0, 0x00]));
    await tick();
    expect(offered).toEqual(['c000']);
    expect(guarded.stream.read()).toEqual(Buffer.from([0xe0, 0x00, 0xc0, 0x00]));
  });

  it('writes bytes after the corked ones before them, and stops reading the device while they wait', async () => {
    const { socket, writes, drain } = recordingSocket({ highWaterMark: 4 });
    const guarded = guardConnection(socket, { maxPacketBytes: 1024, preConnectMaxBytes: 4096, onRefused: () => undefined });
    guarded.connectAccepted();
    guarded.stream.cork();
    guarded.stream.write(Buffer.from([0x40, 0x02, 0x00, 0x01]));
    process.nextTick(() => guarded.stream.uncork());
    const over = guarded.stream.writableHighWaterMark; // with the corked 4 bytes, over the guard's own mark
    guarded.write(Buffer.alloc(over, 0x40));
    await tick();
    expect(socket.isPaused()).toBe(true);
    for (let i = 0; i < 8 && socket.isPaused(); i++) {
      drain();
      await tick();
    }
    expect(socket.isPaused()).toBe(false);
    expect(Buffer.concat(writes).subarray(0, 5)).toEqual(Buffer.from([0x40, 0x02, 0x00, 0x01, 0x40]));
    expect(Buffer.concat(writes)).toHaveLength(4 + over);
  });

  it('writes bytes straight to the socket once nothing of Aedes waits, and stops reading the device until the socket drains', async () => {
    const { socket, writes, drain } = recordingSocket({ highWaterMark: 4 });
    const guarded = guardConnection(socket, { maxPacketBytes: 1024, preConnectMaxBytes: 4096, onRefused: () => undefined });
    guarded.connectAccepted();
    guarded.stream.write(Buffer.from([0x20, 0x02, 0x00, 0x00])); // the CONNACK, through the guard
    drain();
    await tick();
    guarded.write(Buffer.from([0x40, 0x02, 0x00, 0x01]));
    guarded.write(Buffer.from([0x40, 0x02, 0x00, 0x02]));
    // the socket holds 4 bytes: the second PUBACK waits, and so does the device
    expect(guarded.stream.writableLength).toBe(0);
    expect(socket.isPaused()).toBe(true);
    drain();
    await tick();
    drain();
    await tick();
    expect(socket.isPaused()).toBe(false);
    expect(Buffer.concat(writes)).toEqual(Buffer.from([0x20, 0x02, 0x00, 0x00, 0x40, 0x02, 0x00, 0x01, 0x40, 0x02, 0x00, 0x02]));
  });
});
