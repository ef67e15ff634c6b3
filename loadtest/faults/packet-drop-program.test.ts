import { describe, expect, it } from 'vitest';
import { packetDropBytecode } from './packet-drop-program.ts';

/** Runs the few classic BPF instructions the program uses over a frame, with `random` as `ld rand`. */
function runProgram(bytecode: string, frame: Buffer, random: number): number {
  const [count, ...lines] = bytecode.split(',');
  const program = lines.map((line) => line.split(' ').map(Number) as [number, number, number, number]);
  expect(program).toHaveLength(Number(count));
  let a = 0;
  let x = 0;
  for (let pc = 0; pc < program.length; pc++) {
    const [code, jt, jf, k] = program[pc]!;
    switch (code) {
      case 0x28: a = frame.readUInt16BE(k); break;
      case 0x30: a = frame.readUInt8(k); break;
      case 0x20: expect(k).toBe(0xfffff038); a = random; break;
      case 0x48: a = frame.readUInt16BE(x + k); break;
      case 0xb1: x = 4 * (frame.readUInt8(k) & 0xf); break;
      case 0x15: pc += a === k ? jt : jf; break;
      case 0x35: pc += a >= k ? jt : jf; break;
      case 0x06: return k;
      default: throw new Error(`unexpected opcode ${code}`);
    }
  }
  throw new Error('the program fell off its end');
}

/** An Ethernet frame with an IPv4 header of `ihl` words and a TCP header's ports. */
function frame(options: { etherType?: number; protocol?: number; ihl?: number; sourcePort: number; destinationPort: number }): Buffer {
  const ihl = options.ihl ?? 5;
  const bytes = Buffer.alloc(14 + ihl * 4 + 20);
  bytes.writeUInt16BE(options.etherType ?? 0x0800, 12);
  bytes.writeUInt8(0x40 | ihl, 14);
  bytes.writeUInt8(options.protocol ?? 6, 23);
  bytes.writeUInt16BE(options.sourcePort, 14 + ihl * 4);
  bytes.writeUInt16BE(options.destinationPort, 14 + ihl * 4 + 2);
  return bytes;
}

const selected = 0xffffffff;

describe('packetDropBytecode', () => {
  const partition = packetDropBytecode({ port: 9092, percent: 100 });

  it('selects every TCP segment from or to the port for a partition, whatever the random number', () => {
    expect(runProgram(partition, frame({ sourcePort: 9092, destinationPort: 40000 }), 0xffffffff)).toBe(selected);
    expect(runProgram(partition, frame({ sourcePort: 40000, destinationPort: 9092 }), 0)).toBe(selected);
    expect(runProgram(partition, frame({ sourcePort: 40000, destinationPort: 9092, ihl: 8 }), 0)).toBe(selected);
  });

  it('passes other ports, other protocols and other EtherTypes', () => {
    expect(runProgram(partition, frame({ sourcePort: 1883, destinationPort: 40000 }), 0)).toBe(0);
    expect(runProgram(partition, frame({ sourcePort: 9092, destinationPort: 9092, protocol: 17 }), 0)).toBe(0);
    expect(runProgram(partition, frame({ sourcePort: 9092, destinationPort: 9092, etherType: 0x86dd }), 0)).toBe(0);
  });

  it('selects a share of the segments by the random number for loss', () => {
    const loss = packetDropBytecode({ port: 9000, percent: 25 });
    const segment = frame({ sourcePort: 50000, destinationPort: 9000 });
    expect(runProgram(loss, segment, 0)).toBe(selected);
    expect(runProgram(loss, segment, 0x3fffffff)).toBe(selected);
    expect(runProgram(loss, segment, 0x40000000)).toBe(0);
    expect(runProgram(loss, frame({ sourcePort: 50000, destinationPort: 9001 }), 0)).toBe(0);
  });

  it('refuses a port or a share out of range', () => {
    expect(() => packetDropBytecode({ port: 0, percent: 10 })).toThrow(/port/);
    expect(() => packetDropBytecode({ port: 9092, percent: 0 })).toThrow(/percent/);
    expect(() => packetDropBytecode({ port: 9092, percent: 101 })).toThrow(/percent/);
  });
});
