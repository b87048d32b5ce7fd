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
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import type BenchmarkJs from 'benchmark';
import { gpu } from '../../src/gpu/device.js';
import { writeChromeTrace, type HostSpan, type KernelRecord } from '../../src/gpu/profiler.js';
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
  /**
   * Wall time as the median of this many plain iterations instead of benchmark.js, for steps of
   * seconds (T5 on a software adapter), where benchmark.js's sampling would take minutes.
   */
  wallIters?: number;
}

/** What one implementation measured for one case. */
export interface Timing {
  /** Median wall milliseconds per iteration (benchmark.js samples). */
  wallMs: number;
  /** Relative 95% margin of error of the MEAN wall time, percent (benchmark.js's rme); kept in the JSON. */
  rmePct: number;
  /** Interquartile range of the wall samples, percent of their median: the spread the table shows. */
  iqrPct?: number;
  samples: number;
  /** Median GPU milliseconds per iteration from timestamp queries (ours only, when available). */
  gpuMs?: number;
  /**
   * Mean CPU milliseconds of this process per iteration (all threads) over the wall-time
   * iterations. On a software adapter the kernels run on this process's threads, so this is the
   * work of a step, which other jobs on a shared machine barely change (they stretch wall and
   * timestamp times instead).
   */
  cpuMs?: number;
  /** Mean milliseconds the host spent recording an iteration, before its submit (ours, side by side). */
  recordMs?: number;
  /** Dispatches and submits per iteration (ours only). */
  dispatches?: number;
  submits?: number;
}

const median = (xs: readonly number[]): number => {
  const s = [...xs].sort((a, b) => a - b);
  const h = s.length >> 1;
  return s.length % 2 ? s[h]! : (s[h - 1]! + s[h]!) / 2;
};

const mean = (xs: readonly number[]): number => xs.reduce((a, b) => a + b, 0) / xs.length;

/** Quantile q of sorted samples, linearly interpolated (numpy's default, Python's 'inclusive'). */
function quantile(sorted: readonly number[], q: number): number {
  const i = (sorted.length - 1) * q, lo = Math.floor(i);
  return sorted[lo]! + (sorted[Math.min(lo + 1, sorted.length - 1)]! - sorted[lo]!) * (i - lo);
}

/** Interquartile range of samples as a percentage of their median. */
export function iqrPct(xs: readonly number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return (100 * (quantile(s, 0.75) - quantile(s, 0.25))) / median(s);
}

/** CPU milliseconds (user + system, every thread) this process used since `start`. */
function cpuMsSince(start: NodeJS.CpuUsage): number {
  const d = process.cpuUsage(start);
  return (d.user + d.system) / 1e3;
}

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
      else resolve({ wallMs: median(bench.stats.sample) * 1e3, rmePct: bench.stats.rme, iqrPct: iqrPct(bench.stats.sample), samples: bench.stats.sample.length });
    });
    bench.run({ async: true });
  });
}

/** Median, its IQR and the mean's relative margin of error (95%, as benchmark.js's) of plain wall-time samples. */
function plainTiming(ms: readonly number[]): Timing {
  const m = mean(ms);
  const sd = ms.length > 1 ? Math.sqrt(ms.reduce((a, b) => a + (b - m) ** 2, 0) / (ms.length - 1)) : 0;
  return { wallMs: median(ms), rmePct: (196 * sd) / Math.sqrt(ms.length) / m, iqrPct: iqrPct(ms), samples: ms.length };
}

/** Wall milliseconds of `iters` plain runs of an asynchronous step. */
async function timePlain(step: () => Promise<void>, iters: number): Promise<Timing> {
  const ms: number[] = [];
  for (let i = 0; i < iters; i++) {
    const t0 = performance.now();
    await step();
    ms.push(performance.now() - t0);
  }
  return plainTiming(ms);
}

/** Where `writeResults` and the trace go: set from --out and --trace by the suite's flags (bench/lib/args.ts). */
const outputs: { out?: string; trace?: string } = {};

/** Directs the results JSON to `out` and, when `trace` is given, keeps every profiled run for a trace there. */
export function setOutputs(o: { out?: string | undefined; trace?: string | undefined }): void {
  if (o.out !== undefined) outputs.out = o.out;
  if (o.trace !== undefined) outputs.trace = o.trace;
}

