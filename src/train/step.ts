// One supervised training step of the target stage and the baselines: Hugging Face's loss (token
// mean over the batch) plus an optional penalty (the BPT prior), its gradient w.r.t. the trainable
// tensors (landing in the optimizer's gradient arenas where its groups are arenas), the optimizer
// update and the step's finiteness check (finite.ts), recorded for one submit
// and captured per batch shape (src/jit): the batch, its prompt indices and the dropout seed are
// the step's inputs, so later steps of that shape are replays.
import { valueAndGrad } from '../autograd/grad.js';
import { capture, type CaptureOptions, type CapturedInputs, type CaptureStats } from '../jit/capture.js';
import type { RunMode } from '../nn/t5/model.js';
import type { PromptInput } from '../nn/prompt.js';
import { seq2seq, type Seq2SeqBatch } from '../nn/t5/seq2seq.js';
import { add } from '../ops/elementwise.js';
import { tidy } from '../tensor/scope.js';
import type { Tensor } from '../tensor/tensor.js';
import { uploadStepBatch, type HostBatch, type StepBatch } from './data.js';
import type { PromptFor } from './eval.js';
import { recordStepCheck } from './finite.js';
import type { LoadedModel } from './model.js';
import type { GradientOptimizer } from './optimizers.js';

/** The trainable side of a step. */
export interface StepTarget {
  prompt: PromptFor;
  /** A recorded scalar added to the loss (the prior), or null. */
  penalty: (() => Tensor) | null;
  /** The trained tensors by name (the names label the finiteness check). */
  params: ReadonlyMap<string, Tensor>;
}

/** The data loss, the penalty and the finiteness counts of a step, to read back (the caller disposes them). */
export interface StepValues {
  loss: Tensor;
  penalty: Tensor | null;
  /** Non-finite counts of the tensors `checked` names (see finite.ts). */
  check: Tensor;
}

/** What a recorded step returns: tensors to read back, and the names of the checked tensors. */
export interface RecordedStep {
  values: StepValues;
  checked: string[];
}

/** A training step captured per batch shape: records one step on batch `h` with dropout seed `seed`. */
export interface TrainStep {
  (h: HostBatch, seed: number): RecordedStep;
  readonly stats: Readonly<CaptureStats>;
  /** Frees the captured plans (before the parameters and the optimizer go). */
  dispose(): void;
}

/** Forward, backward and update of `target`'s tensors with `opt`, dropout on when `training`. */
export function trainStep(lm: LoadedModel, target: StepTarget, opt: GradientOptimizer, training: boolean, options: CaptureOptions = {}): TrainStep {
  let checked: string[] = [];
  const step = capture(({ seed, ...batch }: CapturedInputs<StepBatch & { seed: number }>) => {
    const r = recordStepOn(lm, batch, () => target.prompt(batch), target, opt, { training, seed });
    checked = r.checked;
    const { loss, penalty, check } = r.values;
    const out: Record<string, Tensor> = { loss, check };
    if (penalty) out.penalty = penalty;
    return out;
  }, options);
  const run = (h: HostBatch, seed: number): RecordedStep => {
    const out = tidy(() => step({ ...uploadStepBatch(h), seed }));
    return { values: { loss: out.loss!, penalty: out.penalty ?? null, check: out.check! }, checked };
  };
  return Object.assign(run, { stats: step.stats, dispose: () => step.dispose() });
}

/**
 * One training step on a batch already on the GPU (a captured step's inputs, src/jit). `prompt`
 * builds the prompt inside the differentiated function: ops that make it from the trained tensors
 * (P o (U V), a row-indexed stack) must be on the tape for their gradients to reach those tensors.
 */
export function recordStepOn(lm: LoadedModel, batch: Seq2SeqBatch, prompt: () => PromptInput | undefined, target: StepTarget, opt: GradientOptimizer,
  mode: RunMode): RecordedStep {
  const { grads, aux } = valueAndGrad(() => {
    const { loss } = seq2seq(lm.model, batch, prompt(), mode);
    const penalty = target.penalty ? target.penalty() : null;
    return { value: penalty ? add(loss, penalty) : loss, aux: { loss, penalty } };
  }, [...target.params.values()], { into: opt.gradTargets() });
  opt.step(grads);
  const check = recordStepCheck({ loss: aux.loss, penalty: aux.penalty }, target.params, grads);
  return { values: { ...aux, check: check.counts }, checked: check.names };
}
