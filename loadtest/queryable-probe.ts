/**
 * Publish→queryable latency, measured on a sample: every message of a few probe devices is tracked
 * from its send time until a QuestDB query returns its row.
 *
 * Method: every `pollIntervalMs` one query asks for the probe devices' rows of `probeMetric` with
 * `ts` (= the device's send time) at or after the oldest message still outstanding. A message's
 * latency is the moment that query's answer arrived minus its send time: an upper bound that
 * overstates the truth by at most one poll interval plus one query's duration. A message not seen
 * within `giveUpAfterMs` stops being tracked and is counted as not seen.
 */
import { falseOnTimeout, waitFor } from '../core/wait-for.ts';
import { createLatencyHistogram, type LatencyHistogram } from './latency-histogram.ts';
import { questdbExec } from './questdb-audit.ts';
import type { FleetObserver } from './device-fleet.ts';

export interface QueryableProbeStats {
  probeDevices: number;
  tracked: number;
  seen: number;
  outstanding: number;
  notSeen: number;
  polls: number;
  pollErrors: number;
  pollIntervalMs: number;
}

export interface QueryableProbe {
  /** Hands this to the fleet: it reports the probe devices' sends and failures. */
  observer: FleetObserver;
  latency: LatencyHistogram;
  start(): void;
  /**
   * Sends the probe's query every poll interval for `durationMs` without tracking anything, so the
   * cost of the harness's own queries can be measured on an idle pipeline (attribution).
   */
  rehearse(durationMs: number): Promise<void>;
  /** Forgets everything tracked and measured so far (a warm-up's messages); polling goes on. */
  reset(): void;
  /** Polls until nothing is outstanding or `timeoutMs` passed. */
  settle(timeoutMs: number): Promise<void>;
  stop(): Promise<void>;
  stats(): QueryableProbeStats;
}

/** Creates the probe for the devices `probeIndexes` (ids from `deviceIdOf`); no I/O until `start`. */
export function createQueryableProbe(options: {
  httpUrl: string;
  table: string;
  probeMetric: string;
  probeIndexes: readonly number[];
  deviceIdOf: (index: number) => string;
  pollIntervalMs: number;
  giveUpAfterMs?: number;
}): QueryableProbe {
  const giveUpAfterMs = options.giveUpAfterMs ?? 120_000;
  const latency = createLatencyHistogram();
  // key `${deviceId}/${seq}` → send time (epoch ms)
  const outstanding = new Map<string, number>();
  const deviceIds = options.probeIndexes.map(options.deviceIdOf);
  const inList = deviceIds.map((id) => `'${id.replaceAll("'", "''")}'`).join(',');
  const zeroCounters = () => ({ tracked: 0, seen: 0, notSeen: 0, polls: 0, pollErrors: 0 });
  const counters = zeroCounters();
  let loop: Promise<void> | null = null;
  let stopped = false;
  let wake: (() => void) | null = null;

  // The bound is rounded down to a whole second so the text repeats: QuestDB reuses the compiled
  // query for the same text, which cut the probe's cost to QuestDB from ~11–18 to ~4 ms of CPU per
  // poll (20 polls/s were a fifth of a core; docs/benchmarks/attribution.md).
  const probeQuery = (oldestMs: number): string =>
    `SELECT device, seq FROM '${options.table}' WHERE ts >= '${new Date(Math.floor(oldestMs / 1000) * 1000).toISOString()}' AND metric = '${options.probeMetric}' AND device IN (${inList})`;

  const pollOnce = async (): Promise<void> => {
    if (outstanding.size === 0) return;
    let oldest = Number.POSITIVE_INFINITY;
    const now = Date.now();
    for (const [key, sentAtMs] of outstanding) {
      if (now - sentAtMs > giveUpAfterMs) {
        outstanding.delete(key);
        counters.notSeen += 1;
      } else if (sentAtMs < oldest) oldest = sentAtMs;
    }
    if (!Number.isFinite(oldest)) return;
    counters.polls += 1;
    try {
      const rows = await questdbExec(options.httpUrl, probeQuery(oldest), 10_000);
      const answeredAtMs = Date.now();
      for (const [device, seq] of rows) {
        const key = `${String(device)}/${String(seq)}`;
        const sentAtMs = outstanding.get(key);
        if (sentAtMs === undefined) continue;
        outstanding.delete(key);
        counters.seen += 1;
        latency.recordMs(answeredAtMs - sentAtMs);
      }
    } catch {
      // The table may not exist before the first write; a failed poll only delays the answer.
      counters.pollErrors += 1;
    }
  };

  const sleep = (ms: number): Promise<void> =>
    new Promise((resolve) => {
      const timer = setTimeout(resolve, ms);
      wake = () => {
        clearTimeout(timer);
        resolve();
      };
    });

  const run = async (): Promise<void> => {
    while (!stopped) {
      const started = performance.now();
      await pollOnce();
      await sleep(Math.max(0, options.pollIntervalMs - (performance.now() - started)));
    }
  };

  return {
    latency,
    observer: {
      devices: new Set(options.probeIndexes),
      onSent(deviceIndex, seq, sentAtMs) {
        counters.tracked += 1;
        outstanding.set(`${options.deviceIdOf(deviceIndex)}/${seq}`, sentAtMs);
      },
      onFailed(deviceIndex, seq) {
        // Never acknowledged: it may legitimately be absent, so it is not waited for.
        if (outstanding.delete(`${options.deviceIdOf(deviceIndex)}/${seq}`)) counters.tracked -= 1;
      },
    },
    start() {
      loop ??= run();
    },
    async rehearse(durationMs) {
      const until = performance.now() + durationMs;
      while (performance.now() < until && !stopped) {
        const started = performance.now();
        await questdbExec(options.httpUrl, probeQuery(Date.now() - options.pollIntervalMs), 10_000).catch(() => undefined);
        await sleep(Math.max(0, Math.min(options.pollIntervalMs - (performance.now() - started), until - performance.now())));
      }
    },
    reset() {
      latency.reset();
      outstanding.clear();
      Object.assign(counters, zeroCounters());
    },
    async settle(timeoutMs) {
      await waitFor(() => outstanding.size === 0 || stopped, { description: 'probe messages to be queryable', timeoutMs, intervalMs: options.pollIntervalMs }).catch(falseOnTimeout);
    },
    async stop() {
      stopped = true;
      wake?.();
      await loop;
      counters.notSeen += outstanding.size;
      outstanding.clear();
    },
    stats: () => ({ probeDevices: deviceIds.length, ...counters, outstanding: outstanding.size, pollIntervalMs: options.pollIntervalMs }),
  };
}
