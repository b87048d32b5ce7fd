import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { valueAndGrad } from '../../src/autograd/grad.js';
import { mul } from '../../src/ops/elementwise.js';
import { rmsNorm } from '../../src/ops/rmsnorm.js';
import { tensor } from '../../src/tensor/create.js';
import { tidy } from '../../src/tensor/scope.js';
import { rmsNorm64, rmsNormGrad64 } from '../ref/rmsnorm.js';
import { assertClose, numel, randArray, rng } from '../util/check.js';
import { gradcheck, initGpu, read } from '../util/gpu.js';
import { eachLaneSetting } from '../util/lanes.js';
import { sum } from '../../src/ops/sum.js';

const t = suite('rmsnorm');
t.before(async () => void (await initGpu()));

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
      assertClose(await read(y), rmsNorm64(x, w, eps), { rtol: 2e-6, atol: 1e-6, what: `rmsNorm ${shape} perLane ${perLane}` });
      y.dispose();
      const { value, grads } = tidy(() => {
        const xt = tensor(x, shape), wt = tensor(w, [n]);
        return valueAndGrad(() => sum(mul(rmsNorm(xt, wt, eps), tensor(g, shape))), [xt, wt]);
      });
      const want = rmsNormGrad64(x, w, g, eps);
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
    assertClose(await read(y), rmsNorm64(x, w, eps), { rtol: 1e-5, what: `eps ${eps}` });
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
