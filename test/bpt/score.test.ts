// The SVGD score of particle j must be -grad of ITS loss L_j (summed or averaged over its own
// examples), although all M x K rows run as one batched forward/backward. Checked two ways on a
// tiny random T5: against the gradient of particle j's rows alone, and against float64 central
// differences of the per-particle losses along random directions.
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { StackPrompts } from '../../src/bpt/prompts.js';
import { sourceObjective, sourceRows, uploadSourceBatch } from '../../src/bpt/source.js';
import { ByT5Tokenizer } from '../../src/io/tokenizer/byt5_tokenizer.js';
import { disposeModel, modelFromCheckpoint, randomCheckpoint } from '../../src/nn/t5/weights.js';
import { tensor } from '../../src/tensor/create.js';
import { tidy } from '../../src/tensor/scope.js';
import { collate, type Encoded } from '../../src/train/data.js';
import type { LoadedModel } from '../../src/train/model.js';
import { assertClose, randArray, rng } from '../util/check.js';
import { initGpu, read } from '../util/gpu.js';
import { tinyConfig } from '../util/fixtures.js';

const t = suite('bpt/score');
let lm: LoadedModel;
t.before(async () => {
  await initGpu();
  lm = { model: modelFromCheckpoint(randomCheckpoint(tinyConfig(), 11)), tokenizer: new ByT5Tokenizer(), dir: 'random' };
});
t.after(() => disposeModel(lm.model));

const M = 3, L = 4, D = 16;
const r = rng(5);

/** Random examples of K tasks with inputs and targets of different lengths. */
function draw(): (task: number) => Encoded {
  return (task) => {
    const len = (lo: number, hi: number) => lo + Math.floor(r() * (hi - lo + 1));
    const ids = (n: number) => [...Array.from({ length: n - 1 }, () => 3 + Math.floor(r() * 256)), 1];
    return { example: { task: 'cola', id: 'x', fields: { sentence: '' }, label: 0 }, task, input: ids(len(3, 9)), target: ids(len(1, 4)) };
  };
}

const mode = { training: false } as const;

/** L_j and its gradient for one particle alone: its rows, its prompt. */
async function alone(theta: Float64Array, rows: Encoded[], scale: number[], tokenLoss: 'mean' | 'sum'): Promise<{ loss: number; grad: Float64Array }> {
  const module = new StackPrompts(tensor(theta, [1, L, D]));
  const h = collate(rows, { padId: 0, decoderStartId: 0, padMultiple: 1, promptIndex: rows.map(() => 0) });
  const out = tidy(() => sourceObjective(lm, module, uploadSourceBatch(h, scale, tokenLoss), mode));
  const loss = await out.value.item();
  const grad = await read(out.grads[0]!);
  [out.value, out.rowLoss, ...out.grads].forEach((x) => x.dispose());
  module.dispose();
  return { loss, grad };
}

for (const score of ['sum', 'mean'] as const) {
  for (const tokenLoss of ['mean', 'sum'] as const) {
    t(`score ${score}, token loss ${tokenLoss}: row j of the batched gradient is grad L_j`, async () => {
      const o = { method: 'bpt' as const, particles: M, examplesPerTask: 1, particleBatch: 'independent' as const, score };
      const picked = sourceRows(o, [0, 1], draw());
      const thetas = randArray(r, M * L * D);
      const module = new StackPrompts(tensor(thetas, [M, L, D]));
      const h = collate(picked.rows, { padId: 0, decoderStartId: 0, padMultiple: 4, promptIndex: picked.promptIndex });
      const out = tidy(() => sourceObjective(lm, module, uploadSourceBatch(h, picked.scale, tokenLoss), mode));
      const total = await out.value.item();
      const batched = await read(out.grads[0]!);
      const rowLoss = await read(out.rowLoss);
      [out.value, out.rowLoss, ...out.grads].forEach((x) => x.dispose());
      module.dispose();

      let sumLj = 0;
      for (let j = 0; j < M; j++) {
        const rows = picked.rows.filter((_, i) => picked.promptIndex[i] === j);
        const scale = picked.scale.filter((_, i) => picked.promptIndex[i] === j);
        const theta = thetas.slice(j * L * D, (j + 1) * L * D);
        const own = await alone(theta, rows, scale, tokenLoss);
        sumLj += own.loss;
        const gj = batched.slice(j * L * D, (j + 1) * L * D);
        assertClose(gj, own.grad, { rtol: 1e-4, atol: 1e-7, what: `particle ${j} gradient vs its rows alone` });
        // The per-example losses behind L_j: L_j = sum_k scale_k loss_k.
        const lj = rowLoss.reduce((a, v, i) => a + (picked.promptIndex[i] === j ? v * picked.scale[i]! : 0), 0);
        assert.ok(Math.abs(lj - own.loss) <= 1e-4 * Math.abs(own.loss), `L_${j}: ${lj} from row losses vs ${own.loss}`);

        // Central differences of L_j in float64 along a random direction.
        const v = randArray(r, L * D);
        // Richardson's extrapolation of central differences at eps and eps/2 cancels the
        // O(eps^2) curvature term, which is large for a random T5; f32 noise bounds eps below.
        const central = async (eps: number): Promise<number> => {
          const plus = await alone(theta.map((x, i) => x + eps * v[i]!), rows, scale, tokenLoss);
          const minus = await alone(theta.map((x, i) => x - eps * v[i]!), rows, scale, tokenLoss);
          return (plus.loss - minus.loss) / (2 * eps);
        };
        const fd = (4 * (await central(5e-3)) - (await central(1e-2))) / 3;
        const an = gj.reduce((a, g, i) => a + g * v[i]!, 0);
        assert.ok(Math.abs(fd - an) <= 1e-2 * Math.max(Math.abs(fd), Math.abs(an), 0.05), `particle ${j}: finite difference ${fd} vs <grad, v> ${an}`);
      }
      assert.ok(Math.abs(total - sumLj) <= 1e-4 * Math.abs(sumLj), `objective ${total} = sum_j L_j ${sumLj}`);
    });
  }
}

t.run();
