/**
 * CPU time and memory of a process, from Linux /proc/<pid>/stat and /proc/<pid>/status. The parsers
 * are pure; `createProcessSampler` reads them once a second to find each process's peak RSS and
 * the CPU it used over a window.
 */
import { readFile, readdir } from 'node:fs/promises';

/** USER_HZ: the unit of utime/stime in /proc/<pid>/stat; 100 on every mainstream Linux architecture. */
export const clockTicksPerSecond = 100;

export interface ProcStat {
  pid: number;
  command: string;
  processGroup: number;
  /** utime + stime of the process itself, in seconds. */
  cpuSeconds: number;
}

/** Parses /proc/<pid>/stat; null when the text is not one. The command is in parentheses and may contain spaces or ')'. */
export function parseProcStat(text: string): ProcStat | null {
  const open = text.indexOf('(');
  const close = text.lastIndexOf(')');
  if (open < 0 || close < open) return null;
  const pid = Number(text.slice(0, open).trim());
  // After ")": state(3) ppid(4) pgrp(5) session(6) tty(7) tpgid(8) flags(9) minflt(10) cminflt(11) majflt(12) cmajflt(13) utime(14) stime(15)
  const fields = text.slice(close + 2).trim().split(/\s+/);
  const processGroup = Number(fields[2]);
  const utime = Number(fields[11]);
  const stime = Number(fields[12]);
  if (!Number.isInteger(pid) || !Number.isInteger(processGroup) || !Number.isFinite(utime) || !Number.isFinite(stime)) return null;
  return { pid, command: text.slice(open + 1, close), processGroup, cpuSeconds: (utime + stime) / clockTicksPerSecond };
}

export interface ProcMemory {
  /** Resident set size now, bytes. */
  rssBytes: number;
  /** Peak resident set size over the process's life (VmHWM), bytes. */
  peakRssBytes: number;
}

/** Parses VmRSS and VmHWM from /proc/<pid>/status; null when absent (e.g. a zombie). */
export function parseProcStatus(text: string): ProcMemory | null {
  const kib = (name: string): number | null => {
    const match = new RegExp(`^${name}:\\s+(\\d+) kB`, 'm').exec(text);
    return match ? Number(match[1]) * 1024 : null;
  };
  const rss = kib('VmRSS');
  const peak = kib('VmHWM');
  return rss === null || peak === null ? null : { rssBytes: rss, peakRssBytes: peak };
}

export async function readProcessUsage(pid: number): Promise<(ProcStat & ProcMemory) | null> {
  try {
    const [stat, status] = await Promise.all([readFile(`/proc/${pid}/stat`, 'utf8'), readFile(`/proc/${pid}/status`, 'utf8')]);
    const parsedStat = parseProcStat(stat);
    const memory = parseProcStatus(status);
    return parsedStat && memory ? { ...parsedStat, ...memory } : null;
  } catch {
    return null;
  }
}

/** The pids of a process group whose command is `command` (e.g. the JVM under a stack's watchdog shell). */
export async function findGroupMembers(processGroup: number, command: string): Promise<number[]> {
  return findProcesses((stat) => stat.processGroup === processGroup && stat.command === command);
}

/** The pids of every readable process for which `match` holds. */
export async function findProcesses(match: (stat: ProcStat) => boolean): Promise<number[]> {
  const pids: number[] = [];
  for (const entry of await readdir('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const stat = parseProcStat(await readFile(`/proc/${entry}/stat`, 'utf8'));
      if (stat && match(stat)) pids.push(stat.pid);
    } catch {
      // the process ended while we looked
    }
  }
  return pids;
}

/**
 * CPU each process used over `windowMs`, in cores (1.0 = one core busy), read from /proc at both
 * ends; a process that could not be read at either end is left out.
 */
export async function measureCores(pids: Readonly<Record<string, number>>, windowMs: number, during?: () => Promise<void>): Promise<Record<string, number>> {
  const read = (): Promise<Array<number | null>> => Promise.all(Object.values(pids).map(async (pid) => (await readProcessUsage(pid))?.cpuSeconds ?? null));
  const before = await read();
  const started = performance.now();
  await Promise.all([new Promise((resolve) => setTimeout(resolve, windowMs)), during?.()]);
  const after = await read();
  const seconds = (performance.now() - started) / 1000;
  const cores: Record<string, number> = {};
  Object.keys(pids).forEach((name, index) => {
    const [start, end] = [before[index], after[index]];
    if (start !== null && start !== undefined && end !== null && end !== undefined) cores[name] = Math.round(((end - start) / seconds) * 1000) / 1000;
  });
  return cores;
}

/**
 * Waits until one `stepMs` step of `measure` (cores used over that step) comes in under
 * `quietCores`, for at most `maxMs`; returns how long it waited, in ms. A thousand devices
 * connecting leave work behind them in the gateway for a second or two after the last CONNACK
 * (docs/benchmarks/idle.md), which is not the pipeline at rest.
 */
