// NaN and +-infinity in the inputs of every kernel family (elementwise, reductions, softmax,
// cross-entropy, rmsnorm, matmul, embedding, where, dropout, the optimizers, SVGD): the output's
// NaN / infinity pattern must be the float64 reference's (JavaScript's Math follows IEEE: max of a
// NaN is NaN), and finite outputs stay what they were.
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import * as ew from '../../src/ops/elementwise.js';
import { crossEntropy } from '../../src/ops/cross_entropy.js';
import { dropout } from '../../src/ops/dropout.js';
import { embedding } from '../../src/ops/embedding.js';
import { where } from '../../src/ops/layout.js';
import { matmul, matmulVariants } from '../../src/ops/matmul.js';
import { argmax, max } from '../../src/ops/reduce.js';
import { rmsNorm } from '../../src/ops/rmsnorm.js';
import { AdamW } from '../../src/optim/adamw.js';
import { Adafactor } from '../../src/optim/adafactor.js';
import { SGD } from '../../src/optim/sgd.js';
import { svgdDirection } from '../../src/bayes/svgd.js';
import { softmax } from '../../src/ops/softmax.js';
import { sum } from '../../src/ops/sum.js';
import { tensor } from '../../src/tensor/create.js';
import { tidy } from '../../src/tensor/scope.js';
import type { Tensor } from '../../src/tensor/tensor.js';
import { randArray, rng } from '../util/check.js';
import { initGpu, read } from '../util/gpu.js';

const t = suite('nonfinite');
t.before(async () => void (await initGpu()));

const kind = (v: number) => (Number.isNaN(v) ? 'NaN' : v === Infinity ? '+inf' : v === -Infinity ? '-inf' : 'finite');

/** Asserts that got and want have NaN, +inf and -inf at the same places. */
function samePattern(got: ArrayLike<number>, want: ArrayLike<number>, what: string): void {
  assert.is(got.length, want.length, what);
  for (let i = 0; i < want.length; i++) assert.is(kind(got[i]!), kind(want[i]!), `${what}: [${i}] is ${got[i]}, the reference ${want[i]}`);
}

/** 7 x 13 random values with NaN, +inf and -inf in some rows. */
function input(seed: number): Float64Array {
  const x = randArray(rng(seed), 7 * 13, -3, 3);
  x[0] = NaN; x[15] = Infinity; x[30] = -Infinity; x[31] = -Infinity; x[45] = NaN; x[46] = Infinity;
  for (let j = 65; j < 78; j++) x[j] = -Infinity;
  return x;
}

async function gpu(f: (x: Tensor) => Tensor, x: Float64Array): Promise<Float64Array> {
  const y = tidy(() => f(tensor(x, [7, 13])));
  const out = await read(y);
  y.dispose();
  return out;
}

const rows = (x: Float64Array, f: (row: number[]) => number[]) =>
  Float64Array.from(Array.from({ length: 7 }, (_, r) => f(Array.from(x.subarray(r * 13, r * 13 + 13)))).flat());

t('elementwise unary and binary ops (relu, maximum, minimum, exp, ...)', async () => {
  const x = input(1), y = input(2).reverse();
  const unary: Array<[string, (a: Tensor) => Tensor, (v: number) => number]> = [
    ['relu', ew.relu, (v) => Math.max(v, 0)], ['exp', ew.exp, Math.exp], ['neg', ew.neg, (v) => -v], ['abs', ew.abs, Math.abs],
    ['tanh', ew.tanh, Math.tanh], ['sigmoid', ew.sigmoid, (v) => 1 / (1 + Math.exp(-v))], ['square', ew.square, (v) => v * v],
  ];
  for (const [name, op, ref] of unary) samePattern(await gpu(op, x), x.map(ref), name);
  const binary: Array<[string, (a: Tensor, b: Tensor) => Tensor, (a: number, b: number) => number]> = [
    ['maximum', ew.maximum, Math.max], ['minimum', ew.minimum, Math.min], ['add', ew.add, (a, b) => a + b], ['mul', ew.mul, (a, b) => a * b],
  ];
  for (const [name, op, ref] of binary) {
    samePattern(await gpu((a) => op(a, tensor(y, [7, 13])), x), x.map((v, i) => ref(v, y[i]!)), name);
  }
});

