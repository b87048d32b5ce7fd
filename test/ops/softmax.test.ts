import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { valueAndGrad } from '../../src/autograd/grad.js';
import { mul } from '../../src/ops/elementwise.js';
import { logSoftmax, softmax } from '../../src/ops/softmax.js';
import { tensor } from '../../src/tensor/create.js';
import { tidy } from '../../src/tensor/scope.js';
import { softmax64, softmaxGrad64 } from '../ref/softmax.js';
import { assertClose, numel, randArray, rng } from '../util/check.js';
import { gradcheck, initGpu, read } from '../util/gpu.js';
import { eachLaneSetting } from '../util/lanes.js';
import { sum } from '../../src/ops/sum.js';

const t = suite('softmax');
t.before(async () => void (await initGpu()));

/** Compares arrays that may hold -inf: the -inf positions must match exactly. */
function assertCloseInf(actual: Float64Array, expected: Float64Array, what: string): void {
  const finite = expected.map((v) => (v === -Infinity ? 0 : v));
  expected.forEach((v, i) => {
    if (v === -Infinity) assert.is(actual[i], -Infinity, `${what}: [${i}] should be -inf`);
  });
  assertClose(actual.map((v, i) => (expected[i] === -Infinity ? 0 : v)), finite, { rtol: 2e-6, atol: 1e-6, what });
}

// Row lengths 1, short, long (several strides), with row counts that do not fill a workgroup,
// under the adapter's lanes-per-row choice, the GPU one (8 elements per lane) and 1 element per
// lane (the widest trees, up to a whole workgroup per row).
const SHAPES = [[1], [7], [3, 1], [3, 5], [2, 3, 33], [13, 129], [1031], [3, 2053]];

t('softmax, logSoftmax and their VJPs match float64 over odd shapes and every lanes-per-row variant', async () => {
  const r = rng(11);
  await eachLaneSetting(async (perLane) => {
    for (const shape of SHAPES) {
      const n = shape[shape.length - 1]!;
      // A large offset checks the max subtraction (exp(90) overflows float32).
      const x = randArray(r, numel(shape), -4, 4).map((v, i) => (i % 5 === 0 ? v + 90 : v));
      const g = randArray(r, numel(shape));
      for (const log of [false, true]) {
        const what = `${log ? 'log' : ''}softmax ${shape} perLane ${perLane}`;
        const { value, grads, y } = tidy(() => {
          const xt = tensor(x, shape);
          const op = log ? logSoftmax : softmax;
          return { y: op(xt), ...valueAndGrad(() => sum(mul(op(xt), tensor(g, shape))), [xt]) };
        });
        const want = softmax64(x, shape, log);
        assertClose(await read(y), want, { rtol: 2e-6, atol: 1e-6, what });
        assertClose(await read(grads[0]!), softmaxGrad64(want, g, n, log), { rtol: 1e-5, atol: 1e-6, what: `d${what}` });
        for (const v of [y, value, ...grads]) v.dispose();
      }
    }
  });
});

