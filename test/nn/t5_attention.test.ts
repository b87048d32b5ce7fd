import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { valueAndGrad } from '../../src/autograd/grad.js';
import { gpu } from '../../src/gpu/device.js';
import { recorder } from '../../src/gpu/recorder.js';
import { readSafetensors } from '../../src/io/safetensors.js';
import { toInt32 } from '../../src/io/dtype.js';
import {
  relativePositionBucket,
  t5Attention,
  t5AttentionVariants,
  type T5AttentionBackward,
  type T5AttentionLayout,
  type T5AttentionOptions,
  type T5AttentionVariant,
} from '../../src/nn/t5/attention.js';
import { add, mul } from '../../src/ops/elementwise.js';
import { matmul } from '../../src/ops/matmul.js';
import { softmax } from '../../src/ops/softmax.js';
import { tensor } from '../../src/tensor/create.js';
import { keep, tidy } from '../../src/tensor/scope.js';
import type { Tensor } from '../../src/tensor/tensor.js';
import { swapHeads, t5Attention64, type AttentionCase, type AttentionData } from '../ref/t5_attention.js';
import { assertClose, randArray, randInt, rng } from '../util/check.js';
import { gradcheck, initGpu, read } from '../util/gpu.js';
import { sharedTest } from '../util/shared.js';
import { sum } from '../../src/ops/sum.js';
import { messageOf } from '../util/throws.js';

const t = suite('t5 attention');
// Head sizes: 1; odd sizes below and above a staged row's 16 invocations (partial column groups);
// 12 and 36, which the subgroup layout (vec4 rows) runs too; few distinct ones, since each
// compiles its own pipelines.
const DKS = [1, 7, 12, 13, 36, 37];
t.before(async () => void (await initGpu()));
// Every layout this adapter runs for a head size (the subgroup one needs the feature, a fixed
// subgroup size of at least 8 and dk a multiple of 4).
const variants = (c: AttentionCase) => t5AttentionVariants(c.dk);

/** Key masks of right-padded rows with the given real lengths. */
const lengthMask = (S: number, lengths: number[]) => Float64Array.from({ length: lengths.length * S }, (_, i) => (i % S < lengths[Math.floor(i / S)]! ? 1 : 0));

function randomCase(r: () => number): AttentionCase {
  const B = randInt(r, 1, 3), H = randInt(r, 1, 3), T = randInt(r, 1, 37), S = randInt(r, 1, 41);
  const dk = DKS[randInt(r, 0, DKS.length - 1)]!;
  const bidirectional = r() < 0.5;
  // Small bucket configurations put relative positions beyond maxDistance into these shapes.
  const numBuckets = [4, 8, 32][randInt(r, 0, 2)]!;
  const maxExact = (bidirectional ? numBuckets / 2 : numBuckets) / 2;
  const bias = r() < 0.8 ? { bidirectional, numBuckets, maxDistance: randInt(r, maxExact + 1, 40) } : null;
  const causal = r() < 0.4;
  const offset = r() < 0.3 ? randInt(r, 1, 60) : 0;
  let mask: Float64Array | null = null;
  if (r() < 0.6) {
    mask = new Float64Array(B * S);
    for (let b = 0; b < B; b++) {
      const len = randInt(r, 1, S);
      for (let s = 0; s < len; s++) mask[b * S + s] = r() < 0.85 ? 1 : 0;
    }
  }
  return { B, H, T, S, dk, bias, offset, causal, mask, maskI32: r() < 0.5 };
}

function randomData(r: () => number, c: AttentionCase): AttentionData {
  return {
    q: randArray(r, c.B * c.H * c.T * c.dk),
    k: randArray(r, c.B * c.H * c.S * c.dk),
    v: randArray(r, c.B * c.H * c.S * c.dk),
    table: randArray(r, (c.bias?.numBuckets ?? 0) * c.H, -2, 2),
    w: randArray(r, c.B * c.H * c.T * c.dk),
  };
}

