// GPU time of one SVGD direction (squared distances, median bandwidth + K, phi) for BPT's default
// shape, M = 5 particles of a 100 x 768 prompt (T5-base), alone, with the kernel diagnostics
// (kernelStats) and with the SVGD code's RMSProp update; per-kernel medians. GB/s counts the
// compulsory traffic over [M, D]: the direction reads x once for the distances, x and the scores for
// phi and writes phi (16 M D bytes); kernelStats reads x and the scores again (+8 M D); the update
// reads phi and reads and writes theta and its history (+20 M D).
//   node dist/bench/svgd.js [--m 5] [--d 76800] [--iters 50] [--quick]
import { parseArgs } from 'node:util';
import { SvgdRmsprop } from '../src/bayes/rmsprop.js';
import { kernelStats, svgdDirection } from '../src/bayes/svgd.js';
import { gpu, initGpu, shutdownGpu } from '../src/gpu/device.js';
import { summarize } from '../src/gpu/profiler.js';
import { tensor } from '../src/tensor/create.js';
import { tidy } from '../src/tensor/scope.js';
import { gpuSumMs, perIteration, printTable, profileRuns, timeOurs, writeResults, type Row } from './lib/harness.js';

const { values } = parseArgs({
  options: {
    m: { type: 'string', default: '5' },
    d: { type: 'string', default: '76800' },
    iters: { type: 'string', default: '50' },
    quick: { type: 'boolean', default: false },
  },
});
const M = Number(values.m), D = Number(values.d), ITERS = values.quick ? 10 : Number(values.iters);

await initGpu();
process.stdout.write(`adapter: ${gpu().report.description}\nSVGD, M = ${M}, D = ${D}, ${ITERS} timed iterations\n`);

const x = tensor(Float32Array.from({ length: M * D }, (_, i) => Math.sin(i * 0.37 + (i % 7))), [M, D]);
const s = tensor(Float32Array.from({ length: M * D }, (_, i) => Math.cos(i * 0.11)), [M, D]);
const theta = tensor(new Float32Array(M * D), [M, D]);
const opt = new SvgdRmsprop({ stepSize: 1e-3 });
const md = M * D * 4;

const cases: Array<{ name: string; run: () => void; bytes: number }> = [
  { name: 'direction', run: () => tidy(() => void svgdDirection(x, s)), bytes: 4 * md },
  { name: 'direction + kernelStats', run: () => tidy(() => void kernelStats(x, s, svgdDirection(x, s))), bytes: 6 * md },
  { name: 'direction + SvgdRmsprop update', run: () => tidy(() => opt.step(theta, svgdDirection(theta, s).phi)), bytes: 9 * md },
];

const median = (xs: number[]): number => [...xs].sort((a, b) => a - b)[xs.length >> 1]!;
const rows: Row[] = [];
const kernels: Record<string, Record<string, number>> = {};
for (const c of cases) {
  const timing = await timeOurs(c.run, { warmup: 5, gpuIters: ITERS, minSamples: 20, maxTime: values.quick ? 0.5 : 2 });
  const notes: Record<string, number> = {};
  if (gpu().hasTimestamps) {
    // Per-kernel medians, and first start to last end (gaps between dispatches included).
    const runs = perIteration(await profileRuns(c.run, ITERS), ITERS);
    notes.span_us = median(runs.map((r) => (r[r.length - 1]!.startNs + r[r.length - 1]!.durationNs - r[0]!.startNs) / 1e3));
    notes.busy_us = median(runs.map(gpuSumMs)) * 1e3;
    for (const k of summarize(runs.flat())) notes[`${k.kernel}_us`] = k.medianUs;
  }
  kernels[c.name] = notes;
  rows.push({ case: `M ${M}, D ${D}`, impl: `ours: ${c.name}`, timing, bytes: c.bytes });
}
printTable(rows);
for (const [name, notes] of Object.entries(kernels)) {
  process.stdout.write(`${name}:\n`);
  for (const [k, v] of Object.entries(notes)) process.stdout.write(`  ${k.padEnd(28)} ${v.toFixed(1)}\n`);
}
const path = writeResults('svgd', rows, { m: M, d: D, kernels });
process.stdout.write(`\nwrote ${path}\n`);
opt.dispose();
for (const t of [x, s, theta]) t.dispose();
await shutdownGpu();
