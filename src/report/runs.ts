// What a report reads from a run directory (src/train/run.ts' layout): run.json, log.jsonl and,
// for target runs, results.json; and the plots and tables built from them. A run that is still
// going (or stopped) is reported as far as it got.
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { readLog, type LogRecord } from '../train/log.js';
import { LOG_FILE, RUN_FILE, type RunRecord } from '../train/run.js';
import { escapeXml, linePlot, type Series } from './svg.js';

/** A run as the report sees it. */
export interface RunData {
  dir: string;
  record: RunRecord;
  log: LogRecord[];
  /** results.json of a completed target run. */
  results: TargetResults | null;
}

/** The parts of a target run's results.json a report shows. */
export interface TargetResults {
  method: string;
  best_epoch: number;
  validation: { average: number };
  test: { average: number; tasks: Record<string, { score: number; metrics: Record<string, number>; invalid: number }> };
}

function readJson<T>(path: string): T {
  try {
    return JSON.parse(readFileSync(path, 'utf8')) as T;
  } catch (err) {
    throw new Error(`${path}: ${(err as Error).message}`);
  }
}

/** Reads a run directory; throws naming the file when run.json is missing or malformed. */
export function readRunData(dir: string): RunData {
  const runPath = join(dir, RUN_FILE);
  if (!existsSync(runPath)) throw new Error(`${dir}: not a bpt run directory (${RUN_FILE} is missing)`);
  const record = readJson<RunRecord>(runPath);
  const logPath = join(dir, LOG_FILE);
  const resultsPath = join(dir, 'results.json');
  return {
    dir,
    record,
    log: existsSync(logPath) ? readLog(logPath) : [],
    results: existsSync(resultsPath) ? readJson<TargetResults>(resultsPath) : null,
  };
}

const num = (v: unknown): number => (typeof v === 'number' ? v : Number.NaN);

/** Points (step, field) of the step records that carry `field`. */
export function stepSeries(log: readonly LogRecord[], name: string, pick: (r: LogRecord) => unknown, kind = 'step'): Series {
  return { name, points: log.filter((r) => r.kind === kind).map((r) => [r.step, num(pick(r))] as const).filter(([, y]) => Number.isFinite(y)) };
}

/** The training loss per task: per-task losses where the stage logs them (source), else the batch loss. */
export function lossSeries(log: readonly LogRecord[]): Series[] {
  const keys = new Set<string>();
  for (const r of log) if (r.kind === 'step' && r.task_loss && typeof r.task_loss === 'object') for (const k of Object.keys(r.task_loss)) keys.add(k);
  if (keys.size === 0) return [stepSeries(log, 'loss', (r) => r.loss)];
  return [...keys].map((k) => stepSeries(log, k, (r) => (r.task_loss as Record<string, unknown> | undefined)?.[k]));
}

/** Whether the log holds SVGD diagnostics (a bpt source run). */
export function hasSvgd(log: readonly LogRecord[]): boolean {
  return log.some((r) => r.kind === 'step' && typeof r.h === 'number');
}

/**
 * SVGD plots: the bandwidth h, the particle spread and the kernel's mean off-diagonal value. With
 * the median heuristic h^2 = median(S) / (2 log(M + 1)) over the squared distances S, so the median
 * pairwise distance is h sqrt(2 log(M + 1)); with a fixed h that spread is not logged.
 */
export function svgdPlots(run: RunData, label = ''): string[] {
  const { log, record } = run;
  const particles = num(record.options.particles);
  const median = record.options.bandwidth === 'median';
  const plots = [
    linePlot([stepSeries(log, label, (r) => r.h)], { title: 'SVGD bandwidth h', xLabel: 'step', yLabel: 'h' }),
    linePlot([stepSeries(log, label, (r) => r.mean_off_diagonal_k)], { title: 'Mean off-diagonal kernel value', xLabel: 'step', yLabel: 'mean K(i != j)' }),
    linePlot([stepSeries(log, 'attraction', (r) => r.attraction), stepSeries(log, 'repulsion', (r) => r.repulsion)],
      { title: 'SVGD terms (Frobenius norms)', xLabel: 'step', yLabel: 'norm', logY: true }),
  ];
  if (median && particles > 1) {
    const c = Math.sqrt(2 * Math.log(particles + 1));
    plots.splice(1, 0, linePlot([stepSeries(log, label, (r) => num(r.h) * c)], { title: 'Particle spread: median pairwise distance', xLabel: 'step', yLabel: 'distance' }));
  }
  return plots;
}