function options(c: AttentionCase, table: Tensor | null, mask: Tensor | null, variant?: T5AttentionVariant, backward?: T5AttentionBackward, layout?: T5AttentionLayout): T5AttentionOptions {
  return {
    ...(c.bias && table ? { bias: { table, ...c.bias, queryOffset: c.offset } } : { queryOffset: c.offset }),
    ...(mask ? { keyMask: mask } : {}),
    causal: c.causal,
    ...(variant ? { variant } : {}),
    ...(backward ? { backward } : {}),
    ...(layout ? { layout } : {}),
  };
}

/** Every way of running the backward. */
const BACKWARDS: T5AttentionBackward[] = ['matmul', 'fused', 'recompute'];
const LAYOUTS: T5AttentionLayout[] = ['bhtd', 'bthd'];

/** Every (layout, backward) a kernel layout runs: the staged backward by matmuls reads heads first. */
const modes = (variant: T5AttentionVariant) =>
  LAYOUTS.flatMap((l) => BACKWARDS.filter((b) => !(variant === 'staged' && b === 'matmul' && l === 'bthd')).map((b) => [l, b] as const));

/**
 * The tensors of a [B, H, L, dk] array (in float64, heads first) in `layout`, and back: host data
 * for 'bthd' runs is the reference's with the middle axes swapped.
 */
const inLayout = (layout: T5AttentionLayout, x: ArrayLike<number>, [B, H, L, dk]: number[]) =>
  layout === 'bthd' ? tensor(swapHeads(x, B!, H!, L!, dk!), [B!, L!, H!, dk!]) : tensor(Float64Array.from(x), [B!, H!, L!, dk!]);
const headsFirst = (layout: T5AttentionLayout, x: Float64Array, [B, H, L, dk]: number[]) => (layout === 'bthd' ? swapHeads(x, B!, L!, H!, dk!) : x);

const describe = (c: AttentionCase, variant: string, backward?: T5AttentionBackward, layout?: T5AttentionLayout) =>
  `${variant}${backward ? ` ${backward}` : ''}${layout ? ` ${layout}` : ''} B${c.B} H${c.H} T${c.T} S${c.S} dk${c.dk} off${c.offset}${c.causal ? ' causal' : ''}` +
  `${c.bias ? ` ${c.bias.bidirectional ? 'bi' : 'uni'} ${c.bias.numBuckets}/${c.bias.maxDistance}` : ' nobias'}${c.mask ? (c.maskI32 ? ' mask-i32' : ' mask-f32') : ''}`;

const maskTensor = (c: AttentionCase) => (c.mask ? (c.maskI32 ? tensor(Int32Array.from(c.mask), [c.B, c.S]) : tensor(c.mask, [c.B, c.S])) : null);

/** Reads tensors back and disposes them. */
async function readAll(ts: Tensor[]): Promise<Float64Array[]> {
  const out = await Promise.all(ts.map(read));
  ts.forEach((x) => x.dispose());
  return out;
}

/**
 * Runs the op under valueAndGrad of sum(w * out); returns the output and the gradients, heads
 * first whatever the layout.
 */
async function gpuRun(c: AttentionCase, d: AttentionData, variant: T5AttentionVariant, backward: T5AttentionBackward, layout: T5AttentionLayout = 'bhtd') {
  const qs = [c.B, c.H, c.T, c.dk], ks = [c.B, c.H, c.S, c.dk];
  const res = tidy(() => {
    const q = inLayout(layout, d.q, qs);
    const k = inLayout(layout, d.k, ks);
    const v = inLayout(layout, d.v, ks);
    const table = c.bias ? tensor(d.table, [c.bias.numBuckets, c.H]) : null;
    const opts = options(c, table, maskTensor(c), variant, backward, layout);
    const w = inLayout(layout, d.w, qs);
    let out: Tensor | null = null;
    const wrt = table ? [q, k, v, table] : [q, k, v];
    const { grads } = valueAndGrad(() => {
      out = keep(t5Attention(q, k, v, opts));
      return sum(mul(out, w));
    }, wrt);
    return [out!, ...grads];
  });
  const [out, ...grads] = await readAll(res);
  const back = [qs, qs, ks, ks];
  return { out: headsFirst(layout, out!, qs), grads: grads.map((g, i) => (i < 3 ? headsFirst(layout, g, back[i + 1]!) : g)) };
}

