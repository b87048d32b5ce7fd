// The t5_attention family (shaders/t5_attention.wgsl) at T5-small's head size on a BPT-sized
// batch: B = 8, H = 8, T = S = 228 (100 prompt + 128 tokens), dk = 64, encoder-style
// (bidirectional bias, key padding mask). Forward alone, and forward + backward for q, k, v
// (prompt tuning: frozen bias table) and with the table's gradient too, for each kernel layout
// this adapter can run (or the one named) and each way of running the backward (matmul, fused,
// recompute: see T5AttentionBackward). Each is first checked against test/ref/t5_attention.ts on
// the timed inputs (out, dq, dk, dv and the table's gradient). Timed with the family harness (the
// loss ops included), then by GPU timestamps of the attention's own kernels (its matmuls
// included, the loss ops excluded), per kernel. GFLOP/s counts the score-sized products: 4 B H T
// S dk for the forward, 8 more for a backward.
//   node dist/bench/t5_attention.js [--quick] [--variant staged|subgroup] [--iters 10] [--b 8] [--h 8] [--t 228] [--dk 64] [--trace=FILE] [--out=FILE]
import { valueAndGrad } from '../src/autograd/grad.js';
import { gpu } from '../src/gpu/device.js';
import { summarize } from '../src/gpu/profiler.js';
import { recorder } from '../src/gpu/recorder.js';
import { t5Attention, t5AttentionVariants, type T5AttentionBackward, type T5AttentionVariant } from '../src/nn/t5/attention.js';
import { mul } from '../src/ops/elementwise.js';
import { sum } from '../src/ops/sum.js';
import { tensor } from '../src/tensor/create.js';
import { keep, tidy } from '../src/tensor/scope.js';
import type { Tensor } from '../src/tensor/tensor.js';
import { randF32, rng } from '../test/ref/data.js';
import { t5Attention64, type AttentionCase, type AttentionData } from '../test/ref/t5_attention.js';
import { numberFlag, suiteArgs } from './lib/args.js';
import { Family, read64 } from './lib/family.js';

const args = suiteArgs('t5_attention', {
  variant: { type: 'string', arg: 'NAME', help: 'staged or subgroup (default: every layout this adapter runs)' },
  iters: { type: 'string', help: 'timed iterations (default 10, 3 with --quick)' },
  b: { type: 'string', help: 'batch (default 8, 2 with --quick)' },
  h: { type: 'string', help: 'heads (default 8, 2 with --quick)' },
  t: { type: 'string', help: 'tokens, T = S (default 228, 57 with --quick)' },
  dk: { type: 'string', help: 'head size (default 64)' },
});
const B = numberFlag('b', args.b, args.quick ? 2 : 8), H = numberFlag('h', args.h, args.quick ? 2 : 8), T = numberFlag('t', args.t, args.quick ? 57 : 228);
const DK = numberFlag('dk', args.dk, 64), ITERS = numberFlag('iters', args.iters, args.quick ? 3 : 10);
const fam = new Family('t5_attention', args.quick);
await fam.start(`B ${B}, H ${H}, T = S = ${T}, dk ${DK}, ${ITERS} iterations`);
const rec = recorder();
const variants: T5AttentionVariant[] = args.variant ? [args.variant as T5AttentionVariant] : t5AttentionVariants(DK);

const r = rng(7);
const bias = { bidirectional: true, numBuckets: 32, maxDistance: 128 };
const mask = Float64Array.from({ length: B * T }, (_, i) => (i % T < T - (i / T) * 9 ? 1 : 0));
const c: AttentionCase = { B, H, T, S: T, dk: DK, bias, offset: 0, causal: false, mask, maskI32: true };
const n = B * H * T * DK;
const d: AttentionData = { q: randF32(r, n), k: randF32(r, n), v: randF32(r, n), table: randF32(r, 32 * H, -2, 2), w: randF32(r, n) };
process.stdout.write('float64 reference... ');
const want = t5Attention64(c, d);
process.stdout.write('done\n');
const shape = [B, H, T, DK];
const [q, k, v, w] = [d.q, d.k, d.v, d.w].map((x) => keep(tensor(x, shape))) as [Tensor, Tensor, Tensor, Tensor];
const table = keep(tensor(d.table, [32, H]));
const maskT = keep(tensor(Int32Array.from(mask), [B, T], 'i32'));
const attend = (variant: T5AttentionVariant, backward?: T5AttentionBackward) =>
  t5Attention(q, k, v, { bias: { table, ...bias }, keyMask: maskT, variant, ...(backward ? { backward } : {}) });
