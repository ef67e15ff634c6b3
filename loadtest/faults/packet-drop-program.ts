/**
 * The classic BPF program of a packet-drop fault, in `tc filter ... bpf bytecode` form: it selects
 * IPv4 TCP segments from or to one port (an Ethernet frame, as tc's egress sees it) with a given
 * probability (the kernel's `ld rand`), so a tc class that drops everything drops just those. Pure.
 */

interface Instruction {
  code: number;
  k: number;
  /** Jump targets by label; fall through when absent. */
  ifTrue?: string;
  ifFalse?: string;
  label?: string;
}

// Opcodes (linux/filter.h): class | size | mode.
const ldhAbs = 0x28;
const ldbAbs = 0x30;
const ldwAbs = 0x20;
const ldhInd = 0x48;
const ldxbMsh = 0xb1;
const jeq = 0x15;
const jge = 0x35;
const ret = 0x06;
/** SKF_AD_OFF + SKF_AD_RANDOM: loads a random 32-bit number. */
const randomWord = 0x100000000 - 0x1000 + 56;
/** What a cls_bpf program returns to select the filter's class, and to pass a packet by. */
const selected = 0xffffffff;
const passed = 0;

/** `count,code jt jf k,...` for `tc filter add ... bpf bytecode`, selecting `percent` % of the port's segments. */
export function packetDropBytecode(options: { port: number; percent: number }): string {
  const { port, percent } = options;
  if (!Number.isInteger(port) || port < 1 || port > 65_535) throw new Error(`port must be 1..65535, got ${port}`);
  if (!(percent > 0 && percent <= 100)) throw new Error(`percent must be in (0, 100], got ${percent}`);
  const program: Instruction[] = [
    { code: ldhAbs, k: 12 }, // EtherType
    { code: jeq, k: 0x0800, ifFalse: 'pass' },
    { code: ldbAbs, k: 23 }, // IPv4 protocol
    { code: jeq, k: 6, ifFalse: 'pass' },
    { code: ldxbMsh, k: 14 }, // X = IPv4 header length
    { code: ldhInd, k: 14 }, // TCP source port
    { code: jeq, k: port, ifTrue: 'chance' },
    { code: ldhInd, k: 16 }, // TCP destination port
    { code: jeq, k: port, ifFalse: 'pass' },
    ...(percent < 100
      ? [
          { code: ldwAbs, k: randomWord, label: 'chance' },
          { code: jge, k: Math.floor((percent / 100) * 0x100000000), ifTrue: 'pass' },
          { code: ret, k: selected },
        ]
      : [{ code: ret, k: selected, label: 'chance' }]),
    { code: ret, k: passed, label: 'pass' },
  ];
  const at = (label: string | undefined, from: number): number => {
    if (label === undefined) return 0;
    const target = program.findIndex((instruction) => instruction.label === label);
    return target - from - 1;
  };
  const lines = program.map((instruction, index) => `${instruction.code} ${at(instruction.ifTrue, index)} ${at(instruction.ifFalse, index)} ${instruction.k}`);
  return `${program.length},${lines.join(',')}`;
}
