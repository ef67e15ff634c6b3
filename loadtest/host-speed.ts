/**
 * How fast the machine runs right now, for comparing benchmark runs. On this shared virtual machine
 * the same code measured 15–25 % less CPU per message for minutes at a time, in every process at
 * once (BENCHMARKS.md, "Host speed"): a per-message CPU figure means little without the speed of
 * the host it was taken on.
 *  - `probeHostSpeed`: CPU milliseconds a fixed piece of single-threaded work takes, the fastest of
 *    a few tries (the fastest is the one least disturbed); lower is a faster host. At rest it came
 *    out the same (22.5–23 ms) in slow and fast spells: what varies is how fast work runs beside
 *    the load, so
 *  - `sampleHostSpeed` runs the same work once every few seconds during the load, in a worker
 *    thread (timed by that thread's CPU clock), without holding up the devices' event loop.
 *  - `readCpuTimes` / `stealShare`: the share of the machine's CPU time the hypervisor gave to
 *    others (steal, /proc/stat) over a window.
 */
import { readFile } from 'node:fs/promises';
import { Worker } from 'node:worker_threads';
import { median } from './median.ts';

export interface CpuTimes {
  /** All CPUs together, clock ticks since boot. */
  totalTicks: number;
  stealTicks: number;
}

/** The aggregate `cpu` line of /proc/stat; null if absent or malformed. */
export function parseCpuTimes(procStat: string): CpuTimes | null {
  const line = procStat.split('\n').find((row) => row.startsWith('cpu '));
  if (line === undefined) return null;
  // user nice system idle iowait irq softirq steal guest guest_nice; guest time is already inside user and nice.
  const ticks = line.trim().split(/\s+/).slice(1, 9).map(Number);
  if (ticks.length < 8 || ticks.some((value) => !Number.isFinite(value))) return null;
  return { totalTicks: ticks.reduce((sum, value) => sum + value, 0), stealTicks: ticks[7]! };
}

export async function readCpuTimes(): Promise<CpuTimes | null> {
  return parseCpuTimes(await readFile('/proc/stat', 'utf8').catch(() => ''));
}

/** Stolen share of all CPU time between two readings, in percent (1 decimal); null without both. */
export function stealShare(before: CpuTimes | null, after: CpuTimes | null): number | null {
  if (before === null || after === null || after.totalTicks <= before.totalTicks) return null;
  return Math.round(((after.stealTicks - before.stealTicks) / (after.totalTicks - before.totalTicks)) * 1000) / 10;
}

/** The fixed work: integer hashing over a small table, ~20–40 ms of one core on the 2-core benchmark machine. */
function fixedWork(): number {
  const table = new Uint32Array(4096);
  let hash = 2166136261;
  for (let round = 0; round < 5000; round += 1) {
    for (let index = 0; index < table.length; index += 1) {
      hash = Math.imul(hash ^ (table[index]! + round), 16777619) >>> 0;
      table[index] = hash;
    }
  }
  return hash;
}

// Keeps the work from being optimised away.
let sink = 0;

/** CPU ms (1 decimal) the fixed work takes on the calling thread, by that thread's own clock. */
export function timeFixedWorkMs(): number {
  const started = process.threadCpuUsage();
  sink ^= fixedWork();
  const used = process.threadCpuUsage(started);
  return Math.round((used.user + used.system + (sink === 0.5 ? 1 : 0)) / 100) / 10;
}

/** CPU ms of the fixed work, fastest of `tries`; lower is a faster host. */
export function probeHostSpeed(tries = 5): number {
  let fastest = Infinity;
  for (let attempt = 0; attempt < tries; attempt += 1) fastest = Math.min(fastest, timeFixedWorkMs());
  return fastest;
}

export interface HostSpeedSampler {
  /** Ends the sampling; the CPU ms of each probe taken, in order. */
  stop(): Promise<number[]>;
}

/** Times the fixed work every `intervalMs` in a worker thread until stopped (each probe ~20–40 ms of CPU). */
export function sampleHostSpeed(intervalMs: number): HostSpeedSampler {
  const worker = new Worker(new URL('./host-speed-worker.ts', import.meta.url));
  const probes: number[] = [];
  worker.on('message', (ms: number) => probes.push(ms));
  // A failing probe costs the figure, not the run.
  worker.on('error', () => undefined);
  const timer = setInterval(() => worker.postMessage('probe'), intervalMs);
  return {
    async stop() {
      clearInterval(timer);
      await worker.terminate();
      return probes;
    },
  };
}

/** The median probe, 1 decimal like the probes; null for none. */
export function medianProbeMs(probes: readonly number[]): number | null {
  const middle = median(probes);
  return middle === null ? null : Math.round(middle * 10) / 10;
}
