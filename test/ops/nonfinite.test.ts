// NaN and +-infinity in the inputs of the elementwise, reduction and softmax kernels: the output's
// NaN / infinity pattern must be the float64 reference's (JavaScript's Math follows IEEE: max of a
// NaN is NaN), and finite outputs stay what they were.
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import * as ew from '../../src/ops/elementwise.js';
import { argmax, max } from '../../src/ops/reduce.js';
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

t.run();
