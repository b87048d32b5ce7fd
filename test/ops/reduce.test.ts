import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { argmax, max, mean } from '../../src/ops/reduce.js';
import { tensor } from '../../src/tensor/create.js';
import { tidy } from '../../src/tensor/scope.js';
import { reduce64, total } from '../ref/reduce.js';
import { assertClose, numel, randArray, randInt, rng } from '../util/check.js';
import { gradcheck, initGpu, read } from '../util/gpu.js';
import { sum } from '../../src/ops/sum.js';
import { reshape } from '../../src/ops/reshape.js';

const t = suite('reduce');
t.before(async () => void (await initGpu()));


t('sum, mean and max along every axis of random odd shapes (both kernel variants)', async () => {
  const r = rng(11);
  const shapes = [[1], [7], [3, 5], [2, 300, 3], [4099], [5, 3, 70], [129, 5]];
  for (let k = 0; k < 4; k++) shapes.push([randInt(r, 1, 9), randInt(r, 1, 90), randInt(r, 1, 13)]);
  for (const shape of shapes) {
    const x = randArray(r, numel(shape), -2, 2);
    for (let axis = 0; axis < shape.length; axis++) {
      const [s, m, mx] = tidy(() => {
        const xt = tensor(x, shape);
        return [sum(xt, axis), mean(xt, axis, true), max(xt, axis)];
      });
      const n = shape[axis]!;
      assertClose(await read(s!), reduce64(x, shape, axis, total), { rtol: 1e-6, what: `sum ${shape} axis ${axis}` });
      assertClose(await read(m!), reduce64(x, shape, axis, (v) => total(v) / n), { rtol: 1e-6, what: `mean ${shape}` });
      // Max is exact: compare with the f32-rounded inputs.
      assertClose(await read(mx!), reduce64(x.map(Math.fround), shape, axis, (v) => Math.max(...v)), { rtol: 0, atol: 0, what: `max ${shape}` });
      assert.equal(s!.shape, shape.filter((_, i) => i !== axis));
      assert.equal(m!.shape, shape.map((d, i) => (i === axis ? 1 : d)));
      [s, m, mx].forEach((v) => v!.dispose());
    }
  }
});

t('sum over several axes and over everything', async () => {
  const r = rng(5);
  const shape = [3, 4, 5];
  const x = randArray(r, 60);
  const [all, two] = tidy(() => {
    const xt = tensor(x, shape);
    return [sum(xt), sum(xt, [0, 2])];
  });
  assertClose(await read(all!), [total([...x])], { rtol: 1e-6 });
  const expect = [0, 1, 2, 3].map((j) => {
    let s = 0;
    for (let i = 0; i < 3; i++) for (let k = 0; k < 5; k++) s += x[i * 20 + j * 5 + k]!;
    return s;
  });
  assertClose(await read(two!), expect, { rtol: 1e-6 });
  all!.dispose();
  two!.dispose();
});

t('gradients of sum, mean, max and reshape', async () => {
  const r = rng(3);
  const x = { shape: [3, 7, 5], data: randArray(r, 105) };
  await gradcheck(([a]) => sum(a!, 1), [x]);
  await gradcheck(([a]) => mean(a!, [0, 2], true), [x]);
  await gradcheck(([a]) => max(a!, 2), [x], { eps: 1e-3 });
  await gradcheck(([a]) => reshape(a!, [7, -1]), [x]);
});

t('argmax picks the first maximum along any axis', async () => {
  const r = rng(17);
  for (const shape of [[1, 1], [3, 7], [2, 1000, 3], [5, 32129]]) {
    // Few distinct values so that ties are common.
    const x = randArray(r, numel(shape)).map((v) => Math.round(v * 3));
    for (let axis = 0; axis < shape.length; axis++) {
      const y = tidy(() => argmax(tensor(x, shape), axis));
      const want = reduce64(x, shape, axis, (v) => v.indexOf(Math.max(...v)));
      assertClose(await read(y), want, { rtol: 0, atol: 0, what: `argmax ${shape} axis ${axis}` });
      assert.is(y.dtype, 'i32');
      y.dispose();
    }
  }
});

t('bad axes and reshapes are named', () => {
  const x = tensor([1, 2, 3, 4, 5, 6], [2, 3]);
  assert.throws(() => sum(x, 2), /axis 2 out of range for rank 2/);
  assert.throws(() => reshape(x, [4, 2]), /cannot view f32\[2,3\] as \[4,2\]/);
  x.dispose();
});

t.run();