t('sum, max and argmax over rows with NaN and infinities', async () => {
  const x = input(3);
  samePattern(await gpu((a) => sum(a, 1), x), rows(x, (r) => [r.reduce((a, b) => a + b, 0)]), 'sum');
  samePattern(await gpu((a) => max(a, 1), x), rows(x, (r) => [Math.max(...r)]), 'max');
  const idx = tidy(() => argmax(tensor(x, [7, 13]), 1));
  const got = Array.from(await idx.toArray());
  idx.dispose();
  // torch.argmax: a NaN is the maximum (the first one).
  const want = rows(x, (r) => [r.findIndex(Number.isNaN) >= 0 ? r.findIndex(Number.isNaN) : r.indexOf(Math.max(...r))]);
  assert.equal(got, Array.from(want), 'argmax');
});

t('softmax of rows with NaN, +inf and -inf', async () => {
  const x = input(4);
  const ref = rows(x, (r) => {
    const m = Math.max(...r);
    if (m === -Infinity) return r.map(() => 0);
    const e = r.map((v) => Math.exp(v - m));
    const s = e.reduce((a, b) => a + b, 0);
    return e.map((v) => v / s);
  });
  samePattern(await gpu((a) => softmax(a), x), ref, 'softmax');
});

t('matmul (every variant) with NaN and infinities, at the last k column too (no 0 * inf from tile padding)', async () => {
  const [m, k, n] = [9, 13, 11];
  const a = randArray(rng(6), m * k), b = randArray(rng(7), k * n);
  a[0] = NaN; a[2 * k + k - 1] = Infinity; a[5 * k + 3] = -Infinity; a[5 * k + 4] = Infinity;
  // inf * 0 = NaN at row 2, column 0; row 5 holds -inf + inf = NaN where the signs agree.
  b[(k - 1) * n] = 0;
  const ref = new Float64Array(m * n);
  for (let i = 0; i < m; i++) for (let j = 0; j < n; j++) for (let q = 0; q < k; q++) ref[i * n + j] += a[i * k + q]! * b[q * n + j]!;
  for (const variant of matmulVariants([m, k], [k, n])) {
    const y = tidy(() => matmul(tensor(a, [m, k]), tensor(b, [k, n]), { variant }));
    samePattern(await read(y), ref, `matmul ${variant}`);
    y.dispose();
  }
});

t('rmsnorm and cross-entropy rows with NaN and infinities; ignored rows stay 0', async () => {
  const x = input(8);
  const w = randArray(rng(9), 13, 0.5, 1.5);
  const ref = rows(x, (r) => {
    const rs = 1 / Math.sqrt(r.reduce((a, v) => a + v * v, 0) / r.length + 1e-6);
    return r.map((v, j) => v * rs * w[j]!);
  });
  samePattern(await gpu((a) => rmsNorm(a, tensor(w, [13])), x), ref, 'rmsnorm');
  // Row 4 (all -inf) is ignored: its NLL is 0, as its gradient.
  const labels = Int32Array.from([1, 2, 4, 3, -100, 6, 0]);
  const want = Array.from({ length: 7 }, (_, i) => {
    if (labels[i] === -100) return 0;
    const r = Array.from(x.subarray(i * 13, i * 13 + 13));
    const m = Math.max(...r);
    return m + Math.log(r.reduce((a, v) => a + Math.exp(v - m), 0)) - r[labels[i]!]!;
  });
  const y = tidy(() => crossEntropy(tensor(x, [7, 13]), labels, { reduction: 'none' }));
  samePattern(await read(y), want, 'cross-entropy');
  y.dispose();
});

