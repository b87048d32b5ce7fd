// The matmul epilogue (bias, residual, activation, out, accumulate) in every variant, its VJPs,
// and its refusals. The products themselves are tested in matmul.test.ts.
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { valueAndGrad } from '../../src/autograd/grad.js';
import { noGrad } from '../../src/autograd/tape.js';
import { recorder } from '../../src/gpu/recorder.js';
import { add, mul, relu, type GateActivation } from '../../src/ops/elementwise.js';
import { MATMUL_VARIANTS, matmul, matmulVariants, type MatmulOptions } from '../../src/ops/matmul.js';
import { sum } from '../../src/ops/sum.js';
import { Arena } from '../../src/tensor/arena.js';
import { tensor } from '../../src/tensor/create.js';
import { tidy } from '../../src/tensor/scope.js';
import type { Tensor } from '../../src/tensor/tensor.js';
import { UNARY64 } from '../ref/elementwise.js';
import { epilogue64, matmul64, type Epilogue64, type MatmulCase } from '../ref/matmul.js';
import { assertClose, assertSpecialsMatch, numel, randArray, rng } from '../util/check.js';
import { dispatches, gradcheck, initGpu, read } from '../util/gpu.js';
import { messageOf } from '../util/throws.js';

const t = suite('matmul epilogue');
t.before(async () => void (await initGpu()));

function makeCase(m: number, k: number, n: number, transA: boolean, transB: boolean, aBatch: number[] = [], bBatch: number[] = []): MatmulCase {
  return { a: [...aBatch, ...(transA ? [k, m] : [m, k])], b: [...bBatch, ...(transB ? [n, k] : [k, n])], transA, transB };
}

// Odd shapes; batches folded into rows and batched B; K past one uniform panel and past four dual
// chunks (the epilogue must run in the last pass only); transposed A of M % 4 == 0 against
// N % 4 == 0 (dual's vec4 stores and epilogue); split-K's long K.
const CASES: MatmulCase[] = [
  makeCase(7, 13, 5, false, false),
  makeCase(31, 67, 29, true, false),
  makeCase(23, 41, 13, false, true, [2, 3], []),
  makeCase(19, 37, 11, true, true, [3], [3]),
  makeCase(9, 1500, 20, false, false),
  makeCase(36, 301, 8, true, true),
  makeCase(12, 50, 24, true, false),
  makeCase(67, 129, 17, false, true),
];

interface Combo {
  name: string;
  bias?: boolean;
  residual?: boolean;
  act?: GateActivation;
  out?: boolean;
  accumulate?: boolean;
}
const COMBOS: Combo[] = [
  { name: 'bias', bias: true },
  { name: 'residual', residual: true },
  { name: 'bias + residual', bias: true, residual: true },
  { name: 'relu', act: 'relu' },
  { name: 'bias + gelu', bias: true, act: 'gelu' },
  { name: 'bias + tanh', bias: true, act: 'tanh' },
  { name: 'sigmoid', act: 'sigmoid' },
  { name: 'out', out: true },
  { name: 'out + accumulate', out: true, accumulate: true },
  { name: 'out + bias + relu', out: true, bias: true, act: 'relu' },
];

/** The steepest slope of the activations (gelu's, 1.13). */
const GAIN = 1.13;

/** Elements before an `out` view in its larger buffer: 256 bytes, the view alignment. */
const LEAD = 64;

