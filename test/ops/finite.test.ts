import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { recorder } from '../../src/gpu/recorder.js';
import { nonFiniteAt, nonFiniteCounts } from '../../src/ops/finite.js';
import { tensor } from '../../src/tensor/create.js';
import { tidy } from '../../src/tensor/scope.js';
import { numel, randArray, randInt, rng } from '../util/check.js';
import { initGpu } from '../util/gpu.js';

const t = suite('finite');
t.before(async () => void (await initGpu()));

/** Host count of NaN and infinite values. */
function hostCounts(x: Float32Array): [number, number] {
  let nan = 0, inf = 0;
  for (const v of x) {
    if (Number.isNaN(v)) nan++;
    else if (!Number.isFinite(v)) inf++;
  }
  return [nan, inf];
}

t('counts the NaN and infinite values of many tensors of random odd sizes, 7 per dispatch', async () => {
  const r = rng(3);
  // 17 tensors: three dispatches, the last one partly filled; sizes from a scalar to several chunks of 4096.
  const shapes: number[][] = [[], [1], [4097], [3, 4099], [70001]];
  while (shapes.length < 17) shapes.push([randInt(r, 1, 40), randInt(r, 1, 300)]);
  const host = shapes.map((shape, k) => {
    const x = Float32Array.from(randArray(r, numel(shape), -3, 3));
    // Tensors 2, 5, 8, ... stay finite; the others get NaN, +Inf and -Inf at random places,
    // the first and last element included.
    if (k % 3 !== 2) {
      const bad = randInt(r, 1, 6);
      for (let j = 0; j < bad; j++) x[randInt(r, 0, x.length - 1)] = [NaN, Infinity, -Infinity][j % 3]!;
      x[x.length - 1] = k % 2 ? NaN : -Infinity;
      x[0] = k % 2 ? Infinity : NaN;
    }
    return x;
  });
  const before = recorder().snapshot().dispatches;
  const counts = tidy(() => nonFiniteCounts(shapes.map((s, k) => tensor(host[k]!, s))));
  const after = recorder().snapshot().dispatches;
  const got = (await counts.toArray()) as Int32Array;
  counts.dispose();
  assert.is(got.length, 2 * shapes.length);
  host.forEach((x, k) => {
    const [nan, inf] = hostCounts(x);
    assert.equal([got[2 * k], got[2 * k + 1]], [nan, inf], `tensor ${k} [${shapes[k]}]`);
    assert.is(nonFiniteAt(got, k, `t${k}`) === null, nan + inf === 0);
  });
  assert.is(after - before, 4, "one fill and 3 count dispatches for 17 tensors");
});

t('names the tensor and its counts', () => {
  assert.is(nonFiniteAt(Int32Array.from([0, 0, 2, 1]), 1, 'gradient of P'), 'gradient of P has 2 NaN and 1 infinite values');
  assert.is(nonFiniteAt(Int32Array.from([1, 0]), 0, 'loss'), 'loss has 1 NaN value');
  assert.is(nonFiniteAt(Int32Array.from([0, 0]), 0, 'loss'), null);
});

t.run();
