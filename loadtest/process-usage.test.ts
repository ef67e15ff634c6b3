import { describe, expect, it } from 'vitest';
import { parseProcStat, parseProcStatus, readProcessUsage, waitUntilQuiet } from './process-usage.ts';

describe('/proc parsers', () => {
  it('reads pid, command, process group and CPU seconds from stat', () => {
    const text = '4242 (node bin/x) S 1 4240 4240 0 -1 4194560 1234 0 0 0 250 75 0 0 20 0 11 0 999 1000000 5000 18446744073709551615';
    expect(parseProcStat(text)).toEqual({ pid: 4242, command: 'node bin/x', processGroup: 4240, cpuSeconds: 3.25 });
  });

  it('copes with ")" inside the command name', () => {
    const stat = parseProcStat('7 (a) b) R 1 7 7 0 -1 0 0 0 0 0 10 10 0 0');
    expect(stat).toMatchObject({ pid: 7, command: 'a) b', processGroup: 7, cpuSeconds: 0.2 });
  });

  it('refuses text that is not a stat line', () => {
    expect(parseProcStat('garbage')).toBeNull();
  });

  it('reads RSS and peak RSS from status', () => {
    const text = 'Name:\tjava\nVmHWM:\t  204800 kB\nVmRSS:\t  102400 kB\nThreads:\t40\n';
    expect(parseProcStatus(text)).toEqual({ rssBytes: 100 * 1024 * 1024, peakRssBytes: 200 * 1024 * 1024 });
    expect(parseProcStatus('Name:\tzombie\n')).toBeNull();
  });

  it('reads this very process', async () => {
    const usage = await readProcessUsage(process.pid);
    expect(usage?.pid).toBe(process.pid);
    expect(usage?.rssBytes).toBeGreaterThan(1024 * 1024);
    expect(usage?.cpuSeconds).toBeGreaterThan(0);
  });
});

describe('waitUntilQuiet', () => {
  it('stops at the first step under the threshold', async () => {
    const steps = [0.09, 0.04, 0.01, 0.0];
    const asked: number[] = [];
    await waitUntilQuiet(async (stepMs) => (asked.push(stepMs), steps.shift() ?? 0), { quietCores: 0.03, stepMs: 1000, maxMs: 10_000 });
    expect(asked).toEqual([1000, 1000, 1000]);
    expect(steps).toEqual([0.0]);
  });

  it('gives up after maxMs when the processes never go quiet', async () => {
    let calls = 0;
    const waited = await waitUntilQuiet(
      async (stepMs) => {
        calls += 1;
        await new Promise((resolve) => setTimeout(resolve, stepMs));
        return 0.5;
      },
      { quietCores: 0.03, stepMs: 10, maxMs: 50 },
    );
    expect(waited).toBeGreaterThanOrEqual(50);
    // each step lasts at least its 10 ms, so no more than six fit in the 50 ms
    expect(calls).toBeLessThanOrEqual(6);
  });
});
