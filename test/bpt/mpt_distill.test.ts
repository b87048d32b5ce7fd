// MPT's distillation term against a float64 reference computed from the teacher's and the
// student's outputs: lambda x (mean KL(p_teacher || p_student) + mean squared hidden-state gap),
// the hidden term switchable, and zero when the student is the teacher.
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { noGrad } from '../../src/autograd/tape.js';
import { distillationLoss, distillationWeights } from '../../src/bpt/baselines/mpt.js';
import { StackPrompts } from '../../src/bpt/prompts.js';
import { ByT5Tokenizer } from '../../src/io/tokenizer/byt5_tokenizer.js';
import { seq2seqLogits } from '../../src/nn/t5/seq2seq.js';
import { disposeModel, modelFromCheckpoint, randomCheckpoint } from '../../src/nn/t5/weights.js';
import { tensor } from '../../src/tensor/create.js';
import { tidy } from '../../src/tensor/scope.js';
import { readAll } from '../../src/tensor/tensor.js';
import { collate, IGNORE, uploadStepBatch } from '../../src/train/data.js';
import { upload } from '../../src/train/host.js';
import type { LoadedModel } from '../../src/train/model.js';
import { rng } from '../../src/util/random.js';
import { tinyConfig } from '../util/fixtures.js';
import { initGpu } from '../util/gpu.js';

const t = suite('bpt/mpt_distill');
t.before(async () => {
  await initGpu();
});

const prompts = (seed: number): StackPrompts => {
  const r = rng(seed);
  return new StackPrompts(upload({ data: Float32Array.from({ length: 2 * 3 * 16 }, () => r() - 0.5), shape: [2, 3, 16] }));
};

t('lambda x (KL + hidden MSE) matches the float64 reference', async () => {
  const lm: LoadedModel = { model: modelFromCheckpoint(randomCheckpoint(tinyConfig(), 5)), tokenizer: new ByT5Tokenizer(), dir: '(test)' };
  const h = collate([
    { task: 0, input: [40, 41, 1], target: [50, 51, 1] },
    { task: 1, input: [42, 43, 44, 45, 1], target: [52, 1] },
  ], { padId: 0, decoderStartId: 0, padMultiple: 1 });
  const teacher = prompts(1);
  const student = prompts(2);
  const [withHidden, klOnly, same, tLogits, sLogits, tHidden, sHidden] = await readAll(noGrad(() => tidy(() => {
    const batch = uploadStepBatch(h);
    const w = tensor(distillationWeights(h, 0.7), [h.rows, h.targetLength]);
    const s = seq2seqLogits(lm.model, batch, student.prompt(batch));
    const tOut = seq2seqLogits(lm.model, batch, teacher.prompt(batch));
    const self = seq2seqLogits(lm.model, batch, teacher.prompt(batch));
    return [
      distillationLoss(lm, batch, w, s, { teacher, hidden: true }),
      distillationLoss(lm, batch, w, s, { teacher, hidden: false }),
      distillationLoss(lm, batch, w, self, { teacher, hidden: true }),
      tOut.logits, s.logits, tOut.decoderHidden, s.decoderHidden,
    ];
  })));
  const [v, d] = [384, 16];
  const logSoftmax = (x: Float32Array, at: number): number[] => {
    const row = Array.from(x.subarray(at * v, (at + 1) * v), Number);
    const m = Math.max(...row);
    const lse = m + Math.log(row.reduce((a, z) => a + Math.exp(z - m), 0));
    return row.map((z) => z - lse);
  };
  let kl = 0;
  let mse = 0;
  let n = 0;
  h.labels.forEach((l, at) => {
    if (l === IGNORE) return;
    n++;
    const [p, q] = [logSoftmax(tLogits as Float32Array, at), logSoftmax(sLogits as Float32Array, at)];
    kl += p.reduce((a, lp, k) => a + Math.exp(lp) * (lp - q[k]!), 0);
    for (let k = 0; k < d; k++) mse += (tHidden![at * d + k]! - sHidden![at * d + k]!) ** 2 / d;
  });
  const close = (got: number, want: number, what: string): void => assert.ok(Math.abs(got - want) <= 1e-4 * Math.max(1, Math.abs(want)), `${what}: ${got} vs ${want}`);
  close(klOnly![0]!, (0.7 * kl) / n, 'KL term');
  close(withHidden![0]!, (0.7 * (kl + mse)) / n, 'KL + hidden MSE');
  assert.ok(mse / n > 1e-4, 'the hidden states differ');
  assert.ok(Math.abs(same![0]!) < 1e-5, `teacher as student: ${same![0]}`);
  [teacher, student].forEach((p) => p.stack.dispose());
  disposeModel(lm.model);
});

t.run();
