// Benchmark harness: times a case by GPU timestamp queries (median per iteration over the
// engine's profiler records) and by wall clock with benchmark.js in deferred mode (every sample
// ends when the GPU is done), counts dispatches per submit, prints a table and writes
// bench/results/<suite>-<date>.json with the adapter report.
//
// benchmark.js is loaded at run time rather than bundled: its environment sniffing breaks inside
// an ESM bundle (it finds no lodash), while Node's own `require` resolves it as intended.
import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { cpus } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type BenchmarkJs from 'benchmark';
import { gpu } from '../../src/gpu/device.js';
import { recorder } from '../../src/gpu/recorder.js';

const load = createRequire(import.meta.url);
const Benchmark = load('benchmark' as string) as typeof BenchmarkJs;

export interface TimingOptions {
  /** Untimed runs first: lavapipe compiles each pipeline at its first dispatch. */
  warmup?: number;
  /** Iterations timed with GPU timestamps. */
  gpuIters?: number;
  /** benchmark.js: at least this many samples, and at most about this many seconds. */
  minSamples?: number;
  maxTime?: number;
}

/** What one implementation measured for one case. */
export interface Timing {
  /** Median wall milliseconds per iteration (benchmark.js samples). */
  wallMs: number;
  /** benchmark.js's relative margin of error of the mean, percent. */
  rmePct: number;
  samples: number;
  /** Median GPU milliseconds per iteration from timestamp queries (ours only, when available). */
  gpuMs?: number;
  /** Dispatches and submits per iteration (ours only). */
  dispatches?: number;
  submits?: number;
}

const median = (xs: readonly number[]): number => {
  const s = [...xs].sort((a, b) => a - b);
  const h = s.length >> 1;
  return s.length % 2 ? s[h]! : (s[h - 1]! + s[h]!) / 2;
};

/** Wall time of an asynchronous step (it must resolve when its work is done) with benchmark.js. */
export function timeWall(step: () => Promise<void>, opts: TimingOptions = {}): Promise<Timing> {
  return new Promise((resolve, reject) => {
    const bench = new Benchmark('step', {
      defer: true,
      minSamples: opts.minSamples ?? 5,
      maxTime: opts.maxTime ?? 2,
      fn: (deferred: BenchmarkJs.Deferred) => {
        step().then(
          () => deferred.resolve(),
          (err: unknown) => reject(err),
        );
      },
    });
    bench.on('complete', () => {
      if (bench.error) reject(bench.error);
      else resolve({ wallMs: median(bench.stats.sample) * 1e3, rmePct: bench.stats.rme, samples: bench.stats.sample.length });
    });
    bench.run({ async: true });
  });
}

/**
 * Times `run` (which records one iteration of engine work without submitting): warm-up, GPU
 * timestamps per iteration (when the adapter has them), dispatch counts, then wall time of
 * run + submit + wait.
 */
export async function timeOurs(run: () => void, opts: TimingOptions = {}): Promise<Timing> {
  const rec = recorder();
  for (let i = 0; i < (opts.warmup ?? 2); i++) {
    run();
    await rec.sync();
  }
  const iters = opts.gpuIters ?? 5;
  const before = rec.snapshot();
  let gpuMs: number | undefined;
  if (gpu().hasTimestamps) {
    rec.profiler.start();
    for (let i = 0; i < iters; i++) {
      run();
      await rec.sync();
    }
    rec.profiler.stop();
    const records = await rec.profiler.collect();
    const per = records.length / iters;
    const totals: number[] = [];
    for (let i = 0; i < iters; i++) totals.push(records.slice(i * per, (i + 1) * per).reduce((s, r) => s + r.durationNs, 0) / 1e6);
    gpuMs = median(totals);
  } else {
    for (let i = 0; i < iters; i++) {
      run();
      await rec.sync();
    }
  }
  const after = rec.snapshot();
  const wall = await timeWall(async () => {
    run();
    await rec.sync();
  }, opts);
  return {
    ...wall,
    ...(gpuMs === undefined ? {} : { gpuMs }),
    dispatches: (after.dispatches - before.dispatches) / iters,
    submits: (after.submits - before.submits) / iters,
  };
}