/** Every profiled run of this process, kept for `--trace` (see `setOutputs`). */
const traceLog: { records: KernelRecord[][]; host: HostSpan[] } = { records: [], host: [] };

/** The records of `iters` runs of `run`, each submitted and waited for, with timestamps on. */
export async function profileRuns(run: () => void, iters = 1): Promise<KernelRecord[]> {
  const rec = recorder();
  rec.profiler.start();
  try {
    for (let i = 0; i < iters; i++) {
      const t0 = performance.now();
      run();
      if (outputs.trace) traceLog.host.push({ name: 'record', startMs: t0, durationMs: performance.now() - t0 });
      await rec.sync();
    }
  } finally {
    rec.profiler.stop();
  }
  const records = await rec.profiler.collect();
  if (outputs.trace) traceLog.records.push(records);
  return records;
}

/** Splits the records of `iters` identical runs into one list per run. */
export function perIteration(records: KernelRecord[], iters: number): KernelRecord[][] {
  const per = records.length / iters;
  if (!Number.isInteger(per)) throw new Error(`perIteration: ${records.length} records do not split into ${iters} equal runs`);
  return Array.from({ length: iters }, (_, i) => records.slice(i * per, (i + 1) * per));
}

/** Summed GPU milliseconds of a list of records. */
export const gpuSumMs = (records: readonly KernelRecord[]): number => records.reduce((s, r) => s + r.durationNs, 0) / 1e6;

/**
 * The iteration(s) whose summed GPU time is the median of `runs`: one for an odd count, the two
 * middle ones (lower first) for an even count, as `median` averages them.
 */
export function medianRuns(runs: readonly KernelRecord[][]): KernelRecord[][] {
  const byTime = [...runs].sort((a, b) => gpuSumMs(a) - gpuSumMs(b));
  const h = byTime.length >> 1;
  return byTime.length % 2 ? [byTime[h]!] : [byTime[h - 1]!, byTime[h]!];
}

/** A timing and the per-iteration records its gpu ms is the median of (empty without timestamps). */
export interface Measured {
  timing: Timing;
  runs: KernelRecord[][];
}

/**
 * Times `run` (which records one iteration of engine work without submitting): warm-up, GPU
 * timestamps per iteration (when the adapter has them), dispatch counts, then wall time of
 * run + submit + wait.
 */
export async function timeOurs(run: () => void, opts: TimingOptions = {}): Promise<Timing> {
  return (await measureOurs(run, opts)).timing;
}

/** `timeOurs`, with the profiled iterations: a breakdown of them agrees with its gpu ms. */
export async function measureOurs(run: () => void, opts: TimingOptions = {}): Promise<Measured> {
  const rec = recorder();
  for (let i = 0; i < (opts.warmup ?? 2); i++) {
    run();
    await rec.sync();
  }
  const iters = opts.gpuIters ?? 5;
  let gpuMs: number | undefined;
  let runs: KernelRecord[][] = [];
  if (gpu().hasTimestamps) {
    runs = perIteration(await profileRuns(run, iters), iters);
    gpuMs = median(runs.map(gpuSumMs));
  }
  // Counted while not profiling: a full timestamp query set makes the recorder submit early.
  const before = rec.snapshot();
  const cpu0 = process.cpuUsage();
  let steps = 0;
  const step = async () => {
    run();
    await rec.sync();
    steps++;
  };
  const wall = opts.wallIters ? await timePlain(step, opts.wallIters) : await timeWall(step, opts);
  const after = rec.snapshot();
  const timing = {
    ...wall,
    ...(gpuMs === undefined ? {} : { gpuMs }),
    cpuMs: cpuMsSince(cpu0) / steps,
    dispatches: (after.dispatches - before.dispatches) / steps,
    submits: (after.submits - before.submits) / steps,
  };
  return { timing, runs };
}

/** Pool bytes in use before a run (parameters, inputs), at its peak, and the difference. */
export interface PeakMemory {
  base: number;
  peak: number;
  step: number;
}

/**
 * What `timeSideBySide` measured: one Timing per run, the records of each run's median profiled
 * round (the round whose gpu time is the median; for an even count the upper of the two middle
 * ones), so that a breakdown of them adds up to the gpu ms of an odd count of rounds, and each
 * run's memory in its first warm-up iteration.
 */
