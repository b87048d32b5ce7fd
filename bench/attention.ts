// GPU time of T5's fused attention at T5-small's head size on a BPT-sized batch: B = 8, H = 8,
// T = S = 228 (100 prompt + 128 tokens), dk = 64, encoder-style (bidirectional bias, key padding
// mask). Forward alone, and forward + backward for q, k, v (prompt tuning: frozen bias table) and
// with the table's gradient too, for each kernel layout this adapter can run (or the one named)
// and each way of running the backward (matmul, fused, recompute: see T5AttentionBackward).
// Timestamp queries from the engine's profiler.
//   node dist/bench/attention.js [--variant staged|subgroup] [--iters 10] [--b 8] [--h 8] [--t 228] [--dk 64]
import { parseArgs } from 'node:util';
import { valueAndGrad } from '../src/autograd/grad.js';
import { gpu, initGpu, shutdownGpu } from '../src/gpu/device.js';
import { summarize } from '../src/gpu/profiler.js';
import { recorder } from '../src/gpu/recorder.js';
import { t5Attention, t5AttentionVariants, type T5AttentionBackward, type T5AttentionVariant } from '../src/nn/t5/attention.js';
import { mul } from '../src/ops/elementwise.js';
import { tensor } from '../src/tensor/create.js';
import { tidy } from '../src/tensor/scope.js';
import type { Tensor } from '../src/tensor/tensor.js';
import { sum } from '../src/ops/sum.js';

const { values } = parseArgs({
  options: {
    variant: { type: 'string' },
    iters: { type: 'string', default: '10' },
    b: { type: 'string', default: '8' },
    h: { type: 'string', default: '8' },
    t: { type: 'string', default: '228' },
    dk: { type: 'string', default: '64' },
  },
});
const B = Number(values.b), H = Number(values.h), T = Number(values.t), DK = Number(values.dk), ITERS = Number(values.iters);

await initGpu();
const rec = recorder();
const variants: T5AttentionVariant[] = values.variant ? [values.variant as T5AttentionVariant] : t5AttentionVariants(DK);
process.stdout.write(`adapter: ${gpu().report.description}\nt5Attention: B ${B}, H ${H}, T = S = ${T}, dk ${DK}, ${ITERS} iterations\n`);

const data = (n: number, phase: number) => Float32Array.from({ length: n }, (_, i) => Math.sin(i * 0.37 + phase) * 0.5);
const shape = [B, H, T, DK];
const q = tensor(data(B * H * T * DK, 0), shape);
const k = tensor(data(B * H * T * DK, 1), shape);
const v = tensor(data(B * H * T * DK, 2), shape);
const w = tensor(data(B * H * T * DK, 3), shape);
const table = tensor(data(32 * H, 4), [32, H]);
const mask = tensor(Int32Array.from({ length: B * T }, (_, i) => (i % T < T - (i / T) * 9 ? 1 : 0)), [B, T], 'i32');
const attend = (variant: T5AttentionVariant, backward?: T5AttentionBackward) =>
  t5Attention(q, k, v, { bias: { table, bidirectional: true, numBuckets: 32, maxDistance: 128 }, keyMask: mask, variant, ...(backward ? { backward } : {}) });
const median = (xs: number[]): number => [...xs].sort((a, b) => a - b)[xs.length >> 1]!;

/** Median over iterations of the summed GPU time of the attention's kernels (its matmuls included, the loss ops excluded). */
async function gpuMs(name: string, step: () => void): Promise<void> {
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
  process.stdout.write(`${name}: median ${median(totals).toFixed(3)} ms GPU\n`);
  for (const s of summarize(records)) process.stdout.write(`  ${s.kernel.padEnd(32)} median ${(s.medianUs / 1000).toFixed(3)} ms\n`);
}

const grads = (variant: T5AttentionVariant, backward: T5AttentionBackward, wrt: Tensor[]) => () => tidy(() => void valueAndGrad(() => sum(mul(attend(variant, backward), w)), wrt));
if (!gpu().hasTimestamps) process.stdout.write('no timestamp-query feature: GPU times unavailable\n');
else {
  for (const variant of variants) {
    await gpuMs(`${variant} forward`, () => tidy(() => void attend(variant)));
    for (const backward of ['matmul', 'fused', 'recompute'] as const) {
      await gpuMs(`${variant} forward + backward (q, k, v), ${backward}`, grads(variant, backward, [q, k, v]));
      await gpuMs(`${variant} forward + backward (q, k, v, table), ${backward}`, grads(variant, backward, [q, k, v, table]));
    }
  }
}
for (const t of [q, k, v, w, table, mask]) t.dispose();
await shutdownGpu();
