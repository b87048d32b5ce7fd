// The rbf_svgd family (shaders/rbf_svgd.wgsl) for BPT's default shape, M = 5 particles of a
// 100 x 768 prompt (T5-base): one SVGD direction (sqdist_partial, bandwidth with the median
// heuristic, svgd_phi), the same with a fixed bandwidth (MEDIAN off), with the kernel diagnostics
// (svgd_stats, stats_finish) and with the SVGD code's RMSProp update (rmsprop); per-kernel
// times. Each is first checked against test/ref/rbf_svgd.ts on the timed inputs (h, K, phi, the
// diagnostics, the updated particles) with the SVGD fixtures' tolerances. GB/s counts the
// compulsory traffic over [M, D]: the direction reads x once for the distances, x and the scores
// for phi and writes phi (16 M D bytes); kernelStats reads x and the scores again (+8 M D); the
// update reads phi and reads and writes theta and its history (+20 M D). The per-kernel breakdown
// is of the median timed iteration, so its kernels add up to the gpu ms column (busy_us).
//   node dist/bench/rbf_svgd.js [--m=5] [--d=76800] [--iters=50] [--quick] [--trace=FILE] [--out=FILE]
import { readBandwidth } from '../src/bayes/rbf.js';
import { SvgdRmsprop } from '../src/bayes/rmsprop.js';
import { kernelStats, readKernelStats, svgdDirection } from '../src/bayes/svgd.js';
import { gpu } from '../src/gpu/device.js';
import { tensor } from '../src/tensor/create.js';
import { tidy } from '../src/tensor/scope.js';
import { svgd64, svgdRmsprop64 } from '../test/ref/rbf_svgd.js';
import { numberFlag, suiteArgs } from './lib/args.js';
import { Family, read64 } from './lib/family.js';
import { iterationBreakdown } from './lib/breakdown.js';

const args = suiteArgs('rbf_svgd', {
  m: { type: 'string', help: 'particles (default 5)' },
  d: { type: 'string', help: 'particle size (default 76800)' },
  iters: { type: 'string', help: 'timed iterations (default 50, 10 with --quick)' },
});
const M = numberFlag('m', args.m, 5), D = numberFlag('d', args.d, 76800), ITERS = numberFlag('iters', args.iters, args.quick ? 10 : 50);
const fam = new Family('rbf_svgd', args.quick);
await fam.start(`M = ${M}, D = ${D}, ${ITERS} timed iterations`);

const xv = Float32Array.from({ length: M * D }, (_, i) => Math.sin(i * 0.37 + (i % 7)));
const sv = Float32Array.from({ length: M * D }, (_, i) => Math.cos(i * 0.11));
const x = tensor(xv, [M, D]);
const s = tensor(sv, [M, D]);
const theta = tensor(new Float32Array(M * D), [M, D]);
const opt = new SvgdRmsprop({ stepSize: 1e-3 });
const md = M * D * 4;
const FIXED_H = 10;
const want = svgd64(Float64Array.from(xv), Float64Array.from(sv), M, D);
const wantFixed = svgd64(Float64Array.from(xv), Float64Array.from(sv), M, D, FIXED_H);
// The SVGD fixtures' float32 criteria: h relative, K absolute, phi relative to max|phi|.
const TOL = { h: { rtol: 1e-5, atol: 0 }, K: { rtol: 0, atol: 1e-5 }, phi: { rtol: 1e-4, atol: 0 } };

/** h, K and phi of one direction against the reference. */
async function checkDirection(ref: ReturnType<typeof svgd64>, bandwidth?: number): Promise<void> {
  const got = tidy(() => svgdDirection(x, s, bandwidth === undefined ? {} : { bandwidth }));
  fam.expect('h', [await readBandwidth(got)], [ref.h], TOL.h);
  fam.expect('K', await read64(got.K), ref.K, TOL.K);
  fam.expect('phi', await read64(got.phi), ref.phi, TOL.phi);
  for (const t of Object.values(got)) t.dispose();
}

const cases: Array<{ name: string; run: () => void; bytes: number; check: () => Promise<void> }> = [
  { name: 'direction', run: () => tidy(() => void svgdDirection(x, s)), bytes: 4 * md, check: () => checkDirection(want) },
  { name: 'direction, fixed bandwidth', run: () => tidy(() => void svgdDirection(x, s, { bandwidth: FIXED_H })), bytes: 4 * md, check: () => checkDirection(wantFixed, FIXED_H) },
  {
    name: 'direction + kernelStats', run: () => tidy(() => void kernelStats(x, s, svgdDirection(x, s))), bytes: 6 * md,
    check: async () => {
      const stats = tidy(() => kernelStats(x, s, svgdDirection(x, s)));
      const got = await readKernelStats(stats);
      stats.dispose();
      fam.expect('mean off-diagonal K', [got.meanOffDiagonalK], [want.meanOffDiagonalK], TOL.K);
      fam.expect('attraction, repulsion', [got.attraction, got.repulsion], [want.attraction, want.repulsion], { rtol: 1e-5, atol: 0 });
    },
  },
  {
    name: 'direction + SvgdRmsprop update', run: () => tidy(() => opt.step(theta, svgdDirection(theta, s).phi)), bytes: 9 * md,
    // The update alone, on the reference's phi (rounded to f32), from fresh particles and history.
    check: async () => {
      const phi = want.phi.map(Math.fround);
      const [p, pt, fresh] = [tensor(xv, [M, D]), tensor(phi, [M, D]), new SvgdRmsprop({ stepSize: 1e-3 })];
      fresh.step(p, pt);
      const th = Float64Array.from(xv);
      svgdRmsprop64(th, new Float64Array(M * D), phi, 0, 1e-3);
      fam.expect('theta', await read64(p), th, { rtol: 1e-6, atol: 0 });
      fresh.dispose();
      for (const t of [p, pt]) t.dispose();
    },
  },
];

const kernels: Record<string, Record<string, number>> = {};
for (const c of cases) {
  const measured = await fam.add({ case: `M ${M}, D ${D}`, variant: c.name, run: c.run, bytes: c.bytes, check: c.check },
    { warmup: 5, gpuIters: ITERS, minSamples: 20, maxTime: args.quick ? 0.5 : 2 });
  if (!measured || !gpu().hasTimestamps) continue;
  // The median iteration of the very runs the gpu ms column is the median of: busy_us is that
  // column, the kernels add up to it; span_us adds the gaps between dispatches.
  const b = iterationBreakdown(measured.runs);
  const notes: Record<string, number> = { busy_us: b.gpuMs * 1e3, span_us: b.spanMs * 1e3 };
  for (const k of b.kernels) notes[`${k.kernel}_us`] = k.ms * 1e3;
  kernels[c.name] = notes;
}
for (const [name, notes] of Object.entries(kernels)) {
  process.stdout.write(`${name}:\n`);
  for (const [k, v] of Object.entries(notes)) process.stdout.write(`  ${k.padEnd(28)} ${v.toFixed(1)}\n`);
}
opt.dispose();
for (const t of [x, s, theta]) t.dispose();
await fam.finish({ m: M, d: D, kernels });
