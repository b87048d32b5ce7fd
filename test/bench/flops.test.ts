import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { pretrainFlops } from '../../bench/lib/flops.js';
import { makeT5Config, t5ParameterShapes } from '../../src/nn/t5/config.js';

const t = suite('bench flops');

/** 6 x weights x rows over every linear layer, from the parameter list: rows by where each weight applies. */
function linearFlops(cfg: ReturnType<typeof makeT5Config>, enc: number, dec: number): number {
  let total = 0;
  for (const { name, shape } of t5ParameterShapes(cfg)) {
    if (shape.length !== 2 || name === 'shared.weight' || name.includes('relative_attention_bias')) continue;
    const onEncoderRows = name.startsWith('encoder.') || /EncDecAttention\.[kv]\./.test(name);
    total += 6 * shape[0]! * shape[1]! * (onEncoderRows ? enc : dec);
  }
  return total;
}

for (const ff of ['gated-gelu', 'relu'] as const) {
  t(`a ${ff} step counts every linear layer on its rows, and attention per head`, () => {
    const cfg = makeT5Config({ vocab_size: 11, d_model: 6, num_heads: 3, d_kv: 5, d_ff: 7, num_layers: 2, num_decoder_layers: 3, feed_forward_proj: ff, tie_word_embeddings: false });
    const shape = { rows: 2, input: 9, target: 4 };
    const f = pretrainFlops(cfg, shape);
    assert.is(f.matmul + f.lmHead, linearFlops(cfg, 18, 8));
    assert.is(f.lmHead, 6 * 6 * 11 * 8);
    // Scores and weighted sums, 2 x 2 x queries x keys x d_kv per head and row, x3 with the backward.
    const attn = (q: number, k: number) => 3 * 4 * 2 * 3 * q * k * 5;
    assert.is(f.attention, 2 * attn(9, 9) + 3 * (attn(4, 4) + attn(4, 9)));
    assert.is(f.total, f.matmul + f.attention + f.lmHead);
  });
}

t.run();
