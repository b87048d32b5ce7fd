// Soft prompts: L trainable vectors prepended to the encoder's input embeddings (no embedding
// scaling), with the attention mask extended by L ones. A batch may use one prompt for every row,
// pick each row's prompt from a stack (BPT's particles: one forward for all M x K rows), or bring
// one prompt per row (ATTEMPT's input-dependent mixtures).
import { GpuError } from '../gpu/device.js';
import { fill } from '../ops/fill.js';
import { concat, gatherRows } from '../ops/layout.js';
import type { Tensor } from '../tensor/tensor.js';
import type { T5Model } from './t5/model.js';
import { expand } from '../ops/sum.js';
import { reshape } from '../ops/reshape.js';

/** One prompt [L, d] for every row, one per row [B, L, d], or a stack [M, L, d] with a row -> prompt index (i32 [B]). */
export type PromptInput = Tensor | { stack: Tensor; index: Tensor };

/** Encoder input embeddings [B, L+S, d] and key mask [B, L+S] with the prompt in front. */
export function prependPrompt(model: T5Model, ids: Tensor, mask: Tensor, prompt: PromptInput): { embeds: Tensor; mask: Tensor } {
  const [b, s] = ids.shape as [number, number];
  const d = model.config.d_model;
  let rows: Tensor;
  if ('stack' in prompt) {
    const [m, l, pd] = prompt.stack.shape as [number, number, number];
    if (pd !== d || prompt.index.shape[0] !== b) {
      throw new GpuError(`prompt: stack ${prompt.stack.describe()} with index ${prompt.index.describe()} does not fit d_model ${d} and batch ${b}`);
    }
    rows = reshape(gatherRows(reshape(prompt.stack, [m, l * d]), prompt.index), [b, l, d]);
  } else if (prompt.rank === 3) {
    if (prompt.shape[0] !== b || prompt.shape[2] !== d) throw new GpuError(`prompt: expected one prompt per row [${b}, L, ${d}], got ${prompt.describe()}`);
    rows = prompt;
  } else {
    const [l, pd] = prompt.shape as [number, number];
    if (prompt.rank !== 2 || pd !== d) throw new GpuError(`prompt: expected [L, ${d}], got ${prompt.describe()}`);
    rows = expand(reshape(prompt, [1, l, d]), [b, l, d]);
  }
  const l = rows.shape[1]!;
  if (mask.shape[0] !== b || mask.shape[1] !== s) throw new GpuError(`prompt: mask ${mask.describe()} does not match ids ${ids.describe()}`);
  return {
    embeds: concat([rows, model.embed(ids)], 1),
    mask: concat([fill([b, l], 1), mask], 1),
  };
}