export interface SideBySide {
  timings: Timing[];
  records: KernelRecord[][];
  memory: PeakMemory[];
  /** Per-round samples [run][round] of each clock (gpu empty without timestamps). */
  samples: { gpu: number[][]; wall: number[][]; cpu: number[][] };
}

/**
 * Times several runs whose ratio matters by taking turns, one iteration of each per round, so that
 * load from elsewhere on a shared machine hits all of them alike: `warmup` rounds, `gpuIters`
 * rounds with timestamps, then `wallIters` (default `gpuIters`) rounds of wall time (plain, for
 * steps of seconds); dispatch and submit counts come from the wall rounds, peak memory from the
 * first warm-up round (at least one is run).
 */
export async function timeSideBySide(runs: Array<() => void>, opts: TimingOptions = {}): Promise<SideBySide> {
  const rec = recorder();
  const round = async (each: (run: () => void, j: number) => Promise<void>) => {
    for (const [j, run] of runs.entries()) await each(run, j);
  };
  const memory: PeakMemory[] = [];
  for (let i = 0; i < Math.max(1, opts.warmup ?? 1); i++) {
    await round(async (run) => {
      if (i === 0) memory.push(await peakMemory(run));
      else {
        run();
        await rec.sync();
      }
    });
  }
  const gpuMs: number[][] = runs.map(() => []);
  const rounds: KernelRecord[][][] = runs.map(() => []);
  const gpuIters = opts.gpuIters ?? 3;
  if (gpu().hasTimestamps) {
    for (let i = 0; i < gpuIters; i++) {
      await round(async (run, j) => {
        const r = await profileRuns(run);
        rounds[j]!.push(r);
        gpuMs[j]!.push(gpuSumMs(r));
      });
    }
  }
  const records = rounds.map((rs) => (rs.length ? medianRuns(rs).at(-1)! : []));
  const wallMs: number[][] = runs.map(() => []);
  const cpuMs: number[][] = runs.map(() => []);
  const recordMs: number[][] = runs.map(() => []);
  const counts = runs.map(() => ({ dispatches: 0, submits: 0 }));
  const wallIters = opts.wallIters ?? gpuIters;
  for (let i = 0; i < wallIters; i++) {
    await round(async (run, j) => {
      const before = rec.snapshot();
      const cpu0 = process.cpuUsage();
      const t0 = performance.now();
      run();
      recordMs[j]!.push(performance.now() - t0);
      await rec.sync();
      wallMs[j]!.push(performance.now() - t0);
      cpuMs[j]!.push(cpuMsSince(cpu0));
      const after = rec.snapshot();
      counts[j]!.dispatches += after.dispatches - before.dispatches;
      counts[j]!.submits += after.submits - before.submits;
    });
  }
  const timings = runs.map((_, j) => ({
    ...plainTiming(wallMs[j]!),
    ...(gpuMs[j]!.length ? { gpuMs: median(gpuMs[j]!) } : {}),
    cpuMs: mean(cpuMs[j]!),
    recordMs: mean(recordMs[j]!),
    dispatches: counts[j]!.dispatches / wallIters,
    submits: counts[j]!.submits / wallIters,
  }));
  return { timings, records, memory, samples: { gpu: gpuMs, wall: wallMs, cpu: cpuMs } };
}

/** Pool bytes in use around one run of `run`. */
export async function peakMemory(run: () => void): Promise<PeakMemory> {
  const rec = recorder();
  await rec.sync();
  const base = rec.pool.snapshot().inUse;
  rec.pool.resetPeak();
  run();
  await rec.sync();
  const peak = rec.pool.snapshot().peakInUse;
  return { base, peak, step: peak - base };
}

/** a / b by GPU time, wall time and CPU time (NaN where either lacks one). */
export function ratios(a: Timing, b: Timing): { gpu: number; wall: number; cpu: number } {
  const r = (x: number | undefined, y: number | undefined) => (x && y ? x / y : NaN);
  return { gpu: r(a.gpuMs, b.gpuMs), wall: r(a.wallMs, b.wallMs), cpu: r(a.cpuMs, b.cpuMs) };
}

/**
 * Run a over run b of a side-by-side measurement as the median of the per-round ratios: rounds
 * share the machine's load of their moment, so pairing them cancels most of its drift.
 */
