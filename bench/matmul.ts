// The matmul family (shaders/matmul.wgsl): every kernel variant of the engine, the variant the
// tuner picks, tfjs-webgpu's matMul on the same adapter and OpenBLAS through NumPy, on 1024^3 and
// the shapes T5 training runs at a BPT batch (8 sequences x 228 tokens, d_model 512, d_ff 2048),
// forward and backward. Each variant is first checked against test/ref/matmul.ts on the timed
// inputs (the float64 product takes seconds per shape; --quick runs the first two shapes).
// Then the epilogue: the projection with a fused residual and the feed-forward's input with a
// fused relu, against the product followed by the separate add or relu (GFLOP/s and dispatches;
// --quick runs the first).
//   node dist/bench/matmul.js [--quick] [--no-peers] [--trace=FILE] [--out=FILE]
import { gpu, initGpu } from '../src/gpu/device.js';
import { recorder } from '../src/gpu/recorder.js';
import { tuningEnabled } from '../src/gpu/tune.js';
import { add, relu } from '../src/ops/elementwise.js';
import { matmul, matmulChoice, matmulVariants, tuneMatmul, type MatmulOptions, type MatmulVariant } from '../src/ops/matmul.js';
import { tensor } from '../src/tensor/create.js';
import type { Tensor } from '../src/tensor/tensor.js';
import { keep, tidy } from '../src/tensor/scope.js';
import { UNARY64 } from '../test/ref/elementwise.js';
import { epilogue64, matmul64 } from '../test/ref/matmul.js';
import { suiteArgs } from './lib/args.js';
import { Family, read64 } from './lib/family.js';
import { timeOurs, type Timing, type TimingOptions } from './lib/harness.js';
import { numpyMatmul, tfjsPeer, timePeerStep } from './lib/peers.js';

const values = suiteArgs('matmul', { 'no-peers': { type: 'boolean', default: false, help: 'skip tfjs-webgpu and NumPy' } });

interface Shape {
  name: string;
  a: number[];
  b: number[];
  transA: boolean;
  transB: boolean;
}
const T = 8 * 228;
const SHAPES: Shape[] = [
  { name: '1024x1024x1024', a: [1024, 1024], b: [1024, 1024], transA: false, transB: false },
  { name: 'attn proj [1824,512]x[512,512]', a: [T, 512], b: [512, 512], transA: false, transB: false },
  { name: 'ff in [1824,512]x[512,2048]', a: [T, 512], b: [512, 2048], transA: false, transB: false },
  { name: 'ff in dX [1824,2048]x[512,2048]^T', a: [T, 2048], b: [512, 2048], transA: false, transB: true },
  { name: 'ff in dW [1824,512]^T x[1824,2048]', a: [T, 512], b: [T, 2048], transA: true, transB: false },
  { name: 'skinny [8,512]x[512,512]', a: [8, 512], b: [512, 512], transA: false, transB: false },
];
const shapes = values.quick ? SHAPES.slice(0, 2) : SHAPES;

await initGpu();
const report = gpu().report;
process.stdout.write(`adapter: ${report.description} (${report.vendor} ${report.architecture}), features: ${report.features.join(' ')}\n`);

const flopsOf = (s: Shape) => {
  const [ar, ac] = s.a.slice(-2) as [number, number];
  const [m, k] = s.transA ? [ac, ar] : [ar, ac];
  const n = s.transB ? s.b[s.b.length - 2]! : s.b[s.b.length - 1]!;
  return 2 * m * n * k;
};
const random = (n: number) => Float32Array.from({ length: n }, (_, i) => Math.sin(i * 0.618) * 0.5);
const numelOf = (shape: number[]) => shape.reduce((x, y) => x * y, 1);

/** Slow variants (shared-memory tiling on a CPU adapter) get fewer timed iterations. */
function optionsFor(firstMs: number): TimingOptions {
  if (firstMs > 400) return { warmup: 0, gpuIters: 3, minSamples: 3, maxTime: 1 };
  return values.quick ? { gpuIters: 3, minSamples: 5, maxTime: 1 } : { gpuIters: 5, minSamples: 5, maxTime: 2 };
}

const fam = new Family('matmul', values.quick);
const tfjs = values['no-peers'] ? { skipped: '--no-peers' } : await tfjsPeer();
if ('skipped' in tfjs) process.stdout.write(`tfjs-webgpu: skipped (${tfjs.skipped})\n`);
const numpy = values['no-peers']
  ? { skipped: '--no-peers' }
  : numpyMatmul(shapes.map((s) => ({ aShape: s.a, bShape: s.b, transA: s.transA, transB: s.transB })), { maxTime: values.quick ? 0.5 : 1.5 });
if ('skipped' in numpy) process.stdout.write(`numpy: skipped (${numpy.skipped})\n`);
else process.stdout.write(`numpy ${numpy.version} (${numpy.blas})\n`);

