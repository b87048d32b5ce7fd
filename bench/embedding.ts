// The embedding family (shaders/embedding.wgsl): the lookup by gather (rows of any width) and
// gather4 (widths a multiple of 4), and the deterministic scatter-add backward (histogram, scan,
// rank_scatter, then accumulate or accumulate4), on T5's table (32128 x 512) and an odd width, for
// a batch of 8 x 228 ids. Each is checked against test/ref/embedding.ts on the timed inputs first
// (the lookup exactly). GB/s: the lookup reads and writes its rows (8 bytes an element of the
// output); the backward reads the gradient and writes the whole table.
//   node dist/bench/embedding.js [--quick] [--trace=FILE] [--out=FILE]
import { valueAndGrad } from '../src/autograd/grad.js';
import { mul } from '../src/ops/elementwise.js';
import { embedding } from '../src/ops/embedding.js';
import { sum } from '../src/ops/sum.js';
import { tensor } from '../src/tensor/create.js';
import { keep } from '../src/tensor/scope.js';
import { randF32, randInt, rng } from '../test/ref/data.js';
import { gather64, scatter64 } from '../test/ref/embedding.js';
import { suiteArgs } from './lib/args.js';
import { Family } from './lib/family.js';

const args = suiteArgs('embedding', {});
const VOCAB = args.quick ? 4096 : 32128, IDS = args.quick ? 228 : 8 * 228;
const fam = new Family('embedding', args.quick);
await fam.start(`table [${VOCAB}, 512 | 509], ${IDS} ids`);

const r = rng(11);
for (const [dim, vec] of [[512, true], [509, false]] as const) {
  const table = randF32(r, VOCAB * dim);
  const ids = Int32Array.from({ length: IDS }, () => randInt(r, 0, VOCAB - 1));
  const g = randF32(r, IDS * dim);
  const [tt, it, gt] = [keep(tensor(table, [VOCAB, dim])), keep(tensor(ids, [IDS])), keep(tensor(g, [IDS, dim]))];
  const c = `[${VOCAB},${dim}] x ${IDS} ids`;
  await fam.outputs({ case: c, variant: vec ? 'gather4' : 'gather', bytes: 8 * IDS * dim }, () => [embedding(tt, it)], [gather64(table, dim, ids)], { rtol: 0, atol: 0 });
  await fam.outputs({ case: c, variant: `histogram, scan, rank_scatter, ${vec ? 'accumulate4' : 'accumulate'}`, bytes: 4 * (IDS * dim + VOCAB * dim) },
    () => valueAndGrad(() => sum(mul(embedding(tt, it), gt)), [tt]).grads, [scatter64(g, dim, ids, VOCAB)], { rtol: 1e-6, atol: 1e-6 });
  for (const v of [tt, it, gt]) v.dispose();
}
await fam.finish({ vocab: VOCAB, ids: IDS });
