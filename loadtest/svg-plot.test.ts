import { describe, expect, it } from 'vitest';
import { escapeXml, niceTicks, renderLineChart } from './svg-plot.ts';

describe('SVG line chart', () => {
  it('picks round ticks covering the maximum', () => {
    expect(niceTicks(20_000)).toEqual([0, 5000, 10_000, 15_000, 20_000]);
    expect(niceTicks(23)).toEqual([0, 5, 10, 15, 20, 25]);
    expect(niceTicks(0)).toEqual([0, 1]);
  });

  it('escapes text', () => {
    expect(escapeXml('p99 < 20 ms & "fast"')).toBe('p99 &lt; 20 ms &amp; &quot;fast&quot;');
  });

  it('draws each series as a polyline in plot coordinates, with a legend', () => {
    const svg = renderLineChart({
      title: 'Throughput <e2e>',
      xLabel: 'offered msg/s',
      yLabel: 'achieved msg/s',
      width: 400,
      height: 300,
      series: [
        { name: 'QuestDB', points: [[0, 0], [10, 10]] },
        { name: 'ideal', points: [[0, 0], [10, 10]], dashed: true },
      ],
    });
    expect(svg.startsWith('<svg xmlns="http://www.w3.org/2000/svg" width="400" height="300"')).toBe(true);
    expect(svg).toContain('Throughput &lt;e2e&gt;');
    // x: 70 + (10/10) * (400-70-180) = 220; y: 40 + 205 - 205 = 40
    expect(svg).toContain('points="70,245 220,40"');
    expect(svg.match(/<polyline/g)).toHaveLength(2);
    expect(svg).toContain('stroke-dasharray="6 4" points=');
    expect(svg).toContain('>QuestDB</text>');
    expect(svg.trimEnd().endsWith('</svg>')).toBe(true);
  });

  it('skips points that are not finite numbers', () => {
    const svg = renderLineChart({ title: 't', xLabel: 'x', yLabel: 'y', series: [{ name: 's', points: [[1, Number.NaN], [2, 4]] }] });
    expect(svg.match(/<circle/g)).toHaveLength(1);
  });
});
