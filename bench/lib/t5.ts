// The model and data of the T5 benchmarks (t5, bpt, pretrain): a random-weight model with t5-small's shapes
// and seeded random batches, all kept (the suites dispose them).
import type { Seq2SeqBatch } from '../../src/nn/t5/seq2seq.js';
import { makeT5Config, type T5Config } from '../../src/nn/t5/config.js';
import type { T5Model } from '../../src/nn/t5/model.js';
import { modelFromCheckpoint, randomCheckpoint } from '../../src/nn/t5/weights.js';
import { tensor } from '../../src/tensor/create.js';
import { keep } from '../../src/tensor/scope.js';
import type { Tensor } from '../../src/tensor/tensor.js';
import { rng } from '../../src/util/random.js';

/**
 * t5-small's config (HF's T5Config defaults: d_model 512, 8 heads of 64, d_ff 2048 relu, 6 + 6
 * layers, vocab 32128, tied head, dropout 0.1, applied only in training mode).
 */
export function t5SmallConfig(): T5Config {
  return makeT5Config({});
}

/** A t5-small-shaped model with random weights (seeded). */
export function t5Small(seed = 1): T5Model {
  return modelFromCheckpoint(randomCheckpoint(t5SmallConfig(), seed));
}

/** Rows, input tokens per row and target tokens per row of a batch. */
export interface BatchShape {
  rows: number;
  input: number;
  target: number;
}

/** Token ids in [2, vocab) (never pad or EOS), seeded. */
export function randomIds(n: number, vocab: number, seed: number): number[] {
  const u = rng(seed);
  return Array.from({ length: n }, () => 2 + Math.floor(u() * (vocab - 2)));
}

/**
 * A full batch on the GPU (every input position real, every label counted): random input ids,
 * labels, and decoder inputs = labels shifted right behind the start token 0.
 */
export function batchOf(shape: BatchShape, vocab: number, seed: number): Seq2SeqBatch {
  const { rows, input, target } = shape;
  const labels = Int32Array.from(randomIds(rows * target, vocab, seed + 1));
  const decoderInputIds = new Int32Array(rows * target);
  for (let r = 0; r < rows; r++) for (let j = 1; j < target; j++) decoderInputIds[r * target + j] = labels[r * target + j - 1]!;
  return {
    inputIds: keep(tensor(Int32Array.from(randomIds(rows * input, vocab, seed)), [rows, input], 'i32')),
    attentionMask: keep(tensor(new Float32Array(rows * input).fill(1), [rows, input])),
    decoderInputIds: keep(tensor(decoderInputIds, [rows, target], 'i32')),
    labels: keep(tensor(labels, [rows, target], 'i32')),
  };
}

/** Seeded prompt values of T5 embedding scale, f32 [...shape] (not kept). */
export function promptOf(shape: readonly number[], seed: number): Tensor {
  const u = rng(seed);
  const n = shape.reduce((a, b) => a * b, 1);
  return tensor(Float32Array.from({ length: n }, () => (u() * 2 - 1) * 0.5), shape);
}