sharedTest(t, 'relativePositionBucket matches Hugging Face for -200..200', ['fixtures', 't5-parity', 't5_v10_relu_tied', 'reference.safetensors'], (path) => {
  const f = readSafetensors(path, (n) => n.startsWith('buckets.'));
  const rel = toInt32(f.tensors.get('buckets.relative_position')!);
  const bi = toInt32(f.tensors.get('buckets.bidirectional')!);
  const uni = toInt32(f.tensors.get('buckets.unidirectional')!);
  assert.is(rel.length, 401);
  rel.forEach((r, i) => {
    assert.is(relativePositionBucket(r, true, 32, 128), bi[i], `bidirectional bucket of ${r}`);
    assert.is(relativePositionBucket(r, false, 32, 128), uni[i], `unidirectional bucket of ${r}`);
  });
});

t('buckets are constant beyond maxDistance (the kernel clamps relative positions there)', () => {
  for (const [nb, md] of [[32, 128], [8, 20], [4, 3], [64, 256]] as const) {
    for (const bi of [true, false]) {
      for (const sign of [-1, 1]) {
        const edge = relativePositionBucket(sign * md, bi, nb, md);
        for (const n of [md + 1, md + 7, 3 * md, 10000]) assert.is(relativePositionBucket(sign * n, bi, nb, md), edge, `nb ${nb} md ${md} rel ${sign * n}`);
      }
    }
  }
});

t('forward and gradients match float64 over random odd shapes, every variant and backward', async () => {
  const r = rng(1234);
  const cases = Array.from({ length: 10 }, () => randomCase(r));
  // A query that sees no key at all: causal with key 0 masked and no offset.
  cases.push({ B: 2, H: 2, T: 5, S: 6, dk: 8, bias: { bidirectional: false, numBuckets: 8, maxDistance: 6 }, offset: 0, causal: true, mask: Float64Array.from([0, 1, 1, 1, 0, 0, 1, 1, 1, 1, 1, 1]), maskI32: true });
  // T5's own bucket configuration with relative positions beyond maxDistance on both sides, and a
  // decoder step after 140 cached positions.
  cases.push({ B: 1, H: 2, T: 5, S: 150, dk: 12, bias: { bidirectional: true, numBuckets: 32, maxDistance: 128 }, offset: 0, causal: false, mask: null, maskI32: false });
  cases.push({ B: 2, H: 1, T: 3, S: 145, dk: 8, bias: { bidirectional: false, numBuckets: 32, maxDistance: 128 }, offset: 141, causal: true, mask: null, maskI32: false });
  // T5-small's and t5-base's head size.
  cases.push({ B: 1, H: 2, T: 21, S: 19, dk: 64, bias: { bidirectional: true, numBuckets: 32, maxDistance: 128 }, offset: 0, causal: false, mask: lengthMask(19, [17]), maskI32: false });
  for (const [n, c] of cases.entries()) {
    const d = randomData(r, c);
    const ref = t5Attention64(c, d);
    for (const variant of variants(c)) {
      // The ways of running the backward and the layouts take turns over the cases.
      const all = modes(variant);
      const [layout, backward] = all[n % all.length]!;
      const what = describe(c, variant, backward, layout);
      const { out, grads } = await gpuRun(c, d, variant, backward, layout);
      assertClose(out, ref.out, { rtol: 1e-5, atol: 1e-6, what: `out ${what}` });
      assertClose(grads[0]!, ref.dq, { rtol: 2e-5, atol: 1e-6, what: `dq ${what}` });
      assertClose(grads[1]!, ref.dk, { rtol: 2e-5, atol: 1e-6, what: `dk ${what}` });
      assertClose(grads[2]!, ref.dv, { rtol: 2e-5, atol: 1e-6, what: `dv ${what}` });
      // A bucket that holds whole rows of dS sums to 0 exactly (each row of dS does): float32
      // rounding is bounded by the summed magnitudes (here ~3 eps of them), not by the result.
      const mag = Math.max(...ref.dtableMag);
      if (c.bias) assertClose(grads[3]!, ref.dtable, { rtol: 2e-5, atol: 1e-6 + 4e-7 * mag, what: `dtable ${what}` });
    }
  }
});