/** Runs one combo and checks the output (and, for `out`, the buffer around the view) against float64. */
async function check(c: MatmulCase, combo: Combo, variant: MatmulOptions['variant'], r: () => number, specials = false): Promise<void> {
  const ref = matmul64(c, new Float64Array(numel(c.a)), new Float64Array(numel(c.b)));
  const shape = ref.shape;
  const size = numel(shape), n = shape[shape.length - 1]!;
  const a = randArray(r, numel(c.a)), b = randArray(r, numel(c.b));
  const bias = combo.bias ? randArray(r, n) : undefined;
  const residual = combo.residual ? randArray(r, size) : undefined;
  // f32 values, so that what the GPU holds compares exactly.
  const whole = Float64Array.from(Float32Array.from(randArray(r, LEAD + size + 5)));
  if (specials) {
    a[3] = NaN;
    b[b.length - 2] = Infinity;
    if (bias) bias[n - 1] = -Infinity;
    if (residual) residual[Math.floor(size / 2)] = Infinity;
  }
  const e: Epilogue64 = {
    ...(bias ? { bias } : {}),
    ...(residual ? { residual } : {}),
    ...(combo.act ? { act: UNARY64[combo.act] } : {}),
    ...(combo.accumulate ? { prior: whole.slice(LEAD, LEAD + size) } : {}),
  };
  const product = matmul64(c, a, b).data;
  const want = epilogue64(product, n, e);
  // An activation carries the product's f32 rounding (relative to the pre-activation's scale)
  // through a slope of at most GAIN; the tolerance is the product's, so scaled.
  const pre = epilogue64(product, n, { ...e, act: (x) => x });
  const preScale = pre.reduce((m, v) => (Number.isFinite(v) ? Math.max(m, Math.abs(v)) : m), 0);
  const buffer = tensor(whole, [whole.length]);
  const y = tidy(() => {
    const opts: MatmulOptions = {
      transA: c.transA, transB: c.transB, variant,
      ...(bias ? { bias: tensor(bias, [n]) } : {}),
      ...(residual ? { residual: tensor(residual, shape) } : {}),
      ...(combo.act ? { activation: combo.act } : {}),
      ...(combo.out ? { out: buffer.view(shape, LEAD) } : {}),
      ...(combo.accumulate ? { accumulate: true } : {}),
    };
    return matmul(tensor(a, c.a), tensor(b, c.b), opts);
  });
  const what = `${variant} ${combo.name} ${JSON.stringify(c)}`;
  assert.equal(y.shape, shape, `${what}: shape`);
  const got = await read(y);
  if (specials) assertSpecialsMatch(got, want, what);
  else if (combo.act) assertClose(got, want, { rtol: 0, atol: 1e-6 + 2e-6 * GAIN * preScale, what });
  else assertClose(got, want, { rtol: 2e-6, atol: 1e-6, what });
  if (combo.out) {
    const all = await read(buffer);
    const same = (x: ArrayLike<number>, y: ArrayLike<number>, where: string) => {
      for (let i = 0; i < x.length; i++) assert.ok(Object.is(x[i], y[i]), `${what}: ${where} element ${i} is ${x[i]}, not ${y[i]}`);
    };
    same(all.slice(LEAD, LEAD + size), got, 'the view is the result:');
    same([...all.slice(0, LEAD), ...all.slice(LEAD + size)], [...whole.slice(0, LEAD), ...whole.slice(LEAD + size)], 'around the view:');
  }
  y.dispose();
  buffer.dispose();
}

for (const variant of MATMUL_VARIANTS) {
  t(`${variant}: every epilogue matches float64, out and accumulate write only their view`, async () => {
    const r = rng(variant.length * 131 + 5);
    let ran = 0;
    for (const c of CASES) {
      if (!matmulVariants(c.a, c.b, c).includes(variant)) continue;
      for (const combo of COMBOS) await check(c, combo, variant, r);
      ran++;
    }
    if (ran === 0) process.stdout.write(`  (${variant} is not available on this adapter)\n`);
  });

  t(`${variant}: NaN and infinities through the epilogue propagate as in float64`, async () => {
    const r = rng(variant.length * 17 + 1);
    const c = makeCase(33, 67, 28, false, true);
    if (!matmulVariants(c.a, c.b, c).includes(variant)) return;
    for (const combo of COMBOS) await check(c, combo, variant, r, true);
  });
}

t('a fused dual pass K past four chunks adds the epilogue once (rows past one window too)', async () => {
  const r = rng(77);
  for (const c of [makeCase(9, 5000, 20, false, false), makeCase(1100, 300, 20, false, false)]) {
    if (!matmulVariants(c.a, c.b, c).includes('dual')) return;
    for (const combo of [COMBOS[2]!, COMBOS[8]!]) await check(c, combo, 'dual', r);
  }
});

const input = (r: () => number, shape: number[]) => ({ shape, data: randArray(r, numel(shape)) });

t('gradients through bias and residual (every input)', async () => {
  const r = rng(11);
  const c = makeCase(5, 7, 3, false, true, [2], []);
  await gradcheck(([x, w, bias, res]) => matmul(x!, w!, { transB: true, bias: bias!, residual: res! }), [
    input(r, c.a), input(r, c.b), input(r, [3]), input(r, [2, 5, 3]),
  ]);
});

