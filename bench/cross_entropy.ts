// The cross_entropy family (shaders/cross_entropy.wgsl): ce_forward and ce_backward for every
// reduction (MODE none, sum, mean; ce_reduce for the last two) under every lanes-per-row setting,
// on T5's vocabulary of 32128 with a quarter of the labels ignored. Each is checked against
// test/ref/cross_entropy.ts on the timed inputs first. GB/s: the forward reads the logits once
// (4 bytes an element); forward + backward reads them twice more and writes dlogits (16).
//   node dist/bench/cross_entropy.js [--quick] [--rows 64] [--trace=FILE] [--out=FILE]
import { valueAndGrad } from '../src/autograd/grad.js';
import { crossEntropy } from '../src/ops/cross_entropy.js';
import { mul } from '../src/ops/elementwise.js';
import { sum } from '../src/ops/sum.js';
import { tensor } from '../src/tensor/create.js';
import { keep } from '../src/tensor/scope.js';
import { crossEntropy64, IGNORE } from '../test/ref/cross_entropy.js';
import { randF32, randInt, rng } from '../test/ref/data.js';
import { eachLaneSetting } from '../test/util/lanes.js';
import { numberFlag, suiteArgs } from './lib/args.js';
import { Family } from './lib/family.js';

const args = suiteArgs('cross_entropy', { rows: { type: 'string', help: 'rows of the logits (default 64, 8 with --quick)' } });
const ROWS = numberFlag('rows', args.rows, args.quick ? 8 : 64), VOCAB = 32128;
const fam = new Family('cross_entropy', args.quick);
await fam.start(`logits [${ROWS}, ${VOCAB}], every reduction and lanes-per-row setting`);

const r = rng(23);
const logits = randF32(r, ROWS * VOCAB, -6, 6);
const labels = Int32Array.from({ length: ROWS }, (_, i) => (i % 4 === 3 ? IGNORE : randInt(r, 0, VOCAB - 1)));
const [xt, lt] = [keep(tensor(logits, [ROWS, VOCAB])), keep(tensor(labels, [ROWS]))];
const size = ROWS * VOCAB;
await eachLaneSetting(async (perLane) => {
  const lanes = `per lane ${perLane ?? 'adapter'}`;
  for (const reduction of ['none', 'sum', 'mean'] as const) {
    const g = reduction === 'none' ? randF32(r, ROWS, 0.5, 2) : Float64Array.of(1.5);
    const gt = keep(tensor(g, reduction === 'none' ? [ROWS] : []));
    const want = crossEntropy64(logits, labels, VOCAB, reduction, g);
    const c = `[${ROWS},${VOCAB}]`;
    await fam.outputs({ case: c, variant: `ce_forward MODE=${reduction} ${lanes}`, bytes: 4 * size }, () => [crossEntropy(xt, lt, { reduction })], [want.loss], { rtol: 2e-6, atol: 1e-6 });
    await fam.outputs({ case: c, variant: `ce_backward MODE=${reduction} ${lanes}`, bytes: 16 * size },
      () => valueAndGrad(() => sum(mul(crossEntropy(xt, lt, { reduction }), gt)), [xt]).grads, [want.dlogits], { rtol: 1e-5, atol: 1e-7 });
    gt.dispose();
  }
});
for (const v of [xt, lt]) v.dispose();
await fam.finish({ rows: ROWS, vocab: VOCAB });
