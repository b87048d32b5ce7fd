// The dropout family (shaders/dropout.wgsl): its one kernel, Philox4x32-10 keep masks, forward
// and (the same kernel on the gradient) backward, at T5's rates. Each is checked against the host
// Philox of test/ref/dropout.ts on the timed inputs first: the same mask, the kept values to within
// the f32 rounding of the scaling (the tests' tolerance). GB/s: 8 bytes an element (read x, write y).
//   node dist/bench/dropout.js [--quick] [--n 1048576] [--trace=FILE] [--out=FILE]
import { valueAndGrad } from '../src/autograd/grad.js';
import { dropout } from '../src/ops/dropout.js';
import { mul } from '../src/ops/elementwise.js';
import { sum } from '../src/ops/sum.js';
import { tensor } from '../src/tensor/create.js';
import { keep } from '../src/tensor/scope.js';
import { randF32, rng } from '../test/ref/data.js';
import { dropout64 } from '../test/ref/dropout.js';
import { numberFlag, suiteArgs } from './lib/args.js';
import { Family } from './lib/family.js';

const args = suiteArgs('dropout', { n: { type: 'string', help: 'elements (default 1048576, 65536 with --quick)' } });
const N = numberFlag('n', args.n, args.quick ? 1 << 16 : 1 << 20);
const fam = new Family('dropout', args.quick);
await fam.start(`${N} elements`);

const r = rng(31);
const x = randF32(r, N, -2, 2), g = randF32(r, N);
const [xt, gt] = [keep(tensor(x, [N])), keep(tensor(g, [N]))];
const TOL = { rtol: 1e-6, atol: 0 };
const SEED = 2 ** 40 + 12345, OFFSET = 3;
for (const p of [0.1, 0.5]) {
  const opts = { seed: SEED, offset: OFFSET, training: true };
  await fam.outputs({ case: `[${N}] p ${p}`, variant: 'main (forward)', bytes: 8 * N }, () => [dropout(xt, p, opts)], [dropout64(x, p, SEED, OFFSET)], TOL);
  // The gradient is the same mask and scale applied to g.
  await fam.outputs({ case: `[${N}] p ${p}`, variant: 'main (backward, with the forward)', bytes: 16 * N },
    () => valueAndGrad(() => sum(mul(dropout(xt, p, opts), gt)), [xt]).grads, [dropout64(g, p, SEED, OFFSET)], TOL);
}
for (const v of [xt, gt]) v.dispose();
await fam.finish({ n: N, seed: SEED, offset: OFFSET });