/** Validation score per epoch (average and per task) of a target run. */
export function validationSeries(log: readonly LogRecord[]): Series[] {
  const evals = log.filter((r) => r.kind === 'eval' && r.split === 'validation');
  const tasks = new Set<string>();
  for (const r of evals) for (const k of Object.keys((r.tasks as Record<string, unknown>) ?? {})) tasks.add(k);
  const series = [...tasks].map((k) => ({
    name: k,
    points: evals.map((r) => [num(r.epoch), num((r.tasks as Record<string, { score?: unknown }>)[k]?.score)] as const),
  }));
  return series.length > 1 ? [{ name: 'average', points: evals.map((r) => [num(r.epoch), num(r.average)] as const) }, ...series] : series;
}

/** An HTML table (cells are escaped). */
export function htmlTable(head: readonly string[], rows: ReadonlyArray<readonly (string | number)[]>): string {
  const cell = (c: string | number, tag: string): string => `<${tag}>${escapeXml(String(c))}</${tag}>`;
  return `<table><thead><tr>${head.map((h) => cell(h, 'th')).join('')}</tr></thead><tbody>${rows.map((r) => `<tr>${r.map((c) => cell(c, 'td')).join('')}</tr>`).join('')}</tbody></table>`;
}

const fixed = (v: unknown, digits = 2): string => (typeof v === 'number' && Number.isFinite(v) ? v.toFixed(digits) : '-');

/** The evaluation table of a run: validation per epoch and test (target), held-out loss (pretrain). */
export function evalTable(run: RunData): string {
  const evals = run.log.filter((r) => r.kind === 'eval');
  if (run.record.stage === 'pretrain') {
    return evals.length ? htmlTable(['step', 'held-out loss'], evals.map((r) => [r.step, fixed(r.loss, 4)])) : '';
  }
  const parts: string[] = [];
  if (evals.length) {
    const tasks = Object.keys((evals[0]!.tasks as Record<string, unknown>) ?? {});
    parts.push(htmlTable(['epoch', 'step', 'validation average', ...tasks],
      evals.map((r) => [num(r.epoch), r.step, fixed(r.average), ...tasks.map((k) => fixed((r.tasks as Record<string, { score?: number }>)[k]?.score))])));
  }
  const res = run.results;
  if (res) {
    const rows = Object.entries(res.test.tasks).map(([k, t]) => [k, fixed(t.score), Object.entries(t.metrics).map(([n, v]) => `${n} ${fixed(v)}`).join(', '), t.invalid]);
    parts.push(`<p>Best epoch ${res.best_epoch} (validation ${fixed(res.validation.average)}); test average ${fixed(res.test.average)}.</p>`);
    parts.push(htmlTable(['task', 'test score', 'metrics', 'invalid'], rows));
  }
  return parts.join('\n');
}

/** How long a run took, from run.json (null while it is unfinished). */
export function runSeconds(r: RunRecord): number | null {
  return r.finished ? (Date.parse(r.finished) - Date.parse(r.started)) / 1000 : null;
}

/** One run's section: what ran, its loss plot(s), SVGD plots for a BPT source run, its evaluation table. */
export function runSection(run: RunData, title?: string): string {
  const r = run.record;
  const heading = title ?? `${r.stage} ${r.method}`;
  const tasks = Array.isArray(r.options.tasks) ? (r.options.tasks as string[]).join(', ') : '';
  const secs = runSeconds(r);
  const facts = [`stage ${r.stage}`, `method ${r.method}`, tasks && `tasks ${tasks}`, `status ${r.status}`, secs !== null ? `wall time ${secs.toFixed(0)} s` : ''].filter(Boolean).join(' | ');
  const plots = [linePlot(lossSeries(run.log), { title: 'Training loss', xLabel: 'step', yLabel: 'loss' })];
  const heldOut = stepSeries(run.log, 'held-out', (x) => (x.split === 'held-out' ? x.loss : undefined), 'eval');
  if (heldOut.points.length) plots[0] = linePlot([{ ...lossSeries(run.log)[0]!, name: 'training' }, heldOut], { title: 'Span-corruption loss', xLabel: 'step', yLabel: 'loss per target token' });
  if (hasSvgd(run.log)) plots.push(...svgdPlots(run));
  const validation = validationSeries(run.log);
  if (validation.length) plots.push(linePlot(validation, { title: 'Validation score', xLabel: 'epoch', yLabel: 'score' }));
  return `<section><h2>${escapeXml(heading)}</h2><p class="facts">${escapeXml(facts)}<br><code>${escapeXml(run.dir)}</code></p>`
    + `<div class="plots">${plots.join('\n')}</div>${evalTable(run)}</section>`;
}