t('masks broadcast over leading axes and the last axis; fully masked rows give zeros, never NaN', async () => {
  const r = rng(5);
  const shape = [2, 3, 5, 7];
  const x = randArray(r, numel(shape), -3, 3);
  const cases: Array<{ shape: number[]; fill: (i: number) => number }> = [
    // Padding mask [B,1,1,S]: batch 1 masks its last 3 keys with -inf.
    { shape: [2, 1, 1, 7], fill: (i) => (i >= 7 && i % 7 >= 4 ? -Infinity : 0) },
    // Causal-style [B,1,T,S] with every key of query 2 of batch 0 masked (a fully masked row).
    { shape: [2, 1, 5, 7], fill: (i) => (i < 35 && Math.floor(i / 7) === 2 ? -Infinity : i % 7 > Math.floor(i / 7) % 5 + 1 ? -1e9 : 0) },
    // Per-query bias broadcast along the keys: [5,1] against [..,5,7]; row 0 fully masked.
    { shape: [5, 1], fill: (i) => (i === 0 ? -Infinity : 0.5 * i) },
    // HF-style finfo.min mask: a fully masked row is the plain softmax of x + mask (finite).
    { shape: [1, 1, 1, 7], fill: () => -3.4028234663852886e38 },
  ];
  await eachLaneSetting(async (perLane) => {
    for (const c of cases) {
      const m = Float64Array.from({ length: numel(c.shape) }, (_, i) => c.fill(i));
      for (const log of [false, true]) {
        const y = tidy(() => (log ? logSoftmax : softmax)(tensor(x, shape), { mask: tensor(m, c.shape) }));
        const got = await read(y);
        y.dispose();
        assert.ok(!got.some(Number.isNaN), `NaN with mask ${c.shape}`);
        const want = softmax64(x, shape, log, { data: Float64Array.from(m, (v) => Math.fround(v)), shape: c.shape });
        assertCloseInf(got, want, `${log ? 'log' : ''}softmax mask ${c.shape} perLane ${perLane}`);
      }
    }
  });
});

t('gradients: softmax, logSoftmax, and the mask gradient', async () => {
  const r = rng(3);
  for (const shape of [[1, 1], [3, 7], [2, 41], [2, 301]]) {
    const x = randArray(r, numel(shape), -2, 2);
    await gradcheck(([a]) => softmax(a!), [{ shape, data: x }]);
    await gradcheck(([a]) => logSoftmax(a!), [{ shape, data: x }]);
  }
  // Gradients reach both x and a broadcast mask [2,1,5] of x [2,3,5].
  const x = randArray(r, 30, -2, 2), m = randArray(r, 10, -1, 1);
  for (const op of [softmax, logSoftmax]) {
    await gradcheck(([a, b]) => op(a!, { mask: b! }), [{ shape: [2, 3, 5], data: x }, { shape: [2, 1, 5], data: m }]);
  }
});

t('a fully masked row gets a zero softmax gradient; masked keys get none', async () => {
  const x = tensor([0.3, -1, 2, 0.5, 0.1, 0.7], [2, 3]);
  const m = tensor([-Infinity, -Infinity, -Infinity, 0, -Infinity, 0], [2, 3]);
  const w = tensor([1, 2, 3, -1, 4, 2], [2, 3]);
  const { value, grads } = valueAndGrad(() => sum(mul(softmax(x, { mask: m }), w)), [x]);
  const g = await read(grads[0]!);
  assert.equal([g[0], g[1], g[2], g[4]], [0, 0, 0, 0]);
  // Row 1 has two live keys, p0 = softmax(0.5, 0.7)[0]: d(w3 p0 + w5 (1 - p0))/dx3 = p0 (1 - p0) (w3 - w5).
  const p0 = 1 / (1 + Math.exp(0.7 - 0.5));
  assertClose([g[3]!, g[5]!], [p0 * (1 - p0) * -3, -p0 * (1 - p0) * -3], { rtol: 1e-5, what: 'live row gradient' });
  for (const v of [x, m, w, value, ...grads]) v.dispose();
});

t('bad shapes and dtypes are reported with the op and shapes', () => {
  assert.throws(() => tidy(() => softmax(tensor([1, 2, 3, 4, 5, 6], [2, 3]), { mask: tensor([0, 0], [2]) })), /^softmax: shapes \[2\] and \[2,3\]/);
  assert.throws(() => tidy(() => logSoftmax(tensor([1, 2], [2]), { mask: tensor([0, 0, 0, 0], [2, 2]) })), /^logSoftmax: mask \[2,2\] does not broadcast to x \[2\]/);
  assert.throws(() => tidy(() => softmax(tensor(Int32Array.from([1, 2]), [2]))), /^softmax: expected f32, got .*i32\[2\]/);
  assert.throws(() => tidy(() => softmax(tensor([1], []))), /^softmax: rank of .*f32\[\] must be 1\.\.9/);
});

t.run();
