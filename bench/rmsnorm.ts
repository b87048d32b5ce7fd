// The rmsnorm family (shaders/rmsnorm.wgsl): rmsnorm_forward, rmsnorm_backward with NEED_DX and
// NEED_RSTD as the gradients asked for set them (x and weight, x alone, weight alone, which adds
// rmsnorm_weight_grad and the chunk sum), under every lanes-per-row setting, on T5's activations
// ([8 x 228, 512]) and on a long row. Each is checked against test/ref/rmsnorm.ts on the timed
// inputs first. GB/s: forward reads x twice and writes y (12 bytes an element); the backward
// counts x, g read twice and dx written (20), plus the forward and loss ops it is timed with.
//   node dist/bench/rmsnorm.js [--quick] [--trace=FILE] [--out=FILE]
import { valueAndGrad } from '../src/autograd/grad.js';
import { mul } from '../src/ops/elementwise.js';
import { sum } from '../src/ops/sum.js';
import { rmsNorm } from '../src/ops/rmsnorm.js';
import { tensor } from '../src/tensor/create.js';
import { keep } from '../src/tensor/scope.js';
import { numel } from '../test/ref/compare.js';
import { randF32, rng } from '../test/ref/data.js';
import { rmsNorm64, rmsNormGrad64 } from '../test/ref/rmsnorm.js';
import { eachLaneSetting } from '../test/util/lanes.js';
import { suiteArgs } from './lib/args.js';
import { Family } from './lib/family.js';

const args = suiteArgs('rmsnorm', {});
const fam = new Family('rmsnorm', args.quick);
await fam.start('forward and the three backward cases, every lanes-per-row setting');

const SHAPES = args.quick ? [[228, 512], [4, 8192]] : [[8 * 228, 512], [16, 32768]];
const EPS = 1e-6;
const r = rng(19);
for (const shape of SHAPES) {
  const n = shape[shape.length - 1]!, size = numel(shape);
  const x = randF32(r, size, -3, 3), w = randF32(r, n, -2, 2), g = randF32(r, size);
  const [xt, wt, gt] = [keep(tensor(x, shape)), keep(tensor(w, [n])), keep(tensor(g, shape))];
  const want = rmsNormGrad64(x, w, g, EPS);
  await eachLaneSetting(async (perLane) => {
    const lanes = `per lane ${perLane ?? 'adapter'}`;
    const c = `[${shape}]`;
    await fam.outputs({ case: c, variant: `rmsnorm_forward ${lanes}`, bytes: 12 * size }, () => [rmsNorm(xt, wt, EPS)], [rmsNorm64(x, w, EPS)], { rtol: 2e-6, atol: 1e-6 });
    const grads = (wrt: typeof xt[]) => () => valueAndGrad(() => sum(mul(rmsNorm(xt, wt, EPS), gt)), wrt).grads;
    await fam.outputs({ case: c, variant: `rmsnorm_backward NEED_DX NEED_RSTD + weight_grad ${lanes}`, bytes: 20 * size }, grads([xt, wt]), [want.dx, want.dw], { rtol: 1e-5, atol: 1e-6 });
    await fam.outputs({ case: c, variant: `rmsnorm_backward NEED_DX ${lanes}`, bytes: 20 * size }, grads([xt]), [want.dx], { rtol: 1e-5, atol: 1e-6 });
    await fam.outputs({ case: c, variant: `rmsnorm_backward NEED_RSTD + weight_grad ${lanes}`, bytes: 12 * size }, grads([wt]), [want.dw], { rtol: 1e-5, atol: 1e-6 });
  });
  for (const v of [xt, wt, gt]) v.dispose();
}
await fam.finish({ shapes: SHAPES, eps: EPS });
