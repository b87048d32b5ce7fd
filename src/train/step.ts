// One supervised training step of the target stage and the baselines: Hugging Face's loss (token
// mean over the batch) plus an optional penalty (the BPT prior), its gradient w.r.t. the trainable
// tensors, and the optimizer update, recorded for one submit.
import { valueAndGrad } from '../autograd/grad.js';
import type { RunMode } from '../nn/t5/model.js';
import type { PromptInput } from '../nn/prompt.js';
import { seq2seq, type Seq2SeqBatch } from '../nn/t5/seq2seq.js';
import { add } from '../ops/elementwise.js';
import { tidy } from '../tensor/scope.js';
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
    return recordStepOn(lm, batch, target.prompt(h, batch), target, opt, mode);
  });
}

/** `recordTrainStep` on a batch already on the GPU with its prompt (a captured step's inputs, src/jit). */
export function recordStepOn(lm: LoadedModel, batch: Seq2SeqBatch, prompt: PromptInput | undefined, target: StepTarget, opt: GradientOptimizer,
  mode: RunMode): StepValues {
  const { grads, aux } = valueAndGrad(() => {
    const { loss } = seq2seq(lm.model, batch, prompt, mode);
    const penalty = target.penalty ? target.penalty() : null;
    return { value: penalty ? add(loss, penalty) : loss, aux: { loss, penalty } };
  }, target.params);
  opt.step(grads);
  return aux;
}
