// Line plots as inline SVG: axes with "nice" ticks, one polyline per series, a legend. No
// scripts, fonts or styles from outside, so a report renders offline in any browser.

/** One line of a plot. */
export interface Series {
  name: string;
  points: ReadonlyArray<readonly [number, number]>;
}

export interface PlotOptions {
  title: string;
  xLabel: string;
  yLabel: string;
  width?: number;
  height?: number;
  /** Log-scale y axis (all values must be positive; others are dropped). */
  logY?: boolean;
}

/** Legends with more entries than this go below the plot. */
const LEGEND_INSIDE = 4;

/** Colour-blind-safe palette (Okabe & Ito). */
export const PALETTE = ['#0072B2', '#D55E00', '#009E73', '#CC79A7', '#E69F00', '#56B4E9', '#F0E442', '#000000'];

/** Escapes text for HTML and SVG. */
export function escapeXml(s: string): string {
  return s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');
}

/** About `count` round tick values covering [lo, hi] (steps of 1, 2 or 5 times a power of ten). */
export function niceTicks(lo: number, hi: number, count = 5): number[] {
  if (!(hi > lo)) return [lo];
  const raw = (hi - lo) / count;
  const mag = 10 ** Math.floor(Math.log10(raw));
  const step = [1, 2, 5, 10].map((m) => m * mag).find((s) => s >= raw)!;
  const out: number[] = [];
  for (let v = Math.ceil(lo / step) * step; v <= hi + step * 1e-9; v += step) out.push(Number(v.toPrecision(12)));
  return out;
}

function formatTick(v: number): string {
  if (v === 0) return '0';
  const a = Math.abs(v);
  return a >= 1e5 || a < 1e-3 ? v.toExponential(1) : String(Number(v.toPrecision(4)));
}

