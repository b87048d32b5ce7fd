import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { fill, ones, zeros } from '../../src/ops/fill.js';
import { tidy } from '../../src/tensor/scope.js';
import { fill64 } from '../ref/fill.js';
import { assertClose, numel } from '../util/check.js';
import { initGpu, read } from '../util/gpu.js';

const t = suite('fill');
t.before(async () => void (await initGpu()));

// Sizes below, at and past one workgroup of 256, and values that f32 rounds or i32 truncates.
const SHAPES = [[1], [7, 13], [256], [3, 1031], [70001]];

t('fill matches the reference for f32 and i32 over odd sizes, the value as the dtype stores it', async () => {
  for (const shape of SHAPES) {
    for (const [value, dtype] of [[0.1, 'f32'], [-3.4e38, 'f32'], [16777217, 'f32'], [-7, 'i32'], [2147483647, 'i32']] as const) {
      const y = tidy(() => fill(shape, value, dtype));
      assert.is(y.dtype, dtype);
      assert.equal([...y.shape], shape);
      assertClose(await read(y), fill64(numel(shape), value, dtype), { rtol: 0, atol: 0, what: `fill ${shape} ${value} ${dtype}` });
      y.dispose();
    }
  }
});

t('zeros and ones', async () => {
  const [z, o] = tidy(() => [zeros([5, 3]), ones([9], 'i32')]);
  assertClose(await read(z!), fill64(15, 0), { rtol: 0, atol: 0, what: 'zeros' });
  assertClose(await read(o!), fill64(9, 1, 'i32'), { rtol: 0, atol: 0, what: 'ones' });
  z!.dispose();
  o!.dispose();
});

t.run();
