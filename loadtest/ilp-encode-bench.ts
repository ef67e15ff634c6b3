/**
 * CPU per readings row: enrich/ilp-encoder.ts against @questdb/nodejs-client's own buffer, the same
 * rows (the enricher's shape: six symbols, a double, three ints, two timestamps), no network.
 * Alternates the two for a few rounds after a warm-up round and prints µs per row for each.
 *
 *   node loadtest/ilp-encode-bench.ts [rows per round, default 300000] [rounds, default 5]
 */
import type { CanonicalRow } from '../enrich/enrichment.ts';
import { createReferenceBuffer, referenceReading } from '../enrich/ilp-client-reference.ts';
import { createIlpEncoder } from '../enrich/ilp-encoder.ts';

const rowsPerRound = Number(process.argv[2] ?? 300_000);
const rounds = Number(process.argv[3] ?? 5);
const tables = { readings: 'readings', completeness: 'device_completeness' };
const metrics = ['temperature', 'humidity', 'pressure'];

// 1,000 devices × 3 metrics, as the benchmark's fleet sends them; batches of 1,200 rows, as the enricher writes at 10,000 msg/s.
const batch: CanonicalRow[] = Array.from({ length: 1_200 }, (_, i) => ({
  ts: 1_764_000_000_000 + i * 1.5,
  tsSource: 'device',
  receivedAtMs: 1_764_000_000_000 + i,
  device: `device-${String(i % 1_000).padStart(5, '0')}`,
  site: `site-${i % 20}`,
  model: 'th-200',
  metric: metrics[i % 3]!,
  value: 20 + (i % 100) / 7,
  unit: i % 3 === 1 ? '%' : '°C',
  seq: 100_000 + i,
}));

function ours(): number {
  const encoder = createIlpEncoder(tables);
  let bytes = 0;
  for (let done = 0; done < rowsPerRound; done += batch.length) {
    encoder.clear();
    for (let i = 0; i < batch.length; i += 1) encoder.reading(batch[i]!, i % 12, done + i);
    bytes += encoder.take().length;
  }
  return bytes;
}

function client(): number {
  const buffer = createReferenceBuffer();
  let bytes = 0;
  for (let done = 0; done < rowsPerRound; done += batch.length) {
    buffer.reset();
    for (let i = 0; i < batch.length; i += 1) referenceReading(buffer, tables.readings, batch[i]!, i % 12, done + i);
    bytes += buffer.toBufferNew()?.length ?? 0;
  }
  return bytes;
}

const timed = (run: () => number): { usPerRow: number; bytes: number } => {
  const started = process.cpuUsage();
  const bytes = run();
  const used = process.cpuUsage(started);
  return { usPerRow: (used.user + used.system) / rowsPerRound, bytes };
};

ours();
client();
const results: Record<'ours' | 'client', number[]> = { ours: [], client: [] };
for (let round = 0; round < rounds; round += 1) {
  for (const [name, run] of round % 2 === 0 ? ([['ours', ours], ['client', client]] as const) : ([['client', client], ['ours', ours]] as const)) {
    const { usPerRow, bytes } = timed(run);
    results[name].push(usPerRow);
    if (round === 0) console.log(`${name}: ${bytes} bytes per round`);
  }
}
const describe = (values: number[]): string => {
  const sorted = [...values].sort((a, b) => a - b);
  return `median ${sorted[Math.floor(sorted.length / 2)]!.toFixed(2)} µs/row (${sorted[0]!.toFixed(2)}–${sorted.at(-1)!.toFixed(2)})`;
};
console.log(`${rowsPerRound} rows × ${rounds} rounds, CPU time (user + system) per row, Node ${process.version}`);
console.log(`  enrich/ilp-encoder.ts:        ${describe(results.ours)}`);
console.log(`  @questdb/nodejs-client buffer: ${describe(results.client)}`);
