// Where the GPU time of a step goes. Per kernel over the median iteration(s) of a timing, so that
// the kernels add up to its gpu ms column; and for a training step, one profiled forward-only run
// tells how many of the step's dispatches are its forward pass (the tape replays the same ops in
// the same order), so the step's records split into forward and backward, summed per kernel.
import type { KernelRecord } from '../../src/gpu/profiler.js';
import { gpuSumMs, medianRuns } from './harness.js';

/** An iteration's GPU time per kernel. */
export interface IterationBreakdown {
  /** Summed dispatch durations: the median over iterations, as the table's gpu ms. */
  gpuMs: number;
  /** First dispatch start to last dispatch end of the same iteration(s), gaps between dispatches included. */
  spanMs: number;
  /** Milliseconds per kernel in that iteration (slowest first); they add up to gpuMs. */
  kernels: Array<{ kernel: string; calls: number; ms: number }>;
}

/**
 * The breakdown of the median iteration of `runs` (the average of the two middle ones for an even
 * count, as the median is): from the same records as the gpu ms it explains, never from other runs.
 */
export function iterationBreakdown(runs: readonly KernelRecord[][]): IterationBreakdown {
  const mid = medianRuns(runs);
  const by = new Map<string, { kernel: string; calls: number; ms: number }>();
  let spanMs = 0;
  for (const run of mid) {
    let start = Infinity, end = -Infinity;
    for (const r of run) {
      let k = by.get(r.kernel);
      if (!k) by.set(r.kernel, (k = { kernel: r.kernel, calls: 0, ms: 0 }));
      k.calls += 1 / mid.length;
      k.ms += r.durationNs / 1e6 / mid.length;
      start = Math.min(start, r.startNs);
      end = Math.max(end, r.startNs + r.durationNs);
    }
    if (run.length) spanMs += (end - start) / 1e6 / mid.length;
  }
  return { gpuMs: mid.reduce((s, r) => s + gpuSumMs(r), 0) / mid.length, spanMs, kernels: [...by.values()].sort((a, b) => b.ms - a.ms) };
}

/** One kernel's share of a step. */
export interface KernelShare {
  kernel: string;
  forwardCalls: number;
  backwardCalls: number;
  forwardMs: number;
  backwardMs: number;
  totalMs: number;
}

/** A step's GPU time split into forward and backward, per kernel (slowest first). */
export interface KernelSplit {
  forwardDispatches: number;
  backwardDispatches: number;
  forwardMs: number;
  backwardMs: number;
  kernels: KernelShare[];
}

/**
 * Splits `step` (the records of one forward + backward + anything after it) at the dispatch count
 * of `forwardOnly` (the records of the same forward alone); throws if the step does not begin with
 * exactly the forward's kernels.
 */
export function kernelSplit(forwardOnly: readonly KernelRecord[], step: readonly KernelRecord[]): KernelSplit {
  const n = forwardOnly.length;
  const mismatch = forwardOnly.findIndex((r, i) => step[i]?.kernel !== r.kernel);
  if (mismatch >= 0) throw new Error(`kernelSplit: dispatch ${mismatch} of the step (${step[mismatch]?.label}) is not the forward's (${forwardOnly[mismatch]!.label})`);
  const by = new Map<string, KernelShare>();
  step.forEach((r, i) => {
    let s = by.get(r.kernel);
    if (!s) by.set(r.kernel, (s = { kernel: r.kernel, forwardCalls: 0, backwardCalls: 0, forwardMs: 0, backwardMs: 0, totalMs: 0 }));
    const ms = r.durationNs / 1e6;
    if (i < n) {
      s.forwardCalls++;
      s.forwardMs += ms;
    } else {
      s.backwardCalls++;
      s.backwardMs += ms;
    }
    s.totalMs += ms;
  });
  return {
    forwardDispatches: n,
    backwardDispatches: step.length - n,
    forwardMs: gpuSumMs(step.slice(0, n)),
    backwardMs: gpuSumMs(step.slice(n)),
    kernels: [...by.values()].sort((a, b) => b.totalMs - a.totalMs),
  };
}

