/** The API benchmark's report as text (bench api). Pure. */
import type { ApiBenchResult } from './api-bench.ts';
import { dashboardRoutes } from './dashboard-clients.ts';

const ms = (value: number): string => value.toFixed(value < 10 ? 2 : 1);

export function formatApiReport(result: ApiBenchResult): string {
  const { options, reads, pipeline, replay } = result;
  const lines = [
    `API benchmark ${result.runId} (commit ${result.commit ?? 'unknown'}; load average ${result.loadAverage.before.join(' ')} → ${result.loadAverage.after.join(' ')})`,
    `pipeline: ${options.devices} devices, offered ${pipeline.offeredPerSec} msg/s for ${options.durationMs / 1000} s; delivered ${pipeline.deliveredPerSec} msg/s (steady ${pipeline.steadyDeliveredPerSec}); ` +
      `PUBACK p50 ${ms(pipeline.pubackMs.p50Ms)} p99 ${ms(pipeline.pubackMs.p99Ms)} max ${ms(pipeline.pubackMs.maxMs)} ms; counts agree: ${pipeline.countsAgree}`,
  ];
  if (reads === null) lines.push('reads: none (--clients 0)');
  else {
    lines.push(`reads: ${options.clients} dashboard clients for ${(reads.durationMs / 1000).toFixed(1)} s (clients' event loop ${Math.round(reads.eventLoopUtilization * 100)} % busy)`);
    lines.push('  route    requests  req/s    ok        p50 ms  p90 ms  p99 ms  max ms');
    for (const route of dashboardRoutes) {
      const r = reads.routes[route];
      lines.push(`  ${route.padEnd(8)} ${String(r.requests).padStart(8)}  ${String(r.requestsPerSec).padStart(6)}  ${String(r.ok).padStart(8)}  ${ms(r.latencyMs.p50Ms).padStart(6)}  ${ms(r.latencyMs.p90Ms).padStart(6)}  ${ms(r.latencyMs.p99Ms).padStart(6)}  ${ms(r.latencyMs.maxMs).padStart(6)}`);
    }
    const errors = Object.entries(reads.errors);
    lines.push(`  errors: ${errors.length === 0 ? 'none' : errors.map(([key, count]) => `${key}: ${count}`).join(', ')}`);
    lines.push(`  CPU over the clients' window: ${reads.processes.map((p) => `${p.name} ${p.cpuCores} cores (${p.cpuMicrosPerRequest ?? '-'} µs/request)`).join(', ')}`);
  }
  if (replay === null) lines.push('replay: not run');
  else {
    lines.push(`replay of all partitions (${replay.topicRecords} records), idle pipeline, no rate cap:`);
    for (const run of replay.runs) lines.push(`  ${run.via.padEnd(4)} ${run.records} records in ${(run.wallMs / 1000).toFixed(2)} s: ${run.wallRecordsPerSec} records/s wall, ${run.reportedRecordsPerSec} records/s its own`);
    lines.push(`  median records/s (wall): CLI ${replay.medianRecordsPerSec.cli ?? '-'}, job ${replay.medianRecordsPerSec.job ?? '-'}`);
  }
  for (const problem of result.problems) lines.push(`problem: ${problem}`);
  return lines.join('\n');
}
