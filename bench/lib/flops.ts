// The arithmetic of a full-weight T5 training step (forward + backward), the numerator of the
// pretraining suite's achieved GFLOP/s. Each matmul of a forward costs 2 x rows x weights, and its
// backward twice that (the input's and the weight's gradient): 6 x weights x rows over the step.
// Attention's two batched products (scores, then scores x values) cost 4 x rows x keys x inner
// width forward, 3x that with their backward. Norms, softmax, activations and the optimizer are
// not counted (O(elements), not O(elements x width)).
import type { T5Config } from '../../src/nn/t5/config.js';
import type { BatchShape } from './t5.js';

/** FLOPs of one training step, by part. */
export interface StepFlops {
  /** Projections and feed-forward layers of encoder and decoder. */
  matmul: number;
  /** Scores and weighted sums of self- and cross-attention. */
  attention: number;
  /** The vocabulary head. */
  lmHead: number;
  total: number;
}

/** FLOPs of a training step of `c` on a batch of `shape` (every position counted). */
export function pretrainFlops(c: T5Config, shape: BatchShape): StepFlops {
  const enc = shape.rows * shape.input, dec = shape.rows * shape.target;
  const inner = c.num_heads * c.d_kv;
  const ffWeights = c.d_model * c.d_ff * (c.is_gated_act ? 3 : 2);
  // Encoder layer: q, k, v, o and the feed-forward, all on encoder rows. Decoder layer: the same on
  // decoder rows, plus cross-attention's q and o on decoder rows and its k and v on encoder rows.
  const encWeights = 4 * c.d_model * inner + ffWeights;
  const decWeights = 4 * c.d_model * inner + 2 * c.d_model * inner + ffWeights;
  const matmul = 6 * (c.num_layers * encWeights * enc + c.num_decoder_layers * (decWeights * dec + 2 * c.d_model * inner * enc));
  const attn = (queries: number, keys: number) => 3 * 4 * shape.rows * c.num_heads * queries * keys * c.d_kv;
  const attention = c.num_layers * attn(shape.input, shape.input) + c.num_decoder_layers * (attn(shape.target, shape.target) + attn(shape.target, shape.input));
  const lmHead = 6 * c.d_model * c.vocab_size * dec;
  return { matmul, attention, lmHead, total: matmul + attention + lmHead };
}
