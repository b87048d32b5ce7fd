import { suite } from 'uvu';
import * as ew from '../../src/ops/elementwise.js';
import { tensor } from '../../src/tensor/create.js';
import { tidy } from '../../src/tensor/scope.js';
import type { Tensor } from '../../src/tensor/tensor.js';
import { assertClose, numel, randArray, randInt, rng } from '../util/check.js';
import { gradcheck, initGpu, read } from '../util/gpu.js';

const t = suite('elementwise');
t.before(async () => void (await initGpu()));

const gelu64 = (x: number) => 0.5 * x * (1 + Math.tanh(Math.sqrt(2 / Math.PI) * (x + 0.044715 * x ** 3)));
const UNARY: Array<[string, (x: Tensor) => Tensor, (x: number) => number, [number, number]]> = [
  ['neg', ew.neg, (x) => -x, [-3, 3]],
  ['exp', ew.exp, Math.exp, [-3, 3]],
  ['log', ew.log, Math.log, [0.2, 4]],
  ['sqrt', ew.sqrt, Math.sqrt, [0.2, 4]],
  ['rsqrt', ew.rsqrt, (x) => 1 / Math.sqrt(x), [0.2, 4]],
  ['relu', ew.relu, (x) => Math.max(x, 0), [-3, 3]],
  ['gelu', ew.gelu, gelu64, [-4, 4]],
  ['tanh', ew.tanh, Math.tanh, [-4, 4]],
  ['sigmoid', ew.sigmoid, (x) => 1 / (1 + Math.exp(-x)), [-4, 4]],
  ['abs', ew.abs, Math.abs, [-3, 3]],
  ['square', ew.square, (x) => x * x, [-3, 3]],
  ['reciprocal', ew.reciprocal, (x) => 1 / x, [0.3, 3]],
  ['scale', (x) => ew.scale(x, -1.7), (x) => -1.7 * x, [-3, 3]],
  ['shift', (x) => ew.shift(x, 0.3), (x) => x + 0.3, [-3, 3]],
  ['powScalar', (x) => ew.powScalar(x, 1.5), (x) => x ** 1.5, [0.2, 3]],
];

for (const [name, op, ref, [lo, hi]] of UNARY) {
  t(`${name}: matches float64 over odd shapes, and its gradient`, async () => {
    const r = rng(name.length * 31 + 1);
    for (const shape of [[1], [7, 13], [3, 5, 33], [1031]]) {
      const x = randArray(r, numel(shape), lo, hi);
      const y = tidy(() => op(tensor(x, shape)));
      assertClose(await read(y), x.map(ref), { rtol: 2e-6, atol: 1e-6, what: `${name} ${shape}` });
      y.dispose();
    }
    // Away from relu/abs kinks so the finite difference is meaningful.
    const x = randArray(r, 37, lo, hi).map((v) => (Math.abs(v) < 0.1 ? v + 0.3 : v));
    await gradcheck(([a]) => op(a!), [{ shape: [37], data: x }]);
  });
}

const BINARY: Array<[string, (a: Tensor, b: Tensor) => Tensor, (a: number, b: number) => number, number]> = [
  ['add', ew.add, (a, b) => a + b, -2],
  ['sub', ew.sub, (a, b) => a - b, -2],
  ['mul', ew.mul, (a, b) => a * b, -2],
  ['div', ew.div, (a, b) => a / b, 0.5],
  ['pow', ew.pow, (a, b) => a ** b, 0.5],
  ['maximum', ew.maximum, Math.max, -2],
  ['minimum', ew.minimum, Math.min, -2],
];

/** Float64 broadcasting reference. */
function broadcast(a: Float64Array, as: number[], b: Float64Array, bs: number[], f: (x: number, y: number) => number) {
  const rank = Math.max(as.length, bs.length);
  const pa = [...Array(rank - as.length).fill(1), ...as];
  const pb = [...Array(rank - bs.length).fill(1), ...bs];
  const out = pa.map((d, i) => Math.max(d, pb[i]!));
  const n = numel(out);
  const res = new Float64Array(n);
  for (let i = 0; i < n; i++) {
    let rem = i, ia = 0, ib = 0, sa = 1, sb = 1;
    for (let d = rank - 1; d >= 0; d--) {
      const c = rem % out[d]!;
      rem = Math.floor(rem / out[d]!);
      if (pa[d] !== 1) ia += c * sa;
      if (pb[d] !== 1) ib += c * sb;
      sa *= pa[d]!;
      sb *= pb[d]!;
    }
    res[i] = f(a[ia]!, b[ib]!);
  }
  return { out, res };
}

for (const [name, op, ref, lo] of BINARY) {
  t(`${name}: broadcasting matches float64 over random shapes, and its gradient`, async () => {
    const r = rng(name.length * 97 + 3);
    const pairs: Array<[number[], number[]]> = [[[5, 7], [5, 7]], [[3, 1, 9], [4, 1]], [[1], [2, 3, 5]], [[6, 1], [1, 11]]];
    for (let k = 0; k < 3; k++) {
      const s = [randInt(r, 1, 5), randInt(r, 1, 9), randInt(r, 1, 17)];
      pairs.push([s, s.map((d) => (r() < 0.4 ? 1 : d))]);
    }
    for (const [as, bs] of pairs) {
      const a = randArray(r, numel(as), lo, 2), b = randArray(r, numel(bs), lo, 2);
      const y = tidy(() => op(tensor(a, as), tensor(b, bs)));
      const { out, res } = broadcast(a, as, b, bs, ref);
      assertClose(y.shape, out, { what: 'shape' });
      assertClose(await read(y), res, { rtol: 2e-6, what: `${name} ${as} ${bs}` });
      y.dispose();
    }
    const a = randArray(r, 3 * 4, lo, 2), b = randArray(r, 4, lo, 2).map((v) => v + 0.05);
    await gradcheck(([x, y]) => op(x!, y!), [{ shape: [3, 4], data: a }, { shape: [4], data: b }]);
  });
}

t('incompatible shapes name both shapes', async () => {
  const err = (() => {
    try {
      tidy(() => ew.add(tensor([1, 2, 3], [3]), tensor([1, 2], [2])));
    } catch (e) {
      return (e as Error).message;
    }
    return '';
  })();
  if (!err.includes('[3]') || !err.includes('[2]')) throw new Error(`unexpected message: ${err}`);
});

t.run();