/** One row of a suite's results. */
export interface Row {
  /** The case (e.g. a shape). */
  case: string;
  /** Who ran it: `ours:<variant>`, `tfjs-webgpu`, `numpy`. */
  impl: string;
  timing: Timing;
  /** Work per iteration, for GFLOP/s or GB/s. */
  flops?: number;
  bytes?: number;
  /** Anything else worth keeping (the tuner's choice, ratios). */
  notes?: Record<string, string | number>;
}

const rate = (work: number | undefined, ms: number | undefined, unit: number) => (work && ms ? work / (ms * 1e-3) / unit : undefined);

/** GFLOP/s (or GB/s) of a row from its GPU time when known, else its wall time. */
export function throughput(row: Row): { gflops?: number; gbps?: number } {
  const ms = row.timing.gpuMs ?? row.timing.wallMs;
  const gflops = rate(row.flops, ms, 1e9), gbps = rate(row.bytes, ms, 1e9);
  return { ...(gflops === undefined ? {} : { gflops }), ...(gbps === undefined ? {} : { gbps }) };
}

const fmt = (x: number | undefined, digits = 2) => (x === undefined ? '-' : x.toFixed(digits));

/** Prints rows as an aligned table. */
export function printTable(rows: Row[]): void {
  const head = ['case', 'impl', 'gpu ms', 'wall ms', '±%', 'GFLOP/s', 'wall GFLOP/s', 'GB/s', 'disp/submit', 'notes'];
  const body = rows.map((r) => {
    const t = r.timing;
    const perSubmit = t.dispatches !== undefined && t.submits ? t.dispatches / t.submits : undefined;
    const notes = Object.entries(r.notes ?? {}).map(([k, v]) => `${k}=${typeof v === 'number' ? v.toFixed(2) : v}`).join(' ');
    return [r.case, r.impl, fmt(t.gpuMs), fmt(t.wallMs), fmt(t.rmePct, 1), fmt(throughput(r).gflops), fmt(rate(r.flops, t.wallMs, 1e9)),
      fmt(throughput(r).gbps), fmt(perSubmit, 0), notes];
  });
  const widths = head.map((h, i) => Math.max(h.length, ...body.map((b) => b[i]!.length)));
  const line = (cells: string[]) => cells.map((c, i) => (i < 2 || i === cells.length - 1 ? c.padEnd(widths[i]!) : c.padStart(widths[i]!))).join('  ');
  process.stdout.write(`${line(head)}\n${widths.map((w) => '-'.repeat(w)).join('  ')}\n`);
  for (const b of body) process.stdout.write(`${line(b)}\n`);
}

/** Writes bench/results/<suite>-<date>.json (next to the sources, not dist/) and returns its path. */
export function writeResults(suite: string, rows: Row[], extra: Record<string, unknown> = {}): string {
  const here = dirname(fileURLToPath(import.meta.url));
  // Bundled into dist/chunks or dist/bench; the repository root is where package.json lives.
  let root = here;
  while (!existsSync(join(root, 'package.json')) && dirname(root) !== root) root = dirname(root);
  const dir = join(root, 'bench', 'results');
  mkdirSync(dir, { recursive: true });
  const date = new Date().toISOString().replace(/:/g, '-').replace(/\..*/, '');
  const path = join(dir, `${suite}-${date}.json`);
  const g = gpu();
  const out = {
    suite,
    date: new Date().toISOString(),
    adapter: g.report,
    host: { node: process.version, cpu: cpus()[0]?.model ?? 'unknown', cores: cpus().length },
    ...extra,
    rows: rows.map((r) => ({ ...r, ...throughput(r) })),
  };
  writeFileSync(path, `${JSON.stringify(out, null, 1)}\n`);
  return path;
}