for (const act of ['tanh', 'sigmoid', 'gelu'] as const) {
  t(`gradients through bias + ${act}`, async () => {
    const r = rng(act.length);
    const c = makeCase(4, 6, 5, true, false);
    await gradcheck(([x, w, bias]) => matmul(x!, w!, { transA: true, bias: bias!, activation: act }), [input(r, c.a), input(r, c.b), input(r, [5])]);
  });
}

/** Value and gradients of sum(weights * f(x, w, bias)). */
async function grads(f: (x: Tensor, w: Tensor, bias: Tensor) => Tensor, data: Float64Array[], shapes: number[][], weights: Float64Array): Promise<Float64Array[]> {
  const out = tidy(() => {
    const [x, w, bias] = data.map((d, i) => tensor(d, shapes[i]!));
    const y = f(x!, w!, bias!);
    const { value, grads } = valueAndGrad(() => sum(mul(f(x!, w!, bias!), tensor(weights, y.shape))), [x!, w!, bias!]);
    value.dispose();
    return grads;
  });
  const res = await Promise.all(out.map(read));
  out.forEach((g) => g.dispose());
  return res;
}

// relu's kink makes finite differences unreliable; its fused VJP (mask from the output) must give
// the unfused composite's gradients (mask from the input, gradchecked in elementwise.test.ts).
t('relu: gradients equal those of relu(matmul + bias), in every variant', async () => {
  const r = rng(3);
  const c = makeCase(9, 70, 6, false, true, [2], []);
  const data = [randArray(r, numel(c.a)), randArray(r, numel(c.b)), randArray(r, 6)];
  const weights = randArray(r, 2 * 9 * 6);
  for (const variant of matmulVariants(c.a, c.b, c)) {
    const fused = await grads((x, w, bias) => matmul(x, w, { transB: true, bias, activation: 'relu', variant }), data, [c.a, c.b, [6]], weights);
    const plain = await grads((x, w, bias) => relu(add(matmul(x, w, { transB: true, variant }), bias)), data, [c.a, c.b, [6]], weights);
    ['dx', 'dw', 'dbias'].forEach((what, i) => assertClose(fused[i]!, plain[i]!, { rtol: 1e-6, atol: 1e-6, what: `${variant} ${what}` }));
  }
});

t('the epilogue costs no dispatch: forward one kernel, the residual gradient none', async () => {
  const r = rng(9);
  const x = tensor(randArray(r, 35), [5, 7]), w = tensor(randArray(r, 21), [7, 3]);
  const bias = tensor(randArray(r, 3), [3]), res = tensor(randArray(r, 15), [5, 3]);
  const variant = 'tiled';
  assert.is(dispatches(() => void matmul(x, w, { variant, bias, residual: res })), 1);
  assert.is(dispatches(() => void matmul(x, w, { variant, bias, activation: 'relu' })), 1);
  const loss = (opts: MatmulOptions, wrt: Tensor[]) => () => void valueAndGrad(() => sum(matmul(x, w, { variant, ...opts })), wrt);
  // Forward 1 + sum 1, dX 1: the residual's gradient is the output gradient itself.
  assert.is(dispatches(loss({ residual: res }, [x, res])), dispatches(loss({}, [x])));
  // relu's derivative: one dispatch from the saved output; the bias gradient: one column sum.
  assert.is(dispatches(loss({ bias, activation: 'relu' }, [x, bias])), dispatches(loss({}, [x])) + 2);
  await recorder().sync();
  for (const t of [x, w, bias, res]) t.dispose();
});

t('out, then accumulate, write a weight gradient into a view of an arena (noGrad)', async () => {
  const r = rng(13);
  const xd = randArray(r, 6 * 4), gd = randArray(r, 6 * 3);
  const x = tensor(xd, [6, 4]), g = tensor(gd, [6, 3]);
  const arena = tensor(new Float64Array(LEAD + 12), [LEAD + 12]);
  const dw = arena.view([4, 3], LEAD);
  noGrad(() => {
    matmul(x, g, { transA: true, out: dw });
    matmul(x, g, { transA: true, out: dw, accumulate: true });
  });
  const want = matmul64({ a: [6, 4], b: [6, 3], transA: true, transB: false }, xd, gd).data.map((v) => 2 * v);
  assertClose(await read(dw), want, { rtol: 2e-6, atol: 1e-6, what: 'dW twice' });
  for (const t of [x, g, dw, arena]) t.dispose();
});

