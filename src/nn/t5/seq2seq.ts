// Teacher-forced sequence-to-sequence passes: the loss that every training stage minimises.
import { crossEntropy } from '../../ops/cross_entropy.js';
import type { Tensor } from '../../tensor/tensor.js';
import { prependPrompt, type PromptInput } from '../prompt.js';
import type { RunMode, T5Model } from './model.js';
import { reshape } from '../../ops/reshape.js';
import { mul } from '../../ops/elementwise.js';
import { sum } from '../../ops/sum.js';

/** A tokenised batch on the GPU. Labels use -100 for positions that do not count. */
export interface Seq2SeqBatch {
  /** i32 [B, S], right-padded with 0. */
  inputIds: Tensor;
  /** f32 [B, S]: 1 for real tokens. */
  attentionMask: Tensor;
  /** i32 [B, T]: labels shifted right, starting with the decoder start token. */
  decoderInputIds: Tensor;
  /** i32 [B, T]. */
  labels: Tensor;
  /**
   * f32 [B, T], optional: per-token loss weights; the loss is then sum(NLL x weights) rather than
   * the token mean (e.g. 1 / (B x n_r) on row r's n_r target tokens weighs every example alike).
   */
  weights?: Tensor;
}

export interface Seq2SeqLogits {
  encoderHidden: Tensor;
  /** The decoder's last hidden states [B, T, d] (after its final norm), the head's input. */
  decoderHidden: Tensor;
  /** The key mask the encoder used (prompt positions included). */
  encoderMask: Tensor;
  logits: Tensor;
}

export interface Seq2SeqOutput extends Seq2SeqLogits {
  /** Mean cross-entropy over non-ignored label tokens. */
  loss: Tensor;
}

/**
 * Encoder (with an optional soft prompt), decoder and head under teacher forcing, without a loss:
 * for objectives built from per-token NLL (`tokenNll`) or from the logits themselves.
 */
export function seq2seqLogits(model: T5Model, batch: Seq2SeqBatch, prompt?: PromptInput, mode: RunMode = { training: false }): Seq2SeqLogits {
  const { embeds, mask } = prompt
    ? prependPrompt(model, batch.inputIds, batch.attentionMask, prompt)
    : { embeds: model.embed(batch.inputIds), mask: batch.attentionMask };
  const encoderHidden = model.encode(embeds, mask, mode);
  const decoderHidden = model.decode(batch.decoderInputIds, encoderHidden, mask, mode);
  return { encoderHidden, decoderHidden, encoderMask: mask, logits: model.logits(decoderHidden) };
}

/**
 * `seq2seqLogits` plus the loss: the mean cross-entropy over the batch's non-ignored label tokens,
 * or their weighted sum when the batch has `weights`.
 */
export function seq2seq(model: T5Model, batch: Seq2SeqBatch, prompt?: PromptInput, mode: RunMode = { training: false }): Seq2SeqOutput {
  const out = seq2seqLogits(model, batch, prompt, mode);
  if (batch.weights) return { ...out, loss: sum(mul(tokenNll(out.logits, batch.labels), batch.weights)) };
  const [b, t, v] = out.logits.shape as [number, number, number];
  const loss = crossEntropy(reshape(out.logits, [b * t, v]), reshape(batch.labels, [b * t]), { ignoreIndex: -100, reduction: 'mean' });
  return { ...out, loss };
}

/** Per-token negative log-likelihood [B, T] (0 where the label is ignored). */
export function tokenNll(logits: Tensor, labels: Tensor): Tensor {
  const [b, t, v] = logits.shape as [number, number, number];
  return reshape(crossEntropy(reshape(logits, [b * t, v]), reshape(labels, [b * t]), { ignoreIndex: -100, reduction: 'none' }), [b, t]);
}