/** Prints the `top` slowest kernels of a split, the rest as one line, and the totals. */
export function printKernelSplit(split: KernelSplit, top: number): void {
  const total = split.forwardMs + split.backwardMs;
  const head = ['kernel', 'calls f/b', 'fwd ms', 'bwd ms', 'total ms', '% step'];
  const line = (k: string, calls: string, f: number, b: number) =>
    [k, calls, f.toFixed(1), b.toFixed(1), (f + b).toFixed(1), ((100 * (f + b)) / total).toFixed(1)];
  const body = split.kernels.slice(0, top).map((s) => line(s.kernel, `${s.forwardCalls}/${s.backwardCalls}`, s.forwardMs, s.backwardMs));
  const rest = split.kernels.slice(top);
  if (rest.length) {
    const sum = (f: (s: KernelShare) => number) => rest.reduce((a, s) => a + f(s), 0);
    body.push(line(`(${rest.length} others)`, `${sum((s) => s.forwardCalls)}/${sum((s) => s.backwardCalls)}`, sum((s) => s.forwardMs), sum((s) => s.backwardMs)));
  }
  body.push(line('total', `${split.forwardDispatches}/${split.backwardDispatches}`, split.forwardMs, split.backwardMs));
  printAligned(head, body);
}

/** A table with the first column left-aligned and the others right-aligned. */
function printAligned(head: string[], body: string[][]): void {
  const widths = head.map((h, i) => Math.max(h.length, ...body.map((b) => b[i]!.length)));
  const fmt = (cells: string[]) => cells.map((c, i) => (i === 0 ? c.padEnd(widths[i]!) : c.padStart(widths[i]!))).join('  ');
  process.stdout.write(`${fmt(head)}\n${widths.map((w) => '-'.repeat(w)).join('  ')}\n`);
  for (const b of body) process.stdout.write(`${fmt(b)}\n`);
}

/** One kernel's GPU time in two steps. */
export interface KernelDiff {
  kernel: string;
  calls: [number, number];
  ms: [number, number];
}

/** Per-kernel GPU time of two steps (e.g. BPT's and prompt tuning's), largest difference first. */
export function compareKernels(a: readonly KernelRecord[], b: readonly KernelRecord[]): KernelDiff[] {
  const by = new Map<string, KernelDiff>();
  for (const [side, records] of [a, b].entries()) {
    for (const r of records) {
      let d = by.get(r.kernel);
      if (!d) by.set(r.kernel, (d = { kernel: r.kernel, calls: [0, 0], ms: [0, 0] }));
      d.calls[side]!++;
      d.ms[side]! += r.durationNs / 1e6;
    }
  }
  return [...by.values()].sort((x, y) => Math.abs(y.ms[0] - y.ms[1]) - Math.abs(x.ms[0] - x.ms[1]));
}

/** Prints the `top` kernels of a comparison whose times differ most, and the totals. */
export function printKernelDiff(diffs: readonly KernelDiff[], names: readonly [string, string], top: number): void {
  const head = ['kernel', `calls ${names[0]}/${names[1]}`, `${names[0]} ms`, `${names[1]} ms`, 'difference ms'];
  const line = (k: string, calls: string, a: number, b: number) => [k, calls, a.toFixed(1), b.toFixed(1), (a - b).toFixed(1)];
  const body = diffs.slice(0, top).map((d) => line(d.kernel, `${d.calls[0]}/${d.calls[1]}`, d.ms[0], d.ms[1]));
  const sum = (side: 0 | 1, f: (d: KernelDiff) => number[]) => diffs.reduce((s, d) => s + f(d)[side]!, 0);
  body.push(line('total', `${sum(0, (d) => d.calls)}/${sum(1, (d) => d.calls)}`, sum(0, (d) => d.ms), sum(1, (d) => d.ms)));
  printAligned(head, body);
}