t('one bias table shared by two calls accumulates both gradients', async () => {
  const r = rng(99);
  const c: AttentionCase = { B: 2, H: 3, T: 9, S: 9, dk: 8, bias: { bidirectional: true, numBuckets: 8, maxDistance: 6 }, offset: 0, causal: false, mask: null, maskI32: false };
  const d1 = randomData(r, c), d2 = { ...randomData(r, c), table: d1.table };
  const want = t5Attention64(c, d1).dtable.map((x, i) => x + t5Attention64(c, d2).dtable[i]!);
  for (const variant of variants(c)) {
    const g = tidy(() => {
      const table = tensor(d1.table, [8, 3]);
      const shape = [c.B, c.H, c.T, c.dk];
      const call = (d: AttentionData) => sum(mul(t5Attention(tensor(d.q, shape), tensor(d.k, shape), tensor(d.v, shape), options(c, table, null, variant)), tensor(d.w, shape)));
      return valueAndGrad(() => add(call(d1), call(d2)), [table]).grads[0]!;
    });
    assertClose((await readAll([g]))[0]!, want, { rtol: 2e-5, atol: 1e-6, what: `shared table ${variant}` });
  }
});

/** The additive score mask of a case, [B, H, T, S]: bias where a key is seen, -inf elsewhere. */
function scoreMask(c: AttentionCase, table: Float64Array): { mask: Float64Array; bucket: Int32Array } {
  const mask = new Float64Array(c.B * c.H * c.T * c.S);
  const bucket = new Int32Array(mask.length).fill(-1);
  for (let b = 0; b < c.B; b++) {
    for (let h = 0; h < c.H; h++) {
      for (let i = 0; i < c.T; i++) {
        for (let j = 0; j < c.S; j++) {
          const at = ((b * c.H + h) * c.T + i) * c.S + j;
          const qpos = c.offset + i;
          if ((c.causal && j > qpos) || (c.mask && c.mask[b * c.S + j] === 0)) {
            mask[at] = -Infinity;
            continue;
          }
          if (!c.bias) continue;
          bucket[at] = relativePositionBucket(j - qpos, c.bias.bidirectional, c.bias.numBuckets, c.bias.maxDistance);
          mask[at] = table[bucket[at]! * c.H + h]!;
        }
      }
    }
  }
  return { mask, bucket };
}