t("a weight's gradient lands in valueAndGrad's destination with no copy, the same to the bit", async () => {
  const r = rng(17);
  const x = tensor(randArray(r, 2 * 5 * 7), [2, 5, 7]), w = tensor(randArray(r, 4 * 7), [4, 7]), v = tensor(randArray(r, 3 * 4), [3, 4]);
  const arena = Arena.upload([{ data: new Float32Array(28), shape: [4, 7] }, { data: new Float32Array(12), shape: [3, 4] }]);
  const bits = async (g: Tensor) => Array.from(new Uint32Array((await g.toArray()).buffer));
  // A linear layer as T5 runs it (x W^T, rows folded), and one weight used twice (the second use adds).
  const fns: Array<[string, () => Tensor, number]> = [
    ['once', () => sum(matmul(matmul(x, w, { transB: true }), v, { transB: true })), 0],
    ['twice', () => sum(matmul(add(matmul(x, w, { transB: true }), matmul(x, w, { transB: true })), v, { transB: true })), 1],
  ];
  for (const [what, fn, copies] of fns) {
    const plain = valueAndGrad(fn, [w, v]);
    const copy = recorder().copy.bind(recorder());
    let n = 0;
    recorder().copy = (src, dst, label) => void (n++, copy(src, dst, label));
    const into = valueAndGrad(fn, [w, v], { into: arena.views });
    recorder().copy = copy;
    assert.is(n, copies, `${what}: buffer copies`);
    for (let i = 0; i < 2; i++) assert.equal(await bits(into.grads[i]!), await bits(plain.grads[i]!), `${what}: grad ${i}`);
    [plain, into].forEach((res) => [res.value, ...res.grads].forEach((g) => g.dispose()));
  }
  for (const t of [x, w, v, ...arena.views, arena]) t.dispose();
});

t('refusals say what is wrong', async () => {
  const x = tensor(new Float64Array(6), [2, 3]), w = tensor(new Float64Array(12), [3, 4]);
  const refused = (opts: MatmulOptions, ...parts: string[]) => {
    const msg = messageOf(() => matmul(x, w, opts));
    assert.ok(msg !== '', `${JSON.stringify(Object.keys(opts))} should be refused`);
    for (const p of parts) assert.ok(msg.includes(p), `"${msg}" should mention "${p}"`);
  };
  refused({ bias: tensor(new Float64Array(3), [3]) }, 'bias', '[3]', '[4]');
  refused({ residual: tensor(new Float64Array(8), [4, 2]) }, 'residual', '[4,2]', '[2,4]');
  refused({ residual: tensor(new Float64Array(8), [2, 4]), activation: 'relu' }, 'activation and residual');
  refused({ accumulate: true }, 'accumulate', 'out');
  refused({ out: tensor(new Float64Array(8), [2, 4]), accumulate: true, bias: tensor(new Float64Array(4), [4]) }, 'accumulate', 'bias');
  refused({ out: tensor(new Float64Array(8), [8]) }, 'out', '[8]', '[2,4]');
  refused({ activation: 'exp' as GateActivation }, 'unknown activation', 'exp');
  const big = tensor(new Float64Array(LEAD + 8), [LEAD + 8]);
  const msg = messageOf(() => matmul(big.view([2, 3]), w, { out: big.view([2, 4], LEAD) }));
  assert.ok(msg.includes('shares a buffer'), msg);
  const taped = messageOf(() => void valueAndGrad(() => sum(matmul(x, w, { out: tensor(new Float64Array(8), [2, 4]) })), [x]));
  assert.ok(taped.includes('cannot be recorded'), taped);
  const k0 = messageOf(() => matmul(tensor(new Float32Array(0), [2, 0]), tensor(new Float32Array(0), [0, 4]), { bias: tensor(new Float64Array(4), [4]) }));
  assert.ok(k0.includes('K = 0'), k0);
  await recorder().sync();
  x.dispose();
  w.dispose();
  big.dispose();
});

t.run();
