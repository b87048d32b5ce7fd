// `bpt demo`: the whole method on real data with nothing but a clone's `npm ci`: the embedded T5
// (models/byt5-tiny) frozen, the two source stages (vanilla union prompt; BPT's SVGD particles),
// then for every seed the target stage by PT from scratch, vanilla transfer, BPT and multi-target
// BPT, all through the src/bpt stages with configs written to <out>/configs/. It prints a table of
// test accuracy on the held-out target (mean and spread over seeds) with the time each method
// took, and writes results.json, results.md and report.html. Completed stages are reused with
// --resume; a stage that stopped continues from its checkpoint.
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { dirname, isAbsolute, join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { sourceOptions, targetOptions } from '../bpt/options.js';
import { runSource } from '../bpt/source.js';
import { runTarget } from '../bpt/target.js';
import { ensureDirectory, writeFileAtomic } from '../io/atomic.js';
import { DirLock } from '../io/dir_lock.js';
import { checkOutputDirectory } from '../io/outputs.js';
import { DEMO_DATA_PACKAGES } from '../tasks/demo_data.js';
import { REPORT_FILE } from '../report/html.js';
import { readRunData, runSeconds, type RunData } from '../report/runs.js';
import { CHECKPOINT_FILE } from '../train/checkpoint.js';
import type { ProgressMode } from '../train/options.js';
import { RUN_FILE } from '../train/run.js';
import { missingPackages, missingPackagesMessage } from '../util/packages.js';
import { DEMO_METHODS, type DemoMethod, type DemoProtocol, type DemoResult, type DemoRow } from './protocol.js';
import { writeDemoReport } from './report.js';

/** Name of the embedded model's folder under models/. */
export const EMBEDDED_MODEL = 'byt5-tiny';

/** models/<EMBEDDED_MODEL> of this package, found by walking up from this module to package.json. */
export function embeddedModelDir(): string {
  let dir = dirname(fileURLToPath(import.meta.url));
  for (;;) {
    const pkg = join(dir, 'package.json');
    if (existsSync(pkg) && (JSON.parse(readFileSync(pkg, 'utf8')) as { name?: string }).name === 'bpt-webgpu') return join(dir, 'models', EMBEDDED_MODEL);
    const up = dirname(dir);
    if (up === dir) throw new Error(`the embedded model: no bpt-webgpu package.json above ${fileURLToPath(import.meta.url)}; pass --model`);
    dir = up;
  }
}

export interface DemoOptions {
  out: string;
  model: string;
  protocol: DemoProtocol;
  progress: ProgressMode;
  resume: boolean;
}

/** One stage of the demo: a config for `bpt source` or `bpt target`. */
interface Stage {
  name: string;
  kind: 'source' | 'target';
  config: Record<string, unknown>;
  method?: DemoMethod;
  seed?: number;
}

/**
 * Throws one error naming everything the demo lacks: the model (the embedded one comes with a
 * clone of the repository, not with the npm package) and the data packages, with what to run.
 */
function checkDemoInputs(model: string): void {
  const problems: string[] = [];
  if (!existsSync(join(model, 'config.json'))) {
    problems.push(`${model}: no config.json. The embedded model models/${EMBEDDED_MODEL} comes with a clone of the bpt-webgpu repository ` +
      '(`npm ci && npm start` there runs the demo), not with the npm package; or pass --model DIR, a Hugging Face T5 checkpoint directory');
  }
  const missing = missingPackages(DEMO_DATA_PACKAGES);
  if (missing.length) problems.push(missingPackagesMessage('the demo', missing));
  if (problems.length) throw new Error(problems.join('\n'));
}

/**
 * A path relative to the working directory when it lies below it, as given otherwise: what the
 * table shows, and what the stages record (an adapter's base_model_name_or_path names no machine folder).
 */
function shownPath(path: string): string {
  const rel = relative(process.cwd(), path);
  return rel.startsWith('..') || isAbsolute(rel) ? path : rel === '' ? '.' : rel;
}

/** The stages in the order they run (sources first; then each seed's four target runs). */
export function demoStages(o: DemoOptions): Stage[] {
  const p = o.protocol;
  const common = {
    model: shownPath(o.model), format: 't5', maxInputLength: p.maxInputLength, maxTargetLength: 16, padMultiple: 8, splitSeed: 42,
    progress: o.progress, promptLength: p.promptLength, init: 'vocab', optimizer: 'adamw', weightDecay: 1e-5, modelDropout: false,
  };
  const dir = (name: string): string => resolve(o.out, name);
  const source = (method: 'vanilla' | 'bpt'): Stage => ({
    name: `source-${method}`,
    kind: 'source',
    config: {
      ...common, out: dir(`source-${method}`), tasks: p.sources, method, steps: p.sourceSteps, lr: 0.3,
      warmupSteps: Math.ceil(p.sourceSteps / 10), seed: 42, logEvery: Math.max(1, Math.floor(p.sourceSteps / 100)), checkpointEvery: 50,
      particles: p.particles,
      // Vanilla sees as many rows per step as BPT's M particles do (M x K), so both get the same compute.
      examplesPerTask: method === 'bpt' ? 1 : p.particles,
    },
  });
  const stages: Stage[] = [source('vanilla'), source('bpt')];
  const perEpoch = Math.ceil(p.shots / p.batchSize);
  for (const seed of p.seeds) {
    for (const { key } of DEMO_METHODS) {
      const method = key === 'bpt-multi' ? 'bpt' : key;
      stages.push({
        name: `target-${key}-seed${seed}`,
        kind: 'target',
        method: key,
        seed,
        config: {
          ...common, out: dir(`target-${key}-seed${seed}`), method, tasks: key === 'bpt-multi' ? p.multiTargets : [p.target],
          ...(method === 'pt' ? {} : { source: dir(`source-${method}`) }),
          maxTrain: p.shots, epochs: p.epochs, batchSize: p.batchSize, warmupSteps: perEpoch, seed, logEvery: 1, checkpointEvery: 0,
          evalMode: 'rank', evalBatchSize: 50, maxEval: p.maxEval, testRest: p.testRest ? [p.target] : [],
        },
      });
    }
  }
  return stages;
}

function runStatus(dir: string): 'none' | 'complete' | 'stopped' {
  if (!existsSync(join(dir, RUN_FILE))) return 'none';
  const r = JSON.parse(readFileSync(join(dir, RUN_FILE), 'utf8')) as { status?: string };
  if (r.status === 'complete') return 'complete';
  return existsSync(join(dir, CHECKPOINT_FILE)) ? 'stopped' : 'none';
}

const mean = (xs: readonly number[]): number => xs.reduce((a, b) => a + b, 0) / xs.length;
const sd = (xs: readonly number[]): number => (xs.length < 2 ? 0 : Math.sqrt(xs.reduce((a, x) => a + (x - mean(xs)) ** 2, 0) / (xs.length - 1)));

/** The table rows from the completed target runs. */
export function demoRows(o: DemoOptions, runs: ReadonlyMap<string, RunData>): DemoRow[] {
  const p = o.protocol;
  return DEMO_METHODS.map(({ key, label }) => {
    const seeds = p.seeds.map((s) => runs.get(`target-${key}-seed${s}`)!);
    const score = (r: RunData, task: string): number => {
      const t = r.results?.test.tasks[task];
      if (!t) throw new Error(`${r.dir}: results.json has no test score for ${task}`);
      return t.score;
    };
    const scores = seeds.map((r) => score(r, p.target));
    const others: Record<string, number[]> = {};
    if (key === 'bpt-multi') for (const t of p.multiTargets.filter((x) => x !== p.target)) others[t] = seeds.map((r) => score(r, t));
    const src = key === 'pt' ? null : runs.get(`source-${key === 'vanilla' ? 'vanilla' : 'bpt'}`)!;
    return {
      method: key, label, scores, mean: mean(scores), sd: sd(scores),
      targetSeconds: mean(seeds.map((r) => runSeconds(r.record) ?? Number.NaN)),
      sourceSeconds: src ? runSeconds(src.record) : null, others,
    };
  });
}

function formatDuration(s: number): string {
  return s >= 60 ? `${Math.floor(s / 60)}m${String(Math.round(s % 60)).padStart(2, '0')}s` : `${s.toFixed(0)}s`;
}

/** The table as aligned text (for the terminal and results.md). */
export function formatTable(r: DemoResult): string {
  const p = r.protocol;
  const head = ['method', 'test acc. (mean ± sd)', 'per seed', 'source stage', 'target / seed'];
  const rows = r.rows.map((x) => [
    x.label, `${x.mean.toFixed(1)} ± ${x.sd.toFixed(1)}`, x.scores.map((s) => s.toFixed(0)).join(' '),
    x.sourceSeconds === null ? '-' : formatDuration(x.sourceSeconds), formatDuration(x.targetSeconds),
  ]);
  const widths = head.map((h, i) => Math.max(h.length, ...rows.map((row) => row[i]!.length)));
  const line = (cells: readonly string[]): string => cells.map((c, i) => (i === 0 ? c.padEnd(widths[i]!) : c.padStart(widths[i]!))).join('  ');
  const extra = r.rows.flatMap((x) => Object.entries(x.others).map(([t, s]) => `${x.label} also adapts to ${t}: test acc. ${mean(s).toFixed(1)} ± ${sd(s).toFixed(1)} (${s.map((v) => v.toFixed(0)).join(' ')})`));
  return [
    `target ${p.target} (${p.shots} training examples); sources ${p.sources.join(', ')}; ${p.seeds.length} seed(s); model ${r.model}`,
    line(head), line(widths.map((w) => '-'.repeat(w))), ...rows.map(line), ...extra,
    `total wall time ${formatDuration(r.wallSeconds)}`,
  ].join('\n');
}

/** Runs the demo (see the file comment); returns its result (`formatTable` shows it). */
export async function runDemo(o: DemoOptions): Promise<DemoResult> {
  const started = performance.now();
  checkDemoInputs(o.model);
  if (!o.resume && existsSync(o.out) && readdirSync(o.out).length > 0) throw new Error(`${o.out} is not empty: pass --resume to continue that demo, or choose another --out`);
  checkOutputDirectory(o.out, 'the demo directory');
  ensureDirectory(join(o.out, 'configs'));
  // One demo at a time per directory (each stage's run directory has its own lock as well).
  const lock = DirLock.acquire(o.out);
  try {
    return await runStages(o, started);
  } finally {
    lock.release();
  }
}

async function runStages(o: DemoOptions, started: number): Promise<DemoResult> {
  const stages = demoStages(o);
  const runs = new Map<string, RunData>();
  for (const [i, st] of stages.entries()) {
    const dir = st.config.out as string;
    const status = runStatus(dir);
    process.stderr.write(`demo [${i + 1}/${stages.length}] ${st.name}${status === 'complete' ? ' (done, reused)' : status === 'stopped' ? ' (resuming)' : ''}\n`);
    if (status !== 'complete') {
      const file = join(o.out, 'configs', `${st.name}.json`);
      writeFileAtomic(file, [`${JSON.stringify(st.config, null, 2)}\n`]);
      if (st.kind === 'source') await runSource(sourceOptions(file, {}), status === 'stopped');
      else await runTarget(targetOptions(file, {}), status === 'stopped');
    }
    runs.set(st.name, readRunData(dir));
  }
  const result: DemoResult = { protocol: o.protocol, model: shownPath(o.model), rows: demoRows(o, runs), wallSeconds: (performance.now() - started) / 1000 };
  const table = formatTable(result);
  writeFileAtomic(join(o.out, 'results.json'), [`${JSON.stringify(result, null, 2)}\n`]);
  writeFileAtomic(join(o.out, 'results.md'), [`\`\`\`\n${table}\n\`\`\`\n`]);
  writeDemoReport(join(o.out, REPORT_FILE), result, table, runs);
  return result;
}
