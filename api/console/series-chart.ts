/**
 * A device's series as an SVG line chart: the geometry is computed here without the DOM (pure,
 * unit-tested), then drawn as SVG elements, a gap in the data a gap in the line.
 */

export interface ChartPoint {
  tsMs: number;
  value: number | null;
}

export interface ChartGeometry {
  /** The SVG path: one `M` per run of points without a gap. */
  path: string;
  /** The value range drawn (equal values get a range of 1 around them). */
  min: number;
  max: number;
  /** Points with a value. */
  valued: number;
}

/** Fits the points into `width` × `height` (y grows downwards); null when no point has a value. */
export function chartGeometry(points: readonly ChartPoint[], width: number, height: number): ChartGeometry | null {
  const values = points.map((point) => point.value).filter((value): value is number => value !== null);
  if (values.length === 0) return null;
  let min = Math.min(...values);
  let max = Math.max(...values);
  if (min === max) {
    min -= 0.5;
    max += 0.5;
  }
  const first = points[0]!.tsMs;
  const span = Math.max(1, points[points.length - 1]!.tsMs - first);
  const round = (n: number): number => Math.round(n * 10) / 10;
  const parts: string[] = [];
  let drawing = false;
  for (const point of points) {
    if (point.value === null) {
      drawing = false;
      continue;
    }
    const x = round(((point.tsMs - first) / span) * width);
    const y = round(height - ((point.value - min) / (max - min)) * height);
    parts.push(`${drawing ? 'L' : 'M'}${x} ${y}`);
    drawing = true;
  }
  return { path: parts.join(' '), min, max, valued: values.length };
}

const svgNs = 'http://www.w3.org/2000/svg';

function svgElement(name: string, attributes: Record<string, string | number>, text?: string): SVGElement {
  const element = document.createElementNS(svgNs, name);
  for (const [key, value] of Object.entries(attributes)) element.setAttribute(key, String(value));
  if (text !== undefined) element.textContent = text;
  return element;
}

/** Draws the chart into `svg` (its old content replaced), with the value range and the time range as labels. */
export function drawChart(svg: SVGSVGElement, points: readonly ChartPoint[], label: string): void {
  const width = 600;
  const height = 200;
  const left = 60;
  const top = 10;
  const bottom = 24;
  svg.replaceChildren();
  svg.setAttribute('viewBox', `0 0 ${left + width + 10} ${top + height + bottom}`);
  svg.setAttribute('role', 'img');
  svg.setAttribute('aria-label', label);
  const geometry = chartGeometry(points, width, height);
  svg.dataset.points = String(geometry?.valued ?? 0);
  svg.append(svgElement('title', {}, label));
  svg.append(svgElement('rect', { x: left, y: top, width, height, class: 'chart-frame' }));
  if (geometry === null) {
    svg.append(svgElement('text', { x: left + width / 2, y: top + height / 2, 'text-anchor': 'middle' }, 'no readings in this range'));
    return;
  }
  const format = (value: number): string => (Math.abs(value) >= 1000 ? value.toFixed(0) : value.toPrecision(4).replace(/\.?0+$/, ''));
  svg.append(svgElement('text', { x: left - 6, y: top + 10, 'text-anchor': 'end' }, format(geometry.max)));
  svg.append(svgElement('text', { x: left - 6, y: top + height, 'text-anchor': 'end' }, format(geometry.min)));
  const time = (ms: number): string => new Date(ms).toISOString().slice(11, 16);
  svg.append(svgElement('text', { x: left, y: top + height + 18 }, time(points[0]!.tsMs)));
  svg.append(svgElement('text', { x: left + width, y: top + height + 18, 'text-anchor': 'end' }, time(points[points.length - 1]!.tsMs)));
  svg.append(svgElement('path', { d: geometry.path, transform: `translate(${left} ${top})`, class: 'chart-line', 'data-testid': 'chart-line' }));
}