for (const [si, s] of shapes.entries()) {
  const flops = flopsOf(s);
  const opts = { transA: s.transA, transB: s.transB };
  const av = random(numelOf(s.a)), bv = random(numelOf(s.b));
  const a = keep(tensor(av, s.a));
  const b = keep(tensor(bv, s.b));
  const tuned = tuningEnabled() ? await tuneMatmul(s.a, s.b, opts) : null;
  const chosen = matmulChoice(s.a, s.b, opts);
  process.stdout.write(`${s.name}: ${tuned ? `tuner chose ${tuned.choice} (${tuned.clock})` : `heuristic chose ${chosen} (BPT_TUNE=0)`}\n`);
  const ours = new Map<MatmulVariant, Timing>();
  const want = matmul64(s, Float64Array.from(av), Float64Array.from(bv)).data;
  for (const variant of matmulVariants(s.a, s.b, opts)) {
    const run = () => tidy(() => void matmul(a, b, { ...opts, variant }));
    const ok = await fam.check(variant, s.name, async () => {
      const y = tidy(() => matmul(a, b, { ...opts, variant }));
      fam.expect(variant, await read64(y), want, { rtol: 2e-6, atol: 1e-6 });
      y.dispose();
    });
    if (!ok) continue;
    const t0 = performance.now();
    run();
    await recorder().sync();
    const timing = await timeOurs(run, optionsFor(performance.now() - t0));
    ours.set(variant, timing);
    fam.row({ case: s.name, impl: `ours:${variant}`, timing, flops, ...(variant === chosen ? { notes: { chosen: 'yes' } } : {}) });
  }
  a.dispose();
  b.dispose();
  const best = ours.get(chosen);
  if (!best) continue;
  const notes: Record<string, string | number> = {};
  if (!('skipped' in tfjs)) {
    const peer = tfjs.matmul(s.a, s.b, s.transA, s.transB);
    const timing = await timePeerStep(peer.step, values.quick ? { minSamples: 5, maxTime: 1 } : { minSamples: 5, maxTime: 2 });
    peer.dispose();
    fam.row({ case: s.name, impl: `tfjs-webgpu ${tfjs.version}`, timing, flops });
    notes.vs_tfjs = timing.wallMs / best.wallMs;
  }
  if (!('skipped' in numpy)) {
    const timing = numpy.timings[si]!;
    fam.row({ case: s.name, impl: 'numpy (OpenBLAS)', timing, flops });
    notes.vs_numpy = timing.wallMs / best.wallMs;
  }
  // Speed-ups of the chosen variant's wall time over the peers' wall times (same clock for all).
  fam.row({ case: s.name, impl: `ours (${chosen})`, timing: best, flops, notes });
}

/** The product with a fused epilogue, and the same as separate ops, on one of the shapes. */
interface EpilogueCase {
  shape: Shape;
  what: 'residual' | 'relu';
}
const EPILOGUES: EpilogueCase[] = [{ shape: SHAPES[1]!, what: 'residual' }, { shape: SHAPES[2]!, what: 'relu' }];

for (const { shape: s, what } of values.quick ? EPILOGUES.slice(0, 1) : EPILOGUES) {
  const name = `${s.name} + ${what}`;
  const av = random(numelOf(s.a)), bv = random(numelOf(s.b));
  const a = keep(tensor(av, s.a)), b = keep(tensor(bv, s.b));
  const n = s.transB ? s.b[0]! : s.b[1]!, m = s.transA ? s.a[1]! : s.a[0]!;
  const rv = random(m * n).map((v) => -v);
  const r = keep(tensor(rv, [m, n]));
  const opts: MatmulOptions = { transA: s.transA, transB: s.transB };
  const epi: MatmulOptions = what === 'residual' ? { residual: r } : { activation: 'relu' };
  const impls: Record<string, () => Tensor> = {
    fused: () => matmul(a, b, { ...opts, ...epi }),
    separate: () => (what === 'residual' ? add(matmul(a, b, opts), r) : relu(matmul(a, b, opts))),
  };
  const want = epilogue64(matmul64(s, Float64Array.from(av), Float64Array.from(bv)).data, n, what === 'residual' ? { residual: Float64Array.from(rv) } : { act: UNARY64.relu });
  for (const [impl, fn] of Object.entries(impls)) {
    const ok = await fam.check(impl, name, async () => {
      const y = tidy(fn);
      fam.expect(impl, await read64(y), want, { rtol: 2e-6, atol: 1e-6 });
      y.dispose();
    });
    if (!ok) continue;
    const run = () => tidy(() => void fn());
    const before = recorder().snapshot().dispatches;
    const t0 = performance.now();
    run();
    const dispatches = recorder().snapshot().dispatches - before;
    await recorder().sync();
    const timing = await timeOurs(run, optionsFor(performance.now() - t0));
    fam.row({ case: name, impl: `ours:${impl}`, timing, flops: flopsOf(s), notes: { dispatches } });
  }
  for (const t of [a, b, r]) t.dispose();
}

await fam.finish({
  tfjs: 'skipped' in tfjs ? tfjs : { version: tfjs.version, sameDevice: true },
  numpy: 'skipped' in numpy ? numpy : { version: numpy.version, blas: numpy.blas },
  tuning: tuningEnabled() ? 'on' : 'off (BPT_TUNE=0)',
});