export async function waitUntilQuiet(measure: (stepMs: number) => Promise<number>, options: { quietCores: number; stepMs: number; maxMs: number }): Promise<number> {
  const started = performance.now();
  while (performance.now() - started < options.maxMs) {
    if ((await measure(options.stepMs)) < options.quietCores) break;
  }
  return Math.round(performance.now() - started);
}

export interface ProcessUsageReport {
  name: string;
  pid: number;
  /** Length of the measuring window, seconds. */
  windowSeconds: number;
  /** CPU seconds used between `markStart` and `markEnd`. */
  cpuSeconds: number;
  /** cpuSeconds / window: 1.0 is one core busy all the time. */
  cpuCores: number;
  /** Highest RSS sampled during the window, MiB. */
  peakRssMiB: number;
  /** RSS at the end of the window, MiB (0 for a process that ended inside it). */
  endRssMiB: number;
}

export interface ProcessSampler {
  /**
   * Starts following `pid` under `name` (one name per process). With `sinceStart`, a process started
   * inside the window: all of its CPU time counts.
   */
  watch(name: string, pid: number, options?: { sinceStart: boolean }): void;
  /** Begins the measuring window: CPU from here, RSS peaks from here. */
  markStart(): Promise<void>;
  /** Ends the window and reports every watched process (one that ended: as last sampled). */
  markEnd(): Promise<ProcessUsageReport[]>;
  /** Per process as last read: CPU seconds since it started (null: not read yet) and RSS (MiB); for the progress line and the timeline. */
  latest(): Record<string, { cpuSeconds: number | null; rssMiB: number }>;
  stop(): void;
}

const mib = (bytes: number): number => Math.round((bytes / 1024 / 1024) * 10) / 10;

/** Creates a sampler that reads the watched processes every `intervalMs` (no I/O until `markStart`). */
export function createProcessSampler(intervalMs = 1000): ProcessSampler {
  // lastCpu: the latest reading, which stands in for a process that ended inside the window.
  const watched = new Map<string, { pid: number; startCpu: number | null; lastCpu: number | null; peakRss: number; lastRss: number }>();
  let timer: NodeJS.Timeout | null = null;
  let startedAtMs = 0;

  const sampleAll = async (): Promise<void> => {
    await Promise.all(
      [...watched.values()].map(async (entry) => {
        const usage = await readProcessUsage(entry.pid);
        if (!usage) return;
        entry.lastCpu = usage.cpuSeconds;
        entry.lastRss = usage.rssBytes;
        if (usage.rssBytes > entry.peakRss) entry.peakRss = usage.rssBytes;
      }),
    );
  };

  return {
    watch(name, pid, options) {
      watched.set(name, { pid, startCpu: options?.sinceStart === true ? 0 : null, lastCpu: null, peakRss: 0, lastRss: 0 });
    },
    async markStart() {
      startedAtMs = performance.now();
      await Promise.all(
        [...watched.values()].map(async (entry) => {
          const usage = await readProcessUsage(entry.pid);
          if (entry.startCpu === 0) return;
          entry.startCpu = usage?.cpuSeconds ?? null;
          entry.peakRss = usage?.rssBytes ?? 0;
          entry.lastRss = entry.peakRss;
        }),
      );
      timer ??= setInterval(() => void sampleAll(), intervalMs);
      timer.unref();
    },
    async markEnd() {
      await sampleAll();
      const windowSeconds = Math.max(1e-3, (performance.now() - startedAtMs) / 1000);
      const reports: ProcessUsageReport[] = [];
      for (const [name, entry] of watched) {
        const usage = await readProcessUsage(entry.pid);
        const cpuNow = usage?.cpuSeconds ?? entry.lastCpu;
        if (cpuNow === null || entry.startCpu === null) continue;
        const cpuSeconds = Math.round((cpuNow - entry.startCpu) * 100) / 100;
        reports.push({
          name,
          pid: entry.pid,
          windowSeconds: Math.round(windowSeconds * 100) / 100,
          cpuSeconds,
          cpuCores: Math.round((cpuSeconds / windowSeconds) * 100) / 100,
          peakRssMiB: mib(Math.max(entry.peakRss, usage?.rssBytes ?? 0)),
          endRssMiB: mib(usage?.rssBytes ?? 0),
        });
      }
      return reports;
    },
    // Before the first timed read, the reading at markStart (a process watched sinceStart has none).
    latest: () => Object.fromEntries([...watched].map(([name, entry]) => [name, { cpuSeconds: entry.lastCpu ?? (entry.startCpu === 0 ? null : entry.startCpu), rssMiB: mib(entry.lastRss) }])),
    stop() {
      if (timer) clearInterval(timer);
      timer = null;
    },
  };
}
