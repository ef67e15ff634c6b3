/**
 * Small charts rendered to SVG text: axes with rounded ticks and a legend around either one polyline
 * per series or stacked bars. Pure; enough for the benchmark's throughput, latency, memory and CPU plots.
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

interface Frame {
  width: number;
  height: number;
  margin: { left: number; right: number; top: number; bottom: number };
  plotWidth: number;
  plotHeight: number;
}

function frameOf(width: number, height: number, right = 180): Frame {
  const margin = { left: 70, right, top: 40, bottom: 55 };
  return { width, height, margin, plotWidth: width - margin.left - margin.right, plotHeight: height - margin.top - margin.bottom };
}

/** The opening tag, background, title and horizontal grid lines with their y tick labels. */
function frameStart(frame: Frame, title: string, yTicks: readonly number[], sy: (y: number) => number): string[] {
  const { width, height, margin, plotWidth } = frame;
  const parts = [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" viewBox="0 0 ${width} ${height}" font-family="sans-serif" font-size="12">`,
    `<rect width="${width}" height="${height}" fill="white"/>`,
    `<text x="${width / 2}" y="22" text-anchor="middle" font-size="15" font-weight="bold">${escapeXml(title)}</text>`,
  ];
  for (const tick of yTicks) {
    parts.push(`<line x1="${margin.left}" x2="${margin.left + plotWidth}" y1="${sy(tick)}" y2="${sy(tick)}" stroke="#e5e5e5"/>`);
    parts.push(`<text x="${margin.left - 8}" y="${sy(tick) + 4}" text-anchor="end">${formatTick(tick)}</text>`);
  }
  return parts;
}

/** The two axis lines and the axis labels. */
function frameAxes(frame: Frame, xLabel: string, yLabel: string): string[] {
  const { height, margin, plotWidth, plotHeight } = frame;
  return [
    `<line x1="${margin.left}" x2="${margin.left + plotWidth}" y1="${margin.top + plotHeight}" y2="${margin.top + plotHeight}" stroke="#333"/>`,
    `<line x1="${margin.left}" x2="${margin.left}" y1="${margin.top}" y2="${margin.top + plotHeight}" stroke="#333"/>`,
    `<text x="${margin.left + plotWidth / 2}" y="${height - 12}" text-anchor="middle">${escapeXml(xLabel)}</text>`,
    `<text transform="translate(18 ${margin.top + plotHeight / 2}) rotate(-90)" text-anchor="middle">${escapeXml(yLabel)}</text>`,
  ];
}

const round1 = (value: number): number => Math.round(value * 10) / 10;

