import { describe, expect, it } from 'vitest';
import { escapeXml, niceTicks, renderLineChart, renderStackedBarChart } from './svg-plot.ts';

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

describe('SVG stacked bar chart', () => {
  const bars = (svg: string): string[] => [...svg.matchAll(/<g>([\s\S]*?)<\/g>/g)].map((match) => match[1]!);
  const chart = renderStackedBarChart({
    title: 'CPU <per> message',
    xLabel: 'offered',
    yLabel: 'µs/msg',
    width: 400,
    height: 300,
    categories: ['2,000', '5,000'],
    series: [
      { name: 'gateway', values: [10, 20] },
      { name: 'kafka <1> & co', values: [5, 0] },
      { name: 'harness', values: [5, 5], muted: true },
    ],
  });

  it('stacks one rect per series with a value, bottom up, in plot coordinates', () => {
    const [first, second] = bars(chart);
    expect(bars(chart)).toHaveLength(2);
    expect(first!.match(/<rect /g)).toHaveLength(3);
    // a zero draws nothing
    expect(second!.match(/<rect /g)).toHaveLength(2);
    // tallest bar 25 → ticks 0..25; plot 150 × 205 px; slot 75 px, bar 45 px wide, centred at 107.5
    expect(niceTicks(25).at(-1)).toBe(25);
    expect(first).toContain('<rect x="85" y="163" width="45" height="82" fill="#1f77b4"><title>gateway: 10</title>');
    expect(first).toContain('<rect x="85" y="122" width="45" height="41" fill="#d62728"><title>kafka &lt;1&gt; &amp; co: 5</title>');
    expect(first).toContain('<rect x="85" y="81" width="45" height="41" fill="#d9d9d9" stroke="#666" stroke-dasharray="4 3"><title>harness: 5</title>');
  });

  it('labels each bar with the total of its non-muted segments, above the whole stack', () => {
    const labels = bars(chart).map((bar) => /<text x="[\d.]+" y="([\d.]+)"[^>]*>([^<]*)<\/text>/.exec(bar)!.slice(1));
    expect(labels).toEqual([
      ['75', '15'],
      ['34', '20'],
    ]);
    expect(chart).toContain('>2,000</text>');
    expect(chart).toContain('>5,000</text>');
  });

  it('has a legend entry per series, top segment first, with escaped text', () => {
    const legend = [...chart.matchAll(/<rect x="235"[^>]*\/>\n<text [^>]*>([^<]*)<\/text>/g)].map((match) => match[1]);
    expect(legend).toEqual(['harness', 'kafka &lt;1&gt; &amp; co', 'gateway']);
    expect(chart).toContain('CPU &lt;per&gt; message');
    expect(chart).not.toContain('<1>');
  });

  it('draws an empty bar for a category without values', () => {
    const svg = renderStackedBarChart({ title: 't', xLabel: 'x', yLabel: 'y', categories: ['a', 'b'], series: [{ name: 's', values: [3, Number.NaN] }] });
    expect(bars(svg).map((bar) => bar.match(/<rect /g)?.length ?? 0)).toEqual([1, 0]);
    expect(svg.trimEnd().endsWith('</svg>')).toBe(true);
  });
});