t('matches the composite of matmul and masked softmax, gradients included', async () => {
  const r = rng(77);
  const cases: AttentionCase[] = [
    { B: 2, H: 3, T: 19, S: 23, dk: 12, bias: { bidirectional: true, numBuckets: 8, maxDistance: 9 }, offset: 0, causal: false, mask: null, maskI32: false },
    { B: 3, H: 2, T: 11, S: 17, dk: 7, bias: { bidirectional: false, numBuckets: 16, maxDistance: 12 }, offset: 6, causal: true, mask: null, maskI32: false },
    { B: 2, H: 1, T: 9, S: 9, dk: 8, bias: null, offset: 0, causal: false, mask: null, maskI32: true },
  ];
  cases[0]!.mask = lengthMask(23, [23, 16]);
  cases[2]!.mask = lengthMask(9, [5, 6]);
  for (const c of cases) {
    const d = randomData(r, c);
    const { mask, bucket } = scoreMask(c, d.table);
    const qs = [c.B, c.H, c.T, c.dk], ks = [c.B, c.H, c.S, c.dk];
    const run = (fn: (q: Tensor, k: Tensor, v: Tensor, extra: Tensor | null) => Tensor, extra: () => Tensor | null, layout: T5AttentionLayout = 'bhtd') =>
      tidy(() => {
        const q = inLayout(layout, d.q, qs), k = inLayout(layout, d.k, ks), v = inLayout(layout, d.v, ks), e = extra();
        let out: Tensor | null = null;
        const { grads } = valueAndGrad(() => {
          out = keep(fn(q, k, v, e));
          return sum(mul(out, inLayout(layout, d.w, qs)));
        }, e ? [q, k, v, e] : [q, k, v]);
        return [out!, ...grads];
      });
    const composite = await readAll(
      run((q, k, v, m) => matmul(softmax(matmul(q, k, { transB: true }), { mask: m! }), v), () => tensor(mask, [c.B, c.H, c.T, c.S])),
    );
    // The table's gradient is the score mask's gradient summed over each bucket's entries.
    const dtable = new Float64Array(d.table.length);
    bucket.forEach((bk, at) => {
      if (bk >= 0) dtable[bk * c.H + (Math.floor(at / (c.T * c.S)) % c.H)] += composite[4]![at]!;
    });
    for (const [variant, layout, backward] of variants(c).flatMap((v) => modes(v).map(([l, b]) => [v, l, b] as const))) {
      const fused = await readAll(
        run((q, k, v, table) => t5Attention(q, k, v, options(c, table, maskTensor(c), variant, backward, layout)), () => (c.bias ? tensor(d.table, [c.bias.numBuckets, c.H]) : null), layout),
      );
      const what = describe(c, variant, backward, layout);
      ['out', 'dq', 'dk', 'dv'].forEach((name, i) => assertClose(headsFirst(layout, fused[i]!, i < 2 ? qs : ks), composite[i]!, { rtol: 2e-5, atol: 1e-6, what: `${name} ${what}` }));
      if (c.bias) assertClose(fused[4]!, dtable, { rtol: 2e-5, atol: 1e-6, what: `dtable ${what}` });
    }
  }
});

t('gradcheck: q, k, v and the bias table', async () => {
  const r = rng(5);
  const cases: AttentionCase[] = [
    { B: 2, H: 2, T: 7, S: 11, dk: 8, bias: { bidirectional: true, numBuckets: 8, maxDistance: 5 }, offset: 0, causal: false, mask: Float64Array.from([1, 1, 1, 1, 1, 1, 1, 1, 0, 0, 0, 1, 1, 1, 0, 1, 1, 1, 1, 1, 1, 1]), maskI32: false },
    { B: 1, H: 3, T: 6, S: 9, dk: 13, bias: { bidirectional: false, numBuckets: 8, maxDistance: 6 }, offset: 3, causal: true, mask: null, maskI32: false },
  ];
  for (const c of cases) {
    const d = randomData(r, c);
    for (const [variant, layout, backward] of variants(c).flatMap((v) => modes(v).map(([l, b]) => [v, l, b] as const))) {
      // Inputs in the layout's own shapes: a reshape of random data is random data.
      const [L1, L2] = layout === 'bthd' ? [[c.B, c.T, c.H, c.dk], [c.B, c.S, c.H, c.dk]] : [[c.B, c.H, c.T, c.dk], [c.B, c.H, c.S, c.dk]];
      await gradcheck(
        ([q, k, v, table]) => t5Attention(q!, k!, v!, options(c, table!, maskTensor(c), variant, backward, layout)),
        [
          { shape: L1!, data: d.q },
          { shape: L2!, data: d.k },
          { shape: L2!, data: d.v },
          { shape: [c.bias!.numBuckets, c.H], data: d.table },
        ],
        { eps: 1e-2, rtol: 1e-2 },
      );
    }
  }
});