export function pairedRatios(sbs: SideBySide, a: number, b: number): { gpu: number; wall: number; cpu: number } {
  const r = (xs: number[][]) => (xs[a]!.length ? median(xs[a]!.map((x, i) => x / xs[b]![i]!)) : NaN);
  return { gpu: r(sbs.samples.gpu), wall: r(sbs.samples.wall), cpu: r(sbs.samples.cpu) };
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
  /** Dispatches per iteration. */
  dispatches?: number;
  /** Median host milliseconds to record and submit one iteration. */
  hostMs?: number;
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
  const head = ['case', 'impl', 'gpu ms', 'wall ms', 'IQR %', 'cpu ms', 'GFLOP/s', 'wall GFLOP/s', 'GB/s', 'disp/submit', 'notes'];
  const body = rows.map((r) => {
    const t = r.timing;
    const perSubmit = t.dispatches !== undefined && t.submits ? t.dispatches / t.submits : undefined;
    const notes = Object.entries(r.notes ?? {}).map(([k, v]) => `${k}=${typeof v === 'number' ? v.toFixed(2) : v}`).join(' ');
    return [r.case, r.impl, fmt(t.gpuMs), fmt(t.wallMs), fmt(t.iqrPct, 1), fmt(t.cpuMs), fmt(throughput(r).gflops), fmt(rate(r.flops, t.wallMs, 1e9)),
      fmt(throughput(r).gbps), fmt(perSubmit, 0), notes];
  });
  const widths = head.map((h, i) => Math.max(h.length, ...body.map((b) => b[i]!.length)));
  const line = (cells: string[]) => cells.map((c, i) => (i < 2 || i === cells.length - 1 ? c.padEnd(widths[i]!) : c.padStart(widths[i]!))).join('  ');
  process.stdout.write(`${line(head)}\n${widths.map((w) => '-'.repeat(w)).join('  ')}\n`);
  for (const b of body) process.stdout.write(`${line(b)}\n`);
  process.stdout.write(`${TABLE_LEGEND}\n`);
}

/** What each column of `printTable` is. */
export const TABLE_LEGEND = [
  'gpu ms: median over iterations of the summed timestamp-query durations of an iteration\'s dispatches;',
  'wall ms: median wall time of record + submit + wait; IQR %: interquartile range of the wall samples, % of wall ms',
  '(the JSON also keeps rmePct, the 95% margin of error of the MEAN); cpu ms: mean CPU time of this process;',
  'GFLOP/s, GB/s: from gpu ms when known, else wall ms; wall GFLOP/s: from wall ms; disp/submit: dispatches per queue.submit.',
].join('\n');

/**
 * Where results go by default: $BPT_BENCH_OUT, else bench-results/ at the repository root
 * (git-ignored), created if absent. bench/results/ is the committed record and is written only
 * when asked with --out.
 */
export function resultsDir(): string {
  let dir = process.env.BPT_BENCH_OUT;
  if (!dir) {
    // Bundled into dist/chunks or dist/bench; the repository root is where package.json lives.
    let root = dirname(fileURLToPath(import.meta.url));
    while (!existsSync(join(root, 'package.json')) && dirname(root) !== root) root = dirname(root);
    dir = join(root, 'bench-results');
  }
  mkdirSync(dir, { recursive: true });
  return dir;
}

/** Writes the trace of every profiled run, when --trace asked for one; returns its path. */
function writeTrace(suite: string): string | undefined {
  if (!outputs.trace) return undefined;
  mkdirSync(dirname(resolve(outputs.trace)), { recursive: true });
  writeChromeTrace(outputs.trace, traceLog.records.flat(), { process: `bench ${suite}`, gpuThread: 'GPU queue (profiled runs)', host: traceLog.host });
  return outputs.trace;
}

/**
 * Writes the results JSON (to --out, else <resultsDir>/<suite>-<date>.json) and, with --trace, the
 * trace; returns the results' path.
 */
export function writeResults(suite: string, rows: Row[], extra: Record<string, unknown> = {}): string {
  const date = new Date().toISOString().replace(/:/g, '-').replace(/\..*/, '');
  const path = outputs.out ?? join(resultsDir(), `${suite}-${date}.json`);
  mkdirSync(dirname(resolve(path)), { recursive: true });
  const trace = writeTrace(suite);
  if (trace) process.stdout.write(`trace of ${traceLog.host.length} profiled iteration(s): ${trace}\n`);
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