t('embedding, where and dropout: gathered, selected and kept values carry their NaN; dropped or unselected ones do not', async () => {
  const table = input(10);
  const ids = Int32Array.from([0, 1, 3, 5, 0, 2]);
  const e = tidy(() => embedding(tensor(table, [7, 13]), tensor(ids, [6])));
  samePattern(await read(e), Float64Array.from([...ids].flatMap((i) => Array.from(table.subarray(i * 13, i * 13 + 13)))), 'embedding');
  e.dispose();
  const x = input(11), yv = input(12).reverse();
  const mask = Float64Array.from({ length: 7 * 13 }, (_, i) => (i % 3 === 0 ? 1 : 0));
  samePattern(await gpu((a) => where(tensor(mask, [7, 13]), a, tensor(yv, [7, 13])), x), x.map((v, i) => (mask[i] ? v : yv[i]!)), 'where');
  // Dropout masks by its random mask: a dropped NaN is 0 (as the mask says), a kept one NaN.
  const kept = await gpu((a) => dropout(a, 0.5, { seed: 3, training: true }), Float64Array.from({ length: 91 }, () => 1));
  const d = await gpu((a) => dropout(a, 0.5, { seed: 3, training: true }), x);
  samePattern(d, x.map((v, i) => (kept[i] === 0 ? 0 : v * 2)), 'dropout');
});

t('SGD, AdamW and Adafactor: a NaN or infinite gradient entry gives the reference pattern of NaN parameters', async () => {
  // torch's updates: SGD and AdamW are elementwise (only the bad entries go NaN; an infinite
  // gradient is NaN in AdamW as inf / inf); Adafactor's update clip divides every entry by the
  // RMS of the whole update, so one NaN turns the whole parameter NaN.
  const g = randArray(rng(13), 5 * 7);
  g[3] = NaN; g[17] = Infinity;
  const cases: Array<[string, (p: Tensor) => { step(gs: Tensor[]): void; dispose(): void }, (i: number) => boolean]> = [
    ['sgd', (p) => new SGD([p], { lr: 0.1 }), (i) => i === 3 || i === 17],
    ['adamw', (p) => new AdamW([p], { lr: 0.1 }), (i) => i === 3 || i === 17],
    ['adafactor', (p) => new Adafactor([p], { lr: 0.1, relativeStep: false, scaleParameter: false }), () => true],
  ];
  for (const [name, make, bad] of cases) {
    const p = tensor(randArray(rng(14), 35), [5, 7]);
    const opt = make(p);
    const gt = tensor(g, [5, 7]);
    opt.step([gt]);
    const got = await read(p);
    const finite = Array.from(got, (v) => Number.isFinite(v));
    const want = Array.from({ length: 35 }, (_, i) => !bad(i));
    assert.equal(finite, want, `${name}: finite entries after the update`);
    opt.dispose();
    gt.dispose();
    p.dispose();
  }
});

t('SVGD: a NaN score entry spreads along its coordinate, a NaN particle everywhere (through the median bandwidth)', async () => {
  const [m, d] = [5, 9];
  const run = async (x: Float64Array, sc: Float64Array) => {
    const out = tidy(() => svgdDirection(tensor(x, [m, d]), tensor(sc, [m, d])).phi);
    const v = await read(out);
    out.dispose();
    return v;
  };
  const x = randArray(rng(15), m * d), sc = randArray(rng(16), m * d);
  // phi_i = mean_j k(x_j, x_i) score_j + grad k: a NaN score_j[c] reaches phi_i[c] for every i.
  const badScore = Float64Array.from(sc);
  badScore[2 * d + 4] = NaN;
  samePattern(await run(x, badScore), Float64Array.from({ length: m * d }, (_, i) => (i % d === 4 ? NaN : 0)), 'NaN score');
  // A NaN particle makes its distances NaN, so the median bandwidth, so every kernel value.
  const badX = Float64Array.from(x);
  badX[3 * d + 1] = NaN;
  samePattern(await run(badX, sc), new Float64Array(m * d).fill(NaN), 'NaN particle');
});

t.run();