t('a frozen bias table dispatches no bias-gradient kernels', async () => {
  const r = rng(17);
  const c: AttentionCase = { B: 2, H: 2, T: 6, S: 8, dk: 8, bias: { bidirectional: true, numBuckets: 8, maxDistance: 6 }, offset: 0, causal: false, mask: null, maskI32: false };
  const d = randomData(r, c);
  const count = (which: number[]) => {
    const before = recorder().snapshot().dispatches;
    tidy(() => {
      const xs = [tensor(d.q, [2, 2, 6, 8]), tensor(d.k, [2, 2, 8, 8]), tensor(d.v, [2, 2, 8, 8]), tensor(d.table, [8, 2])];
      const w = tensor(d.w, [2, 2, 6, 8]);
      valueAndGrad(() => sum(mul(t5Attention(xs[0]!, xs[1]!, xs[2]!, options(c, xs[3]!, null, undefined, 'recompute')), w)), which.map((i) => xs[i]!));
    });
    return recorder().snapshot().dispatches - before;
  };
  const onlyQ = count([0]);
  const qkv = count([0, 1, 2]);
  const all = count([0, 1, 2, 3]);
  // dk/dv is one kernel; the table adds its two reduction kernels and nothing else.
  assert.is(qkv - onlyQ, 1, 'q, k, v vs q only');
  assert.is(all - qkv, 2, 'with the table vs without');
  await recorder().sync();
});

t('each backward mode runs its own kernels; q alone needs only the dq kernel (fused, recompute)', async () => {
  const r = rng(23);
  const c: AttentionCase = { B: 2, H: 2, T: 9, S: 11, dk: 8, bias: { bidirectional: true, numBuckets: 8, maxDistance: 6 }, offset: 0, causal: false, mask: null, maskI32: false };
  const d = randomData(r, c);
  const kernels = async (which: number[], backward?: T5AttentionBackward) => {
    const rec = recorder();
    rec.profiler.start();
    tidy(() => {
      const xs = [tensor(d.q, [2, 2, 9, 8]), tensor(d.k, [2, 2, 11, 8]), tensor(d.v, [2, 2, 11, 8]), tensor(d.table, [8, 2])];
      valueAndGrad(() => sum(mul(t5Attention(xs[0]!, xs[1]!, xs[2]!, options(c, xs[3]!, null, undefined, backward)), tensor(d.w, [2, 2, 9, 8]))), which.map((i) => xs[i]!));
    });
    await rec.sync();
    rec.profiler.stop();
    const names = (await rec.profiler.collect()).map((k) => k.kernel.replace('t5_attention.', '').replace(/_sg$/, ''));
    return new Set(names.filter((k) => !/^(elementwise|reduce|fill|layout)\b/.test(k)));
  };
  const same = (got: Set<string>, want: string[], what: string) => assert.equal([...got].sort(), [...want].sort(), what);
  const table = ['bias_grad_diag', 'bias_grad_table'];
  same(await kernels([0, 1, 2], 'recompute'), ['forward', 'backward_prep', 'backward_dq', 'backward_dkdv'], 'recompute');
  same(await kernels([0, 1, 2, 3], 'recompute'), ['forward', 'backward_prep', 'backward_dq', 'backward_dkdv', ...table], 'recompute, table');
  // The matmul kernel variant depends on the adapter: compare without it.
  const attention = (ks: Set<string>) => new Set([...ks].filter((k) => !k.startsWith('matmul.')));
  const fused = await kernels([0, 1, 2], 'fused');
  same(fused, ['forward', 'backward_prep', 'backward_dkdv', 'backward_dq_ds'], 'fused: dq from the stored dS');
  same(await kernels([0, 1, 2, 3], 'fused'), ['forward', 'backward_prep', 'backward_dkdv', 'backward_dq_ds', ...table], 'fused, table');
  // The subgroup layout does the backward's products in its own kernels, the staged one by matmul.
  const viaMatmul = await kernels([0, 1, 2, 3], 'matmul');
  const subgroup = gpu().report.isSoftware && t5AttentionVariants(8).includes('subgroup');
  // The subgroup scores kernel does backward_prep's part itself.
  same(attention(viaMatmul), ['forward', 'backward_scores', ...(subgroup ? ['backward_dkdv_pds', 'backward_dq_ds'] : ['backward_prep']), 'bias_grad_rel', 'bias_grad_table'], 'matmul, table');
  assert.is(viaMatmul.size > attention(viaMatmul).size, !subgroup, 'matmul: products by matmul on the staged layout only');
  same(await kernels([0, 1, 2]), [...(gpu().report.isSoftware ? viaMatmul : fused)].filter((k) => !k.startsWith('bias_')), 'the default');
  for (const mode of ['fused', 'recompute'] as const) {
    same(await kernels([0], mode), ['forward', 'backward_prep', 'backward_dq'], `q alone, ${mode}`);
  }
});