const median = (xs: number[]): number => [...xs].sort((a, b) => a - b)[xs.length >> 1]!;

/** Median over iterations of the summed GPU time of the attention's kernels (its matmuls included, the loss ops excluded). */
async function attentionGpuMs(name: string, step: () => void): Promise<number> {
  step();
  await rec.sync();
  rec.profiler.start();
  for (let i = 0; i < ITERS; i++) {
    step();
    await rec.sync();
  }
  rec.profiler.stop();
  const records = (await rec.profiler.collect()).filter((r) => !r.kernel.startsWith('elementwise') && !r.kernel.startsWith('reduce') && !r.kernel.startsWith('fill'));
  const perIter = records.length / ITERS;
  const totals: number[] = [];
  for (let i = 0; i < records.length; i += perIter) totals.push(records.slice(i, i + perIter).reduce((a, r) => a + r.durationNs, 0) / 1e6);
  process.stdout.write(`${name}: attention kernels median ${median(totals).toFixed(3)} ms GPU\n`);
  for (const s of summarize(records)) process.stdout.write(`  ${s.kernel.padEnd(32)} median ${(s.medianUs / 1000).toFixed(3)} ms\n`);
  return median(totals);
}

const scoreFlops = 2 * B * H * T * T * DK;
const GRAD_TOL = { rtol: 2e-5, atol: 1e-6 };
// A bucket that holds whole rows of dS sums to 0 exactly: float32 rounding is bounded by the
// summed magnitudes, not by the result (as in the test).
const TABLE_TOL = { rtol: 2e-5, atol: 1e-6 + 4e-7 * Math.max(...want.dtableMag) };
const attentionOnly: Record<string, number> = {};
const timingOpts = { warmup: 1, gpuIters: ITERS, minSamples: 3, maxTime: args.quick ? 0.3 : 2 };

async function measure(variant: string, run: () => Tensor[], expected: Array<[string, Float64Array, { rtol: number; atol: number }]>, flops: number) {
  const measured = await fam.add({
    case: `[${shape}]`, variant, flops,
    run: () => tidy(() => void run()),
    check: async () => {
      const got = tidy(run);
      for (const [i, [what, ref, tol]] of expected.entries()) fam.expect(what, await read64(got[i]!), ref, tol);
      got.forEach((t) => t.dispose());
    },
  }, timingOpts);
  if (measured && gpu().hasTimestamps) attentionOnly[variant] = await attentionGpuMs(variant, () => tidy(() => void run()));
}

for (const variant of variants) {
  await measure(`${variant} forward`, () => [attend(variant)], [['out', want.out, { rtol: 1e-5, atol: 1e-6 }]], 2 * scoreFlops);
  for (const backward of ['matmul', 'fused', 'recompute'] as const) {
    const grads = (wrt: Tensor[]) => () => valueAndGrad(() => sum(mul(attend(variant, backward), w)), wrt).grads;
    const qkv: Array<[string, Float64Array, typeof GRAD_TOL]> = [['dq', want.dq, GRAD_TOL], ['dk', want.dk, GRAD_TOL], ['dv', want.dv, GRAD_TOL]];
    await measure(`${variant} forward + backward (q, k, v), ${backward}`, grads([q, k, v]), qkv, 6 * scoreFlops);
    await measure(`${variant} forward + backward (q, k, v, table), ${backward}`, grads([q, k, v, table]), [...qkv, ['dtable', want.dtable, TABLE_TOL]], 6 * scoreFlops);
  }
}
for (const t of [q, k, v, w, table, maskT]) t.dispose();
await fam.finish({ b: B, h: H, t: T, dk: DK, iters: ITERS, attentionOnlyGpuMs: attentionOnly });
