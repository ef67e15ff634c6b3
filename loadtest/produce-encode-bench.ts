/**
 * CPU per record of a Produce request: kafka/produce-request.ts against @platformatic/kafka's own
 * encoder, the same records (the gateway's shape: a device key, a ~200-byte JSON payload, seven
 * headers), each request also framed as the client's connection frames it (request header, length,
 * one contiguous buffer for the socket). No network. Alternates the two for a few rounds after a
 * warm-up round and prints µs per record for each, at two request sizes the gateway sees at
 * 10,000 msg/s (ADR 0020).
 *
 *   node loadtest/produce-encode-bench.ts [records per round, default 200000] [rounds, default 5]
 */
import { NumericMap, Writer, produceV11 } from '@platformatic/kafka';
import { recordHeaders } from '../core/envelope.ts';
import { encodeProduceRequestV11, type ProduceMessage } from '../kafka/produce-request.ts';

const recordsPerRound = Number(process.argv[2] ?? 200_000);
const rounds = Number(process.argv[3] ?? 5);
const partitions = 12;

const text = (value: string): Buffer => Buffer.from(value, 'utf8');
// Reused Buffers, as kafka/encoded-strings.ts hands them to the client; the receive time is new per record.
const names = Object.values(recordHeaders).slice(0, 7).map(text);
const devices = Array.from({ length: 1_000 }, (_, i) => `bench-${String(i).padStart(6, '0')}`);
const topics = devices.map((device) => text(`devices/${device}/telemetry`));

function requestOf(size: number, first: number): ProduceMessage[] {
  return Array.from({ length: size }, (_, j) => {
    const i = first + j;
    const device = i % devices.length;
    const value = text(JSON.stringify({ v: 1, seq: i, ts: new Date(1_764_000_000_000 + i).toISOString(), readings: [{ m: 'temperature', v: 21.5 + (i % 10) }, { m: 'humidity', v: 40 + (i % 7) }, { m: 'pressure', v: 1_013 }] }));
    const values = [topics[device]!, text('1'), text('false'), text('gw-1'), text(String(1_764_000_000_000 + i)), text('application/json'), text('1')];
    return { topic: 'iot.telemetry', partition: device % partitions, key: text(devices[device]!), value, headers: new Map(names.map((name, k) => [name, values[k]!])) };
  });
}

const options = (): { producerId: bigint; producerEpoch: number; sequences: NumericMap } => {
  const sequences = new NumericMap();
  for (let p = 0; p < partitions; p += 1) sequences.set(`iot.telemetry:${p}`, 1_000 * p);
  return { producerId: 42n, producerEpoch: 0, sequences };
};

/** What the connection does with a request's payload before the socket write. */
const framed = (payload: Writer): Buffer => Writer.create().appendInt16(0).appendInt16(11).appendInt32(1).appendString('gateway', false).appendTaggedFields().appendFrom(payload).prependLength().buffer;

const encoders = {
  ours: (messages: ProduceMessage[]) => framed(Writer.create().append(encodeProduceRequestV11(-1, 10_000, messages, options()))),
  library: (messages: ProduceMessage[]) => framed(produceV11.createRequest(-1, 10_000, messages.map((message) => ({ ...message })) as never, options())),
};

for (const size of [40, 650]) {
  const requests = Array.from({ length: Math.ceil(recordsPerRound / size) }, (_, r) => requestOf(size, r * size)).slice(0, 50);
  const run = (encode: (messages: ProduceMessage[]) => Buffer): { usPerRecord: number; bytes: number } => {
    const started = process.cpuUsage();
    let bytes = 0;
    let records = 0;
    for (let r = 0; records < recordsPerRound; r += 1) {
      const messages = requests[r % requests.length]!;
      bytes += encode(messages).length;
      records += messages.length;
    }
    const used = process.cpuUsage(started);
    return { usPerRecord: (used.user + used.system) / records, bytes };
  };
  run(encoders.ours);
  run(encoders.library);
  const results: Record<keyof typeof encoders, number[]> = { ours: [], library: [] };
  for (let round = 0; round < rounds; round += 1) {
    const order = round % 2 === 0 ? (['ours', 'library'] as const) : (['library', 'ours'] as const);
    for (const name of order) results[name].push(run(encoders[name]).usPerRecord);
  }
  const describe = (values: number[]): string => {
    const sorted = [...values].sort((a, b) => a - b);
    return `median ${sorted[Math.floor(sorted.length / 2)]!.toFixed(2)} µs/record (${sorted[0]!.toFixed(2)}–${sorted.at(-1)!.toFixed(2)})`;
  };
  console.log(`${size} records per request, ${recordsPerRound} records × ${rounds} rounds, CPU time (user + system), Node ${process.version}`);
  console.log(`  kafka/produce-request.ts:  ${describe(results.ours)}`);
  console.log(`  @platformatic/kafka:       ${describe(results.library)}`);
}
