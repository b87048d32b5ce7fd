// seq2seq's loss: the token mean by default; with per-token weights, sum(NLL x weights), so that
// weights 1 / (B x n_r) give the mean of the rows' mean losses (every example weighs alike).
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { seq2seq, tokenNll } from '../../src/nn/t5/seq2seq.js';
import { disposeModel, modelFromCheckpoint, randomCheckpoint } from '../../src/nn/t5/weights.js';
import { noGrad } from '../../src/autograd/tape.js';
import { tensor } from '../../src/tensor/create.js';
import { tidy } from '../../src/tensor/scope.js';
import { readAll } from '../../src/tensor/tensor.js';
import { collate, IGNORE, lossWeights, uploadBatch } from '../../src/train/data.js';
import { tinyConfig } from '../util/fixtures.js';
import { initGpu } from '../util/gpu.js';

const t = suite('nn/seq2seq_loss');
t.before(async () => {
  await initGpu();
});

t('weights turn the token mean into the mean of per-example means', async () => {
  const model = modelFromCheckpoint(randomCheckpoint(tinyConfig(), 7));
  const rows = [
    { task: 0, input: [40, 41, 42, 1], target: [50, 1] },
    { task: 0, input: [43, 1], target: [51, 52, 53, 54, 55, 1] },
    { task: 0, input: [44, 45, 46, 47, 48, 1], target: [56, 57, 1] },
  ];
  const h = collate(rows, { padId: 0, decoderStartId: 0, padMultiple: 1, lengths: { input: 7, target: 7 } });
  const [plain, weighted, nll] = await readAll(noGrad(() => tidy(() => {
    const batch = uploadBatch(h);
    const w = tensor(lossWeights(h, [1 / 3, 1 / 3, 1 / 3], 'mean'), [h.rows, h.targetLength]);
    const out = seq2seq(model, batch);
    return [out.loss, seq2seq(model, { ...batch, weights: w }).loss, tokenNll(out.logits, batch.labels)];
  })));
  let tokenSum = 0;
  let tokens = 0;
  let exampleMean = 0;
  for (let r = 0; r < h.rows; r++) {
    let s = 0;
    let n = 0;
    for (let j = 0; j < h.targetLength; j++) {
      if (h.labels[r * h.targetLength + j] === IGNORE) continue;
      s += nll![r * h.targetLength + j]!;
      n++;
    }
    tokenSum += s;
    tokens += n;
    exampleMean += s / n / h.rows;
  }
  assert.ok(Math.abs(plain![0]! - tokenSum / tokens) < 1e-5, `token mean ${plain![0]} vs ${tokenSum / tokens}`);
  assert.ok(Math.abs(weighted![0]! - exampleMean) < 1e-5, `example mean ${weighted![0]} vs ${exampleMean}`);
  assert.ok(Math.abs(exampleMean - tokenSum / tokens) > 1e-3, 'the two means differ on rows of unequal length');
  disposeModel(model);
});

t.run();
