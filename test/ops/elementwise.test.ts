import { suite } from 'uvu';
import * as ew from '../../src/ops/elementwise.js';
import { tensor } from '../../src/tensor/create.js';
import { keep, tidy } from '../../src/tensor/scope.js';
import type { Tensor } from '../../src/tensor/tensor.js';
import * as assert from 'uvu/assert';
import { valueAndGrad } from '../../src/autograd/grad.js';
import { sum } from '../../src/ops/sum.js';
import { BINARY64, broadcast64, COMPARE64, UNARY64, unaryGrad64 } from '../ref/elementwise.js';
import { messageOf } from '../util/throws.js';
import { assertClose, numel, randArray, randInt, rng } from '../util/check.js';
import { gradcheck, initGpu, read } from '../util/gpu.js';

const t = suite('elementwise');
t.before(async () => void (await initGpu()));

const UNARY_FNS = { gelu: ew.gelu, relu: ew.relu, sigmoid: ew.sigmoid, tanh: ew.tanh };

const UNARY: Array<[string, (x: Tensor) => Tensor, (x: number) => number, [number, number]]> = [
  ['neg', ew.neg, UNARY64.neg, [-3, 3]],
  ['exp', ew.exp, UNARY64.exp, [-3, 3]],
  ['log', ew.log, UNARY64.log, [0.2, 4]],
  ['sqrt', ew.sqrt, UNARY64.sqrt, [0.2, 4]],
  ['rsqrt', ew.rsqrt, UNARY64.rsqrt, [0.2, 4]],
  ['relu', ew.relu, UNARY64.relu, [-3, 3]],
  ['gelu', ew.gelu, UNARY64.gelu, [-4, 4]],
  ['tanh', ew.tanh, UNARY64.tanh, [-4, 4]],
  ['sigmoid', ew.sigmoid, UNARY64.sigmoid, [-4, 4]],
  ['abs', ew.abs, UNARY64.abs, [-3, 3]],
  ['square', ew.square, UNARY64.square, [-3, 3]],
  ['reciprocal', ew.reciprocal, UNARY64.reciprocal, [0.3, 3]],
  ['scale', (x) => ew.scale(x, -1.7), UNARY64.scale, [-3, 3]],
  ['shift', (x) => ew.shift(x, 0.3), UNARY64.shift, [-3, 3]],
  ['powScalar', (x) => ew.powScalar(x, 1.5), UNARY64.powScalar, [0.2, 3]],
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

const GATES = ['gelu', 'relu', 'sigmoid', 'tanh'] as const;

/** Float32 bits of a float64 array read back from float32 tensors. */
const bits = (x: Float64Array) => new Uint32Array(Float32Array.from(x).buffer);

for (const act of GATES) {
  t(`gated ${act}: act(a) * b matches float64 over odd shapes, its gradients too; bit for bit the composite; gradcheck`, async () => {
    const r = rng(act.length * 53 + 7);
    const f = UNARY64[act];
    for (const shape of [[1], [7, 13], [3, 5, 33], [1031]]) {
      const n = numel(shape);
      const a = randArray(r, n, -4, 4), b = randArray(r, n, -2, 2), w = randArray(r, n, -1, 1);
      // NaN and infinities in a and b: the fused kernel must do what the composite does.
      if (n > 8) [a[1], a[3], b[5], b[7]] = [NaN, Infinity, -Infinity, NaN];
      const run = (fn: (x: Tensor, y: Tensor) => Tensor) =>
        tidy(() => {
          const x = tensor(a, shape), y = tensor(b, shape);
          let out: Tensor | null = null;
          const { grads } = valueAndGrad(() => {
            out = keep(fn(x, y));
            return sum(ew.mul(out, tensor(w, shape)));
          }, [x, y]);
          return [out!, ...grads];
        });
      const fused = await Promise.all(run((x, y) => ew.gated(act, x, y)).map(read));
      const composite = await Promise.all(run((x, y) => ew.mul(UNARY_FNS[act](x), y)).map(read));
      ['out', 'da', 'db'].forEach((name, i) => assert.equal(bits(fused[i]!), bits(composite[i]!), `${act} ${name} ${shape}: bits of the composite`));
      // Against float64 where the inputs are finite (the composite's NaN/Inf behaviour is its own tests').
      const at = [...a.keys()].filter((i) => Number.isFinite(a[i]!) && Number.isFinite(b[i]!));
      const pick = (x: ArrayLike<number>) => Float64Array.from(at, (i) => x[i]!);
      const out64 = a.map((v, i) => f(v) * b[i]!);
      const da64 = unaryGrad64(f, a, w.map((v, i) => v * b[i]!));
      const db64 = w.map((v, i) => v * f(a[i]!));
      assertClose(pick(fused[0]!), pick(out64), { rtol: 2e-6, atol: 1e-6, what: `${act} out ${shape}` });
      // relu's float64 derivative by differences is wrong only within 1e-5 of its kink.
      assertClose(pick(fused[1]!), pick(da64), { rtol: 2e-5, atol: 1e-5, what: `${act} da ${shape}` });
      assertClose(pick(fused[2]!), pick(db64), { rtol: 2e-6, atol: 1e-6, what: `${act} db ${shape}` });
    }
    const a = randArray(r, 29, -3, 3).map((v) => (Math.abs(v) < 0.1 ? v + 0.3 : v)), b = randArray(r, 29, -2, 2);
    await gradcheck(([x, y]) => ew.gated(act, x!, y!), [{ shape: [29], data: a }, { shape: [29], data: b }]);
  });
}

t('gated refuses inputs of different shapes', () => {
  const a = tensor(new Float32Array(6), [2, 3]), b = tensor(new Float32Array(3), [3]);
  assert.match(messageOf(() => ew.gated('gelu', a, b)), /gated gelu: a f32\[2,3\] and b f32\[3\] must have one shape/);
  [a, b].forEach((x) => x.dispose());
});

const BINARY: Array<[string, (a: Tensor, b: Tensor) => Tensor, (a: number, b: number) => number, number]> = [
  ['add', ew.add, BINARY64.add, -2],
  ['sub', ew.sub, BINARY64.sub, -2],
  ['mul', ew.mul, BINARY64.mul, -2],
  ['div', ew.div, BINARY64.div, 0.5],
  ['pow', ew.pow, BINARY64.pow, 0.5],
  ['maximum', ew.maximum, BINARY64.maximum, -2],
  ['minimum', ew.minimum, BINARY64.minimum, -2],
];

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
      const { out, res } = broadcast64(a, as, b, bs, ref);
      assertClose(y.shape, out, { what: 'shape' });
      assertClose(await read(y), res, { rtol: 2e-6, what: `${name} ${as} ${bs}` });
      y.dispose();
    }
    const a = randArray(r, 3 * 4, lo, 2), b = randArray(r, 4, lo, 2).map((v) => v + 0.05);
    await gradcheck(([x, y]) => op(x!, y!), [{ shape: [3, 4], data: a }, { shape: [4], data: b }]);
  });
}

t('equal, greater and less match float64 with broadcasting, ties included', async () => {
  const r = rng(41);
  // Halves in [-2, 2]: exact in f32, and equal often enough to test ties.
  const halves = (n: number) => randArray(r, n, -2, 2).map((v) => Math.round(v * 2) / 2);
  for (const [name, ref] of Object.entries(COMPARE64) as Array<[keyof typeof COMPARE64, (a: number, b: number) => number]>) {
    for (const [as, bs] of [[[7, 13], [7, 13]], [[3, 1, 9], [4, 1]], [[1], [2, 3, 5]]] as Array<[number[], number[]]>) {
      const a = halves(numel(as)), b = halves(numel(bs));
      const y = tidy(() => ew[name](tensor(a, as), tensor(b, bs)));
      const { out, res } = broadcast64(a, as, b, bs, ref);
      assertClose(y.shape, out, { what: 'shape' });
      assertClose(await read(y), res, { rtol: 0, atol: 0, what: `${name} ${as} ${bs}` });
      y.dispose();
    }
  }
});

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