/** Renders the chart; points outside the finite numbers are skipped. */
export function renderLineChart(chart: LineChart): string {
  const frame = frameOf(chart.width ?? 720, chart.height ?? 420);
  const { margin, plotWidth, plotHeight } = frame;
  const finite = chart.series.flatMap((series) => series.points.filter(([x, y]) => Number.isFinite(x) && Number.isFinite(y)));
  const xTicks = niceTicks(Math.max(0, ...finite.map(([x]) => x)));
  const yTicks = niceTicks(Math.max(0, ...finite.map(([, y]) => y)));
  const xMax = xTicks.at(-1)!;
  const yMax = yTicks.at(-1)!;
  const sx = (x: number): number => round1(margin.left + (x / xMax) * plotWidth);
  const sy = (y: number): number => round1(margin.top + plotHeight - (y / yMax) * plotHeight);

  const parts = frameStart(frame, chart.title, yTicks, sy);
  for (const tick of xTicks) {
    parts.push(`<line x1="${sx(tick)}" x2="${sx(tick)}" y1="${margin.top + plotHeight}" y2="${margin.top + plotHeight + 5}" stroke="#333"/>`);
    parts.push(`<text x="${sx(tick)}" y="${margin.top + plotHeight + 19}" text-anchor="middle">${formatTick(tick)}</text>`);
  }
  parts.push(...frameAxes(frame, chart.xLabel, chart.yLabel));
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

export interface BarSeries {
  name: string;
  /** One value per category, in the chart's category order; values that are not finite and > 0 draw nothing. */
  values: readonly number[];
  /**
   * Drawn faded with a dashed outline and left out of the total above the bar: something measured beside
   * the subject, not part of it (e.g. the load generator beside the pipeline).
   */
  muted?: boolean;
}

export interface StackedBarChart {
  title: string;
  xLabel: string;
  yLabel: string;
  /** One bar per category, left to right. */
  categories: readonly string[];
  /** Stacked bottom to top in this order; the legend lists them as the bars read, top segment first. */
  series: readonly BarSeries[];
  width?: number;
  height?: number;
}

const mutedFill = '#d9d9d9';

const formatValue = (value: number): string => String(round1(value));

/**
 * Renders one bar per category as a `<g>` of stacked `<rect>`s (one per series with a value there, each
 * with a `<title>` naming it), the total of the bar's non-muted segments above it, and a legend.
 */
export function renderStackedBarChart(chart: StackedBarChart): string {
  // A legend wider than the usual margin widens the chart instead of running off its edge (~7 px a character).
  const right = Math.max(180, 15 + 28 + 7 * Math.max(0, ...chart.series.map((series) => series.name.length)) + 10);
  const frame = frameOf(chart.width ?? 540 + right, chart.height ?? 420, right);
  const { margin, plotWidth, plotHeight } = frame;
  const drawn = (value: number | undefined): value is number => value !== undefined && Number.isFinite(value) && value > 0;
  const heights = chart.categories.map((_, bar) => chart.series.reduce((sum, series) => sum + (drawn(series.values[bar]) ? series.values[bar] : 0), 0));
  const yTicks = niceTicks(Math.max(0, ...heights));
  const yMax = yTicks.at(-1)!;
  const sy = (y: number): number => round1(margin.top + plotHeight - (y / yMax) * plotHeight);
  const slot = plotWidth / Math.max(1, chart.categories.length);
  const barWidth = round1(slot * 0.6);
  // Muted series take the grey; the others take the palette in order, as in the line chart.
  let colorIndex = 0;
  const colors = chart.series.map((series) => (series.muted ? mutedFill : palette[colorIndex++ % palette.length]!));
  const segmentStyle = (index: number): string => (chart.series[index]!.muted ? `fill="${colors[index]}" stroke="#666" stroke-dasharray="4 3"` : `fill="${colors[index]}"`);

  const parts = frameStart(frame, chart.title, yTicks, sy);
  chart.categories.forEach((category, bar) => {
    const center = round1(margin.left + slot * (bar + 0.5));
    const x = round1(center - barWidth / 2);
    parts.push('<g>');
    let base = 0;
    let total = 0;
    chart.series.forEach((series, index) => {
      const value = series.values[bar];
      if (!drawn(value)) return;
      parts.push(`<rect x="${x}" y="${sy(base + value)}" width="${barWidth}" height="${round1(sy(base) - sy(base + value))}" ${segmentStyle(index)}><title>${escapeXml(`${series.name}: ${formatValue(value)}`)}</title></rect>`);
      base += value;
      if (!series.muted) total += value;
    });
    if (base > 0) parts.push(`<text x="${center}" y="${sy(base) - 6}" text-anchor="middle" font-weight="bold">${formatValue(total)}</text>`);
    parts.push('</g>');
    parts.push(`<text x="${center}" y="${margin.top + plotHeight + 19}" text-anchor="middle">${escapeXml(category)}</text>`);
  });
  parts.push(...frameAxes(frame, chart.xLabel, chart.yLabel));
  [...chart.series.keys()].reverse().forEach((index, row) => {
    const legendY = margin.top + 10 + row * 20;
    const legendX = margin.left + plotWidth + 15;
    parts.push(`<rect x="${legendX}" y="${legendY - 6}" width="22" height="12" ${segmentStyle(index)}/>`);
    parts.push(`<text x="${legendX + 28}" y="${legendY + 4}">${escapeXml(chart.series[index]!.name)}</text>`);
  });
  parts.push('</svg>');
  return parts.join('\n') + '\n';
}
