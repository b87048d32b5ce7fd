// The softmax family (shaders/softmax.wgsl): softmax_forward and softmax_backward with LOG off and
// on, and HAS_MASK with a key-padding mask broadcast over the rows, each under every lanes-per-row
// setting (the adapter's, 8 and 1 elements per lane: see launchRows), on attention-score rows of
// T5's 228 keys and on long rows. Each is checked against test/ref/softmax.ts on the timed inputs
// first. GB/s: forward reads x twice and writes y (12 bytes an element); forward + backward
// adds reading y and g and writing dx, plus the loss ops it is timed with.
//   node dist/bench/softmax.js [--quick] [--trace=FILE] [--out=FILE]
import { valueAndGrad } from '../src/autograd/grad.js';
import { mul } from '../src/ops/elementwise.js';
import { sum } from '../src/ops/sum.js';
import { logSoftmax, softmax } from '../src/ops/softmax.js';
import { tensor } from '../src/tensor/create.js';
import { keep } from '../src/tensor/scope.js';
import { numel } from '../test/ref/compare.js';
import { randF32, rng } from '../test/ref/data.js';
import { softmax64, softmaxGrad64 } from '../test/ref/softmax.js';
import { eachLaneSetting } from '../test/util/lanes.js';
import { suiteArgs } from './lib/args.js';
import { Family } from './lib/family.js';

const args = suiteArgs('softmax', {});
const fam = new Family('softmax', args.quick);
await fam.start('(log-)softmax forward, backward and masked, every lanes-per-row setting');

const SHAPES = args.quick ? [[4, 64, 228], [16, 4096]] : [[8, 256, 228], [64, 4096]];
const r = rng(5);
for (const shape of SHAPES) {
  const n = shape[shape.length - 1]!, size = numel(shape);
  const x = randF32(r, size, -4, 4), g = randF32(r, size);
  // Key padding per leading index: the last quarter of the keys of odd ones masked out.
  const maskShape = [shape[0]!, ...shape.slice(1, -1).map(() => 1), n];
  const mask = Float64Array.from({ length: numel(maskShape) }, (_, i) => (Math.floor(i / n) % 2 && i % n >= (3 * n) / 4 ? -Infinity : 0));
  const [xt, gt, mt] = [keep(tensor(x, shape)), keep(tensor(g, shape)), keep(tensor(mask, maskShape))];
  await eachLaneSetting(async (perLane) => {
    const lanes = `per lane ${perLane ?? 'adapter'}`;
    for (const log of [false, true]) {
      const op = log ? logSoftmax : softmax;
      const want = softmax64(x, shape, log);
      await fam.outputs({ case: `[${shape}]`, variant: `softmax_forward LOG=${log} ${lanes}`, bytes: 12 * size }, () => [op(xt)], [want], { rtol: 2e-6, atol: 1e-6 });
      await fam.outputs({ case: `[${shape}]`, variant: `softmax_backward LOG=${log} ${lanes}`, bytes: 28 * size }, () => valueAndGrad(() => sum(mul(op(xt), gt)), [xt]).grads,
        [softmaxGrad64(want, g, n, log)], { rtol: 1e-5, atol: 1e-6 });
    }
    // Masked keys give exact zeros, which the finite comparison covers (softmax only: no -inf).
    await fam.outputs({ case: `[${shape}] mask [${maskShape}]`, variant: `softmax_forward HAS_MASK ${lanes}`, bytes: 12 * size }, () => [softmax(xt, { mask: mt })],
      [softmax64(x, shape, false, { data: mask, shape: maskShape })], { rtol: 2e-6, atol: 1e-6 });
  });
  for (const v of [xt, gt, mt]) v.dispose();
}
await fam.finish({ shapes: SHAPES });
