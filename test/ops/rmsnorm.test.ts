import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { valueAndGrad } from '../../src/autograd/grad.js';
import { mul } from '../../src/ops/elementwise.js';
import { rmsNorm } from '../../src/ops/rmsnorm.js';
import { tensor } from '../../src/tensor/create.js';
import { tidy } from '../../src/tensor/scope.js';
import { assertClose, numel, randArray, rng } from '../util/check.js';
import { gradcheck, initGpu, read } from '../util/gpu.js';
import { eachLaneSetting } from '../util/lanes.js';
import { sum } from '../../src/ops/sum.js';

const t = suite('rmsnorm');
t.before(async () => void (await initGpu()));

function reference(x: Float64Array, w: Float64Array, eps: number): Float64Array {
  const n = w.length;
  const y = new Float64Array(x.length);
  for (let r = 0; r < x.length / n; r++) {
    let ss = 0;
    for (let j = 0; j < n; j++) ss += x[r * n + j]! ** 2;
    const rstd = 1 / Math.sqrt(ss / n + eps);
    for (let j = 0; j < n; j++) y[r * n + j] = x[r * n + j]! * rstd * w[j]!;
  }
  return y;
}

/** Float64 VJPs for output gradient g: dx and the weight gradient summed over rows. */
function referenceGrad(x: Float64Array, w: Float64Array, g: Float64Array, eps: number): { dx: Float64Array; dw: Float64Array } {
  const n = w.length;
  const dx = new Float64Array(x.length), dw = new Float64Array(n);
  for (let r = 0; r < x.length / n; r++) {
    let ss = 0, dot = 0;
    for (let j = 0; j < n; j++) {
      ss += x[r * n + j]! ** 2;
      dot += g[r * n + j]! * w[j]! * x[r * n + j]!;
    }
    const rs = 1 / Math.sqrt(ss / n + eps);
    for (let j = 0; j < n; j++) {
      const i = r * n + j;
      dx[i] = rs * g[i]! * w[j]! - (x[i]! * rs ** 3 * dot) / n;
      dw[j] += g[i]! * x[i]! * rs;
    }
  }
  return { dx, dw };
}

// One lane per row ([5,1], [2,7]), several rows per workgroup, a workgroup per row ([3,2053]); the
// [300,3] case spans several weight-gradient chunks, so its chunk sums go through reduce.
const SHAPES = [[1], [5, 1], [2, 7], [3, 5, 33], [17, 129], [3, 2053], [300, 3]];

t('forward and both gradients match float64 over odd shapes and every lanes-per-row variant', async () => {
  const r = rng(19);
  await eachLaneSetting(async (perLane) => {
    for (const shape of SHAPES) {
      const n = shape[shape.length - 1]!;
      const x = randArray(r, numel(shape), -3, 3), w = randArray(r, n, -2, 2), g = randArray(r, numel(shape));
      const eps = 1e-6;
      const y = tidy(() => rmsNorm(tensor(x, shape), tensor(w, [n]), eps));
      assertClose(await read(y), reference(x, w, eps), { rtol: 2e-6, atol: 1e-6, what: `rmsNorm ${shape} perLane ${perLane}` });
      y.dispose();
      const { value, grads } = tidy(() => {
        const xt = tensor(x, shape), wt = tensor(w, [n]);
        return valueAndGrad(() => sum(mul(rmsNorm(xt, wt, eps), tensor(g, shape))), [xt, wt]);
      });
      const want = referenceGrad(x, w, g, eps);
      assertClose(await read(grads[0]!), want.dx, { rtol: 1e-5, what: `dx ${shape} perLane ${perLane}` });
      assertClose(await read(grads[1]!), want.dw, { rtol: 1e-5, what: `dweight ${shape} perLane ${perLane}` });
      for (const v of [value, ...grads]) v.dispose();
    }
  });
});

t('eps matters for small rows (T5 eps 1e-6 and a large one)', async () => {
  const r = rng(2);
  const x = randArray(r, 3 * 11, -1e-3, 1e-3), w = randArray(r, 11, 0.5, 1.5);
  for (const eps of [1e-6, 0.1]) {
    const y = tidy(() => rmsNorm(tensor(x, [3, 11]), tensor(w, [11]), eps));
    assertClose(await read(y), reference(x, w, eps), { rtol: 1e-5, what: `eps ${eps}` });
    y.dispose();
  }
});

t('gradcheck for x and weight; frozen weight or frozen x', async () => {
  const r = rng(4);
  for (const shape of [[1, 1], [3, 7], [2, 3, 65]]) {
    const n = shape[shape.length - 1]!;
    const inputs = [{ shape, data: randArray(r, numel(shape), -2, 2) }, { shape: [n], data: randArray(r, n, -2, 2) }];
    await gradcheck(([x, w]) => rmsNorm(x!, w!), inputs);
    await gradcheck(([x, w]) => rmsNorm(x!, w!), inputs, { which: [0] });
    await gradcheck(([x, w]) => rmsNorm(x!, w!), inputs, { which: [1] });
  }
});

t('bad shapes and dtypes are reported with the op and shapes', () => {
  const x = () => tensor(randArray(rng(1), 6), [2, 3]);
  assert.throws(() => tidy(() => rmsNorm(x(), tensor([1, 1], [2]))), /^rmsNorm: weight has shape \[2\], expected \[3\]/);
  assert.throws(() => tidy(() => rmsNorm(x(), tensor(Int32Array.from([1, 1, 1])))), /^rmsNorm: expected f32, got .*i32\[3\]/);
  assert.throws(() => tidy(() => rmsNorm(x(), tensor([1, 1, 1]), -1)), /^rmsNorm: eps must be a finite number >= 0, got -1/);
  assert.throws(() => tidy(() => rmsNorm(tensor([2], []), tensor([1], [1]))), /^rmsNorm: x .*f32\[\] needs at least one axis/);
});

t.run();
