// Frozen-model passes over many token rows: rows are grouped by length (longest first, so batches
// carry little padding and the run meets few distinct shapes) and each batch is collated and
// uploaded; the callback puts its results back by the rows' original indices.
import type { T5Model } from '../../nn/t5/model.js';
import type { Seq2SeqBatch } from '../../nn/t5/seq2seq.js';
import { tidy } from '../../tensor/scope.js';
import { collate, uploadBatch } from '../../train/data.js';
import { disposeAll } from '../../train/host.js';

/** Lengths are rounded up to a multiple of this (as the training and eval batches). */
const PAD_MULTIPLE = 8;

/**
 * Runs `fn` on batches of at most `batchSize` of `rows` (token ids, EOS included), with the
 * indices into `rows` of the batch's rows in order. The batch's tensors are freed after `fn`.
 */
export async function forEachLengthBatch(model: T5Model, rows: readonly number[][], batchSize: number,
  fn: (batch: Seq2SeqBatch, index: readonly number[]) => Promise<void>): Promise<void> {
  if (!(Number.isInteger(batchSize) && batchSize >= 1)) throw new RangeError(`batch size must be a positive integer, got ${batchSize}`);
  const order = rows.map((_, i) => i).sort((a, b) => rows[b]!.length - rows[a]!.length || a - b);
  const { pad_token_id: padId, decoder_start_token_id: decoderStartId } = model.config;
  for (let at = 0; at < order.length; at += batchSize) {
    const index = order.slice(at, at + batchSize);
    const h = collate(index.map((i) => ({ task: 0, input: rows[i]!, target: [] })), { padId, decoderStartId, padMultiple: PAD_MULTIPLE });
    const batch = tidy(() => uploadBatch(h));
    try {
      await fn(batch, index);
    } finally {
      disposeAll(batch);
    }
  }
}
