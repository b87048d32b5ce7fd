// report.html: one self-contained page (inline CSS and SVG, no scripts, no external URLs) for a
// run directory, or for a directory of runs such as the demo's.
import { existsSync, readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { writeFileAtomic } from '../io/atomic.js';
import { RUN_FILE } from '../train/run.js';
import { readRunData, runSection } from './runs.js';
import { escapeXml } from './svg.js';

export const REPORT_FILE = 'report.html';

const STYLE = `body{font-family:system-ui,-apple-system,'Segoe UI',sans-serif;margin:24px;color:#222;max-width:1200px}
h1{font-size:22px}h2{font-size:18px;margin-top:28px;border-bottom:1px solid #ddd;padding-bottom:4px}
.facts{color:#555;font-size:13px}.plots{display:flex;flex-wrap:wrap;gap:12px}
table{border-collapse:collapse;margin:10px 0;font-size:13px}th,td{border:1px solid #ccc;padding:4px 8px;text-align:right}
th{background:#f4f4f4}td:first-child,th:first-child{text-align:left}code{font-size:12px;color:#666}pre{font-size:13px}`;

/** A complete HTML page from a title, an introduction (HTML) and sections (HTML). */
export function renderPage(title: string, intro: string, sections: readonly string[]): string {
  return `<!DOCTYPE html>\n<html lang="en"><head><meta charset="utf-8"><title>${escapeXml(title)}</title><style>${STYLE}</style></head>`
    + `<body><h1>${escapeXml(title)}</h1>${intro}\n${sections.join('\n')}\n</body></html>\n`;
}

/** Run directories at `dir` or directly below it (a demo directory holds one per stage), in name order. */
export function findRuns(dir: string): string[] {
  if (existsSync(join(dir, RUN_FILE))) return [dir];
  if (!existsSync(dir)) throw new Error(`${dir} does not exist`);
  const found: string[] = [];
  const walk = (d: string, depth: number): void => {
    for (const name of readdirSync(d).sort()) {
      const p = join(d, name);
      if (!statSync(p).isDirectory()) continue;
      if (existsSync(join(p, RUN_FILE))) found.push(p);
      else if (depth > 0) walk(p, depth - 1);
    }
  };
  walk(dir, 1);
  if (found.length === 0) throw new Error(`${dir}: no bpt run directories (${RUN_FILE}) in it or below it`);
  return found;
}

/** Writes the report of the run(s) in `dir` to `out` (default dir/report.html); returns the path. */
export function writeRunReport(dir: string, out = join(dir, REPORT_FILE)): string {
  const runs = findRuns(dir).map(readRunData);
  const sections = runs.map((r) => runSection(r));
  const title = runs.length === 1 ? `bpt ${runs[0]!.record.stage} ${runs[0]!.record.method}` : `bpt runs in ${dir}`;
  writeFileAtomic(out, [renderPage(title, `<p class="facts">Generated ${escapeXml(new Date().toISOString())} from ${escapeXml(dir)}.</p>`, sections)]);
  return out;
}