t("'matmul' keeps the scores only when a gradient will need them", async () => {
  const r = rng(31);
  const c: AttentionCase = { B: 2, H: 2, T: 40, S: 48, dk: 8, bias: null, offset: 0, causal: false, mask: null, maskI32: false };
  const d = randomData(r, c);
  const pool = recorder().pool;
  const peak = (grad: boolean) => {
    const q = tensor(d.q, [2, 2, 40, 8]), k = tensor(d.k, [2, 2, 48, 8]), v = tensor(d.v, [2, 2, 48, 8]);
    pool.resetPeak();
    const before = pool.snapshot().inUse;
    tidy(() => {
      const attend = () => sum(t5Attention(q, k, v, { backward: 'matmul' }));
      if (grad) valueAndGrad(attend, [q]);
      else attend();
    });
    const grew = pool.snapshot().peakInUse - before;
    [q, k, v].forEach((x) => x.dispose());
    return grew;
  };
  const scoresBytes = 2 * 2 * 40 * 48 * 4;
  assert.ok(peak(false) < scoresBytes, `forward alone grew the pool by ${peak(false)} bytes`);
  assert.ok(peak(true) >= 3 * scoresBytes, `with a gradient the pool grew by only ${peak(true)} bytes`);
  await recorder().sync();
});

t('errors name the op and the shapes', () => {
  const q = () => tensor(new Float32Array(2 * 3 * 4 * 5), [2, 3, 4, 5]);
  const k = () => tensor(new Float32Array(2 * 3 * 6 * 5), [2, 3, 6, 5]);
  assert.match(messageOf(() => t5Attention(q(), tensor(new Float32Array(2 * 3 * 6 * 4), [2, 3, 6, 4]), k())), /t5Attention: k has shape \[2,3,6,4\], expected \[2,3,6,5\]/);
  assert.match(messageOf(() => t5Attention(q(), k(), k(), { keyMask: tensor(new Float32Array(6), [1, 6]) })), /t5Attention: keyMask has shape \[1,6\], expected \[2,6\]/);
  const table = () => tensor(new Float32Array(32 * 2), [32, 2]);
  assert.match(messageOf(() => t5Attention(q(), k(), k(), { bias: { table: table(), bidirectional: true, numBuckets: 32, maxDistance: 128 } })), /bias table has shape \[32,2\], expected \[32,3\]/);
  assert.match(messageOf(() => t5Attention(q(), k(), k(), { bias: { table: table(), bidirectional: true, numBuckets: 32, maxDistance: 8 } })), /maxDistance 8/);
  assert.match(messageOf(() => t5Attention(q(), k(), k(), { queryOffset: -1 })), /queryOffset must be a non-negative integer/);
  // Tokens first: q [B, T, H, dk], k [B, S, H, dk].
  assert.match(messageOf(() => t5Attention(q(), k(), k(), { layout: 'bthd' })), /t5Attention: k has shape \[2,3,6,5\], expected \[2,3,4,5\]/);
  const tq = tensor(new Float32Array(2 * 4 * 3 * 8), [2, 4, 3, 8]);
  const tk = tensor(new Float32Array(2 * 6 * 3 * 8), [2, 6, 3, 8]);
  assert.match(messageOf(() => valueAndGrad(() => sum(t5Attention(tq, tk, tk, { layout: 'bthd', variant: 'staged', backward: 'matmul' })), [tq])), /backward 'matmul' on the staged kernels needs layout 'bhtd'/);
});

t.run();