/** An SVG line plot of `series` (empty series are skipped; with no points at all, a note says so). */
export function linePlot(series: readonly Series[], o: PlotOptions): string {
  const keep = (y: number): boolean => Number.isFinite(y) && (!o.logY || y > 0);
  const lines = series.map((s) => ({ name: s.name, points: s.points.filter(([x, y]) => Number.isFinite(x) && keep(y)) })).filter((s) => s.points.length > 0);
  // Up to four names fit in a box inside the plot; more go below it, two to a row.
  const below = lines.length > LEGEND_INSIDE ? Math.ceil(lines.length / 2) * 15 + 6 : 0;
  const width = o.width ?? 560, height = (o.height ?? 300) + below;
  const m = { left: 64, right: 16, top: 28, bottom: 44 + below };
  const head = `<svg width="${width}" height="${height}" viewBox="0 0 ${width} ${height}" role="img" aria-label="${escapeXml(o.title)}">`
    + `<text x="${width / 2}" y="18" text-anchor="middle" font-size="14" font-weight="bold">${escapeXml(o.title)}</text>`;
  if (lines.length === 0) return `${head}<text x="${width / 2}" y="${height / 2}" text-anchor="middle" font-size="12" fill="#666">no data logged</text></svg>`;
  const xs = lines.flatMap((s) => s.points.map((p) => p[0]));
  const ty = (y: number): number => (o.logY ? Math.log10(y) : y);
  const ys = lines.flatMap((s) => s.points.map((p) => ty(p[1])));
  let [x0, x1] = [Math.min(...xs), Math.max(...xs)];
  let [y0, y1] = [Math.min(...ys), Math.max(...ys)];
  if (x1 === x0) [x0, x1] = [x0 - 1, x1 + 1];
  if (y1 === y0) [y0, y1] = [y0 - (Math.abs(y0) || 1) * 0.05, y1 + (Math.abs(y1) || 1) * 0.05];
  const pad = (y1 - y0) * 0.05;
  [y0, y1] = [y0 - pad, y1 + pad];
  const pw = width - m.left - m.right, ph = height - m.top - m.bottom;
  const sx = (x: number): number => m.left + ((x - x0) / (x1 - x0)) * pw;
  const sy = (y: number): number => m.top + ph - ((y - y0) / (y1 - y0)) * ph;
  const parts: string[] = [head];
  parts.push(`<rect x="${m.left}" y="${m.top}" width="${pw}" height="${ph}" fill="none" stroke="#999"/>`);
  for (const t of niceTicks(x0, x1, 6)) {
    const x = sx(t).toFixed(1);
    parts.push(`<line x1="${x}" y1="${m.top + ph}" x2="${x}" y2="${m.top + ph + 4}" stroke="#999"/><text x="${x}" y="${m.top + ph + 16}" text-anchor="middle" font-size="11">${formatTick(t)}</text>`);
  }
  // A log axis ticks at whole decades when it spans two or more, else at round values inside one.
  const decades = niceTicks(y0, y1).filter((t) => Number.isInteger(t));
  const yTicks = !o.logY ? niceTicks(y0, y1) : decades.length >= 2 ? decades : niceTicks(10 ** y0, 10 ** y1).filter((v) => v > 0).map(Math.log10);
  for (const t of yTicks) {
    const y = sy(t).toFixed(1);
    const label = o.logY ? formatTick(10 ** t) : formatTick(t);
    parts.push(`<line x1="${m.left}" y1="${y}" x2="${m.left + pw}" y2="${y}" stroke="#eee"/><text x="${m.left - 6}" y="${y}" text-anchor="end" dominant-baseline="middle" font-size="11">${label}</text>`);
  }
  parts.push(`<text x="${m.left + pw / 2}" y="${m.top + ph + 36}" text-anchor="middle" font-size="12">${escapeXml(o.xLabel)}</text>`);
  parts.push(`<text transform="translate(14 ${m.top + ph / 2}) rotate(-90)" text-anchor="middle" font-size="12">${escapeXml(o.yLabel)}${o.logY ? ' (log)' : ''}</text>`);
  lines.forEach((s, i) => {
    const colour = PALETTE[i % PALETTE.length]!;
    const pts = s.points.map(([x, y]) => `${sx(x).toFixed(1)},${sy(ty(y)).toFixed(1)}`).join(' ');
    parts.push(s.points.length === 1
      ? `<circle cx="${pts.split(',')[0]}" cy="${pts.split(',')[1]}" r="3" fill="${colour}"/>`
      : `<polyline points="${pts}" fill="none" stroke="${colour}" stroke-width="1.6"/>`);
  });
  if (below > 0) {
    lines.forEach((s, i) => {
      const x = m.left + (i % 2) * (pw / 2), y = height - below + 4 + Math.floor(i / 2) * 15;
      parts.push(`<rect x="${x}" y="${y - 2}" width="12" height="3" fill="${PALETTE[i % PALETTE.length]}"/><text x="${x + 16}" y="${y}" dominant-baseline="middle" font-size="11">${escapeXml(s.name)}</text>`);
    });
  } else if (lines.length > 1 || lines[0]!.name !== '') {
    const boxWidth = 22 + 6.5 * Math.max(...lines.map((s) => s.name.length));
    parts.push(`<rect x="${m.left + pw - boxWidth - 4}" y="${m.top + 2}" width="${boxWidth}" height="${lines.length * 15 + 4}" fill="#fff" fill-opacity="0.85" stroke="#ddd"/>`);
    lines.forEach((s, i) => {
      const y = m.top + 11 + i * 15;
      const x = m.left + pw - boxWidth;
      parts.push(`<rect x="${x}" y="${y - 2}" width="12" height="3" fill="${PALETTE[i % PALETTE.length]}"/><text x="${x + 16}" y="${y}" dominant-baseline="middle" font-size="11">${escapeXml(s.name)}</text>`);
    });
  }
  parts.push('</svg>');
  return parts.join('');
}
