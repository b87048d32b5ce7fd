// One supervised training step of the target stage and the baselines: Hugging Face's loss (token
// mean over the batch) plus an optional penalty (the BPT prior), its gradient w.r.t. the trainable
// tensors, and the optimizer update, recorded for one submit.
import { valueAndGrad } from '../autograd/grad.js';
import { noGrad } from '../autograd/tape.js';
import type { RunMode } from '../nn/t5/model.js';
import { seq2seq } from '../nn/t5/seq2seq.js';
import { add } from '../ops/elementwise.js';
import { keep, tidy } from '../tensor/scope.js';
import type { Tensor } from '../tensor/tensor.js';
import { uploadBatch, type HostBatch } from './data.js';
import type { PromptFor } from './eval.js';
import type { LoadedModel } from './model.js';
import type { GradientOptimizer } from './optimizers.js';

/** The trainable side of a step. */
export interface StepTarget {
  prompt: PromptFor;
  /** A recorded scalar added to the loss (the prior), or null. */
  penalty: (() => Tensor) | null;
  params: Tensor[];
}

/** The data loss and the penalty of a step, to read back (the caller disposes them). */
export interface StepValues {
  loss: Tensor;
  penalty: Tensor | null;
}

/** Records forward, backward and update of one step on batch `h`. */
export function recordTrainStep(lm: LoadedModel, h: HostBatch, target: StepTarget, opt: GradientOptimizer, mode: RunMode): StepValues {
  return tidy(() => {
    const batch = uploadBatch(h);
    let loss: Tensor | null = null;
    let penalty: Tensor | null = null;
    const { grads } = valueAndGrad(() => {
      const out = seq2seq(lm.model, batch, target.prompt(h, batch), mode);
      loss = noGrad(() => keep(out.loss.view(out.loss.shape)));
      if (!target.penalty) return out.loss;
      const p = target.penalty();
      penalty = noGrad(() => keep(p.view(p.shape)));
      return add(out.loss, p);
    }, target.params);
    opt.step(grads);
    return { loss: loss!, penalty };
  });
}
