// MPT's distillation (Wang et al., 2023): while the shared P o (U_k V_k) trains on the source tasks,
// per-task teacher prompts (a SPoT source run) pull the student towards them, L_PLM + lambda x
// (L_Logits + L_Hidden):
//   L_Logits: the mean over target tokens of KL(p_teacher || p_student);
//   L_Hidden: the mean over target tokens and model dimensions of (H_teacher - H_student)^2, H the
//             decoder's last hidden states (the paper says "hidden states" without naming a
//             layer; the head's input is the one whose match implies matching logits).
import { join } from 'node:path';
import { noGrad } from '../../autograd/tape.js';
import { toFiniteFloat32 } from '../../io/dtype.js';
import { readSafetensors } from '../../io/safetensors.js';
import { seq2seqLogits, type Seq2SeqLogits } from '../../nn/t5/seq2seq.js';
import { add, exp, mul, scale, sub } from '../../ops/elementwise.js';
import { logSoftmax } from '../../ops/softmax.js';
import type { Tensor } from '../../tensor/tensor.js';
import { IGNORE, type HostBatch, type StepBatch } from '../../train/data.js';
import { upload } from '../../train/host.js';
import type { LoadedModel } from '../../train/model.js';
import { readRun } from '../../train/run.js';
import { StackPrompts } from '../prompts.js';
import { sum } from '../../ops/sum.js';
import { reshape } from '../../ops/reshape.js';

/** Teacher prompts in the order of `tasks`, from a SPoT source run. */
export function loadTeachers(dir: string, tasks: readonly string[], promptLength: number, dModel: number): StackPrompts {
  const run = readRun(dir, 'source');
  if (run.method !== 'spot') throw new Error(`${dir}: teachers come from a 'spot' source run, this one is '${run.method}'`);
  const path = join(dir, 'prompts.safetensors');
  const { tensors, metadata } = readSafetensors(path, undefined, (header) => {
    const shape = header.tensors.get('prompts')?.shape;
    if (!shape || shape.length !== 3 || shape[1] !== promptLength || shape[2] !== dModel) {
      const names = JSON.parse(header.metadata.bpt_names ?? '[]') as string[];
      throw new Error(`${path}: teacher prompts are [${shape?.join(', ') ?? 'missing'}], expected [${names.length}, ${promptLength}, ${dModel}]`);
    }
  });
  const names = JSON.parse(metadata.bpt_names ?? '[]') as string[];
  const data = toFiniteFloat32(tensors.get('prompts')!, `${path}: tensor "prompts"`);
  const size = promptLength * dModel;
  const out = new Float32Array(tasks.length * size);
  tasks.forEach((task, k) => {
    const i = names.indexOf(task);
    if (i < 0) throw new Error(`${dir}: no teacher prompt for task '${task}' (it has: ${names.join(', ')})`);
    out.set(data.subarray(i * size, (i + 1) * size), k * size);
  });
  return new StackPrompts(upload({ data: out, shape: [tasks.length, promptLength, dModel] }));
}

/** Token weights [B, T] of the distillation terms: lambda / (the batch's target tokens) on each of them. */
export function distillationWeights(h: HostBatch, weight: number): Float32Array {
  const count = h.labels.reduce((n, l) => n + (l === IGNORE ? 0 : 1), 0);
  return Float32Array.from(h.labels, (l) => (l === IGNORE ? 0 : weight / Math.max(1, count)));
}

/** The teachers, and whether the hidden-state term is on (lambda is in the token weights). */
export interface Distillation {
  teacher: StackPrompts;
  hidden: boolean;
}

/**
 * lambda x (L_Logits + L_Hidden) over the batch's target tokens (see the file comment), the teacher
 * being each row's task prompt run without dropout and without gradients; `weights` come from
 * `distillationWeights` (a step input, so a captured step can replay it). A recorded scalar.
 */
export function distillationLoss(lm: LoadedModel, batch: StepBatch, weights: Tensor, student: Seq2SeqLogits, d: Distillation): Tensor {
  const teacher = noGrad(() => seq2seqLogits(lm.model, batch, d.teacher.prompt(batch), { training: false }));
  const teacherLogp = noGrad(() => logSoftmax(teacher.logits));
  const kl = sum(mul(exp(teacherLogp), sub(teacherLogp, logSoftmax(student.logits))), -1);
  const perToken = reshape(weights, kl.shape);
  const logits = sum(mul(kl, perToken));
  if (!d.hidden) return logits;
  const diff = sub(teacher.decoderHidden, student.decoderHidden);
  return add(logits, scale(sum(mul(sum(mul(diff, diff), -1), perToken)), 1 / lm.model.config.d_model));
}
