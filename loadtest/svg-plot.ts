/**
 * A small line chart rendered to SVG text: axes with rounded ticks, one polyline with point markers
 * per series, and a legend. Pure; enough for the benchmark's throughput, latency and memory plots.
 */

export interface PlotSeries {
  name: string;
  points: ReadonlyArray<readonly [number, number]>;
  /** Draw as a dashed reference line (e.g. "offered = achieved"). */
  dashed?: boolean;
}

export interface LineChart {
  title: string;
  xLabel: string;
  yLabel: string;
  series: readonly PlotSeries[];
  width?: number;
  height?: number;
}

const palette = ['#1f77b4', '#d62728', '#2ca02c', '#9467bd', '#ff7f0e', '#8c564b'];

/** Escapes text for SVG content and attribute values. */
export function escapeXml(text: string): string {
  return text.replaceAll('&', '&amp;').replaceAll('<', '&lt;').replaceAll('>', '&gt;').replaceAll('"', '&quot;');
}

/** Tick values from 0 to at least `max`: 1, 2 or 5 × 10^n steps, about `count` of them. */
export function niceTicks(max: number, count = 5): number[] {
  if (!(max > 0)) return [0, 1];
  const raw = max / count;
  const magnitude = 10 ** Math.floor(Math.log10(raw));
  const step = [1, 2, 5, 10].map((m) => m * magnitude).find((candidate) => candidate >= raw) ?? raw;
  const ticks: number[] = [];
  for (let value = 0; value < max + step * 0.999; value += step) ticks.push(Math.round(value * 1e9) / 1e9);
  return ticks;
}

function formatTick(value: number): string {
  if (value >= 1_000_000) return `${value / 1_000_000}M`;
  if (value >= 1000) return `${value / 1000}k`;
  return String(value);
}

/** Renders the chart; points outside the finite numbers are skipped. */
export function renderLineChart(chart: LineChart): string {
  const width = chart.width ?? 720;
  const height = chart.height ?? 420;
  const margin = { left: 70, right: 180, top: 40, bottom: 55 };
  const plotWidth = width - margin.left - margin.right;
  const plotHeight = height - margin.top - margin.bottom;
  const finite = chart.series.flatMap((series) => series.points.filter(([x, y]) => Number.isFinite(x) && Number.isFinite(y)));
  const xTicks = niceTicks(Math.max(0, ...finite.map(([x]) => x)));
  const yTicks = niceTicks(Math.max(0, ...finite.map(([, y]) => y)));
  const xMax = xTicks.at(-1)!;
  const yMax = yTicks.at(-1)!;
  const sx = (x: number): number => Math.round((margin.left + (x / xMax) * plotWidth) * 10) / 10;
  const sy = (y: number): number => Math.round((margin.top + plotHeight - (y / yMax) * plotHeight) * 10) / 10;

  const parts: string[] = [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" viewBox="0 0 ${width} ${height}" font-family="sans-serif" font-size="12">`,
    `<rect width="${width}" height="${height}" fill="white"/>`,
    `<text x="${width / 2}" y="22" text-anchor="middle" font-size="15" font-weight="bold">${escapeXml(chart.title)}</text>`,
  ];
  for (const tick of yTicks) {
    parts.push(`<line x1="${margin.left}" x2="${margin.left + plotWidth}" y1="${sy(tick)}" y2="${sy(tick)}" stroke="#e5e5e5"/>`);
    parts.push(`<text x="${margin.left - 8}" y="${sy(tick) + 4}" text-anchor="end">${formatTick(tick)}</text>`);
  }
  for (const tick of xTicks) {
    parts.push(`<line x1="${sx(tick)}" x2="${sx(tick)}" y1="${margin.top + plotHeight}" y2="${margin.top + plotHeight + 5}" stroke="#333"/>`);
    parts.push(`<text x="${sx(tick)}" y="${margin.top + plotHeight + 19}" text-anchor="middle">${formatTick(tick)}</text>`);
  }
  parts.push(
    `<line x1="${margin.left}" x2="${margin.left + plotWidth}" y1="${margin.top + plotHeight}" y2="${margin.top + plotHeight}" stroke="#333"/>`,
    `<line x1="${margin.left}" x2="${margin.left}" y1="${margin.top}" y2="${margin.top + plotHeight}" stroke="#333"/>`,
    `<text x="${margin.left + plotWidth / 2}" y="${height - 12}" text-anchor="middle">${escapeXml(chart.xLabel)}</text>`,
    `<text transform="translate(18 ${margin.top + plotHeight / 2}) rotate(-90)" text-anchor="middle">${escapeXml(chart.yLabel)}</text>`,
  );
  chart.series.forEach((series, index) => {
    const color = palette[index % palette.length]!;
    const points = series.points.filter(([x, y]) => Number.isFinite(x) && Number.isFinite(y)).map(([x, y]) => `${sx(x)},${sy(y)}`);
    if (points.length > 0) {
      parts.push(`<polyline fill="none" stroke="${color}" stroke-width="2"${series.dashed ? ' stroke-dasharray="6 4"' : ''} points="${points.join(' ')}"/>`);
      if (!series.dashed) for (const point of points) parts.push(`<circle cx="${point.split(',')[0]}" cy="${point.split(',')[1]}" r="3.5" fill="${color}"/>`);
    }
    const legendY = margin.top + 10 + index * 20;
    const legendX = margin.left + plotWidth + 15;
    parts.push(`<line x1="${legendX}" x2="${legendX + 22}" y1="${legendY}" y2="${legendY}" stroke="${color}" stroke-width="2"${series.dashed ? ' stroke-dasharray="6 4"' : ''}/>`);
    parts.push(`<text x="${legendX + 28}" y="${legendY + 4}">${escapeXml(series.name)}</text>`);
  });
  parts.push('</svg>');
  return parts.join('\n') + '\n';
}
