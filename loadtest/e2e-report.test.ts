import { describe, expect, it } from 'vitest';
import { formatLatency, formatSweepReport } from './e2e-report.ts';
import { createLatencyHistogram } from './latency-histogram.ts';

describe('reports', () => {
  it('formats a latency summary, and says when there is none', () => {
    const histogram = createLatencyHistogram();
    expect(formatLatency(histogram.summary())).toBe('no samples');
    for (let ms = 1; ms <= 100; ms += 1) histogram.recordMs(ms);
    // bucket upper bounds: within 0.8 % above the recorded value
    expect(formatLatency(histogram.summary())).toBe('p50 50.2  p95 95.2  p99 99.3  max 100 ms  (100 samples)');
  });

  it('lists sweep points by offered rate with the knee', () => {
    const text = formatSweepReport(
      [
        { offeredPerSec: 5000, achievedPerSec: 3000, ackedPerSec: 3100, lost: 0, p99PubackMs: 250, p99QueryableMs: null },
        { offeredPerSec: 2000, achievedPerSec: 2000, ackedPerSec: 2000, lost: 0, p99PubackMs: 12.345, p99QueryableMs: 180 },
      ],
      { sustainedPerSec: 2000, firstSaturatedPerSec: 5000, reason: 'at 5000 msg/s offered: achieved 3000 msg/s < 95 % of offered' },
    );
    const lines = text.split('\n');
    expect(lines[1]).toContain('2,000');
    expect(lines[1]).toContain('12.3');
    expect(lines[2]).toContain('n/a');
    expect(lines.at(-1)).toBe('knee: sustained 2,000 msg/s; at 5000 msg/s offered: achieved 3000 msg/s < 95 % of offered');
  });
});
