// T5Config parsing (HF's defaults and its feed_forward_proj rules) and the parameter list per
// variant, checked against HF's published parameter counts.
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { makeT5Config, parseFeedForwardProj, parseT5Config, t5ConfigToJson, t5ParameterCount, t5ParameterShapes } from '../../src/nn/t5/config.js';

const t = suite('io/t5 config');

t('defaults: decoder depth, tying, max distance, token ids', () => {
  const c = parseT5Config({ num_layers: 3 });
  assert.is(c.num_decoder_layers, 3);
  assert.is(c.tie_word_embeddings, true);
  assert.is(c.relative_attention_max_distance, 128);
  assert.is(c.relative_attention_num_buckets, 32);
  assert.equal([c.decoder_start_token_id, c.pad_token_id, c.eos_token_id], [0, 0, 1]);
  assert.is(c.dense_act_fn, 'relu');
  assert.is(c.is_gated_act, false);
  assert.is(c.layer_norm_epsilon, 1e-6);
});

t('feed_forward_proj as HF parses it', () => {
  assert.equal(parseFeedForwardProj('relu'), { act: 'relu', gated: false });
  assert.equal(parseFeedForwardProj('gated-gelu'), { act: 'gelu_new', gated: true }, 'gated-gelu means the tanh approximation');
  assert.equal(parseFeedForwardProj('gated-silu'), { act: 'silu', gated: true });
  assert.equal(parseFeedForwardProj('gelu'), { act: 'gelu', gated: false }, 'plain gelu stays exact');
  assert.equal(parseFeedForwardProj('gated-relu'), { act: 'relu', gated: true });
  assert.throws(() => parseFeedForwardProj('gated-gelu-x', 'c.json'), /c\.json: feed_forward_proj "gated-gelu-x" is not a valid activation/);
  assert.throws(() => parseFeedForwardProj('double-relu', 'c.json'), /not a valid activation/);
  assert.throws(() => parseFeedForwardProj('gated-swoosh', 'c.json'), /unknown activation 'swoosh'/);
});

t('clear errors name the file and key', () => {
  assert.throws(() => parseT5Config([], 'a.json'), /a\.json: not a JSON object/);
  assert.throws(() => parseT5Config({ d_model: -4 }, 'a.json'), /a\.json: "d_model" must be an integer >= 1, got -4/);
  assert.throws(() => parseT5Config({ num_heads: 2.5 }, 'a.json'), /"num_heads" must be an integer/);
  assert.throws(() => parseT5Config({ vocab_size: '100' }, 'a.json'), /"vocab_size" must be an integer/);
  assert.throws(() => parseT5Config({ dropout_rate: 1 }, 'a.json'), /"dropout_rate" must be a number in \[0, 1\)/);
  assert.throws(() => parseT5Config({ layer_norm_epsilon: 0 }, 'a.json'), /"layer_norm_epsilon" must be a positive number/);
  assert.throws(() => parseT5Config({ tie_word_embeddings: 'yes' }, 'a.json'), /"tie_word_embeddings" must be true or false/);
  assert.throws(() => parseT5Config({ feed_forward_proj: 3 }, 'a.json'), /"feed_forward_proj" must be a string/);
  assert.throws(() => parseT5Config({ model_type: 'umt5' }, 'a.json'), /model_type "umt5" is not supported/);
  assert.throws(() => parseT5Config({ vocab_size: 100, eos_token_id: 100 }, 'a.json'), /"eos_token_id" must be below vocab_size/);
});

t('parameter list: v1.0 relu tied', () => {
  const c = makeT5Config({ vocab_size: 256, d_model: 64, d_kv: 16, d_ff: 128, num_layers: 2, num_heads: 4 });
  const p = t5ParameterShapes(c);
  const names = p.map((x) => x.name);
  assert.is(p.length, 47, 'same 47 tensors as the HF fixture');
  assert.is(names[0], 'shared.weight');
  assert.ok(!names.includes('lm_head.weight'));
  assert.equal(names.filter((n) => n.includes('relative_attention_bias')), [
    'encoder.block.0.layer.0.SelfAttention.relative_attention_bias.weight',
    'decoder.block.0.layer.0.SelfAttention.relative_attention_bias.weight',
  ]);
  assert.equal(names.slice(1, 10), [
    'encoder.block.0.layer.0.SelfAttention.q.weight', 'encoder.block.0.layer.0.SelfAttention.k.weight',
    'encoder.block.0.layer.0.SelfAttention.v.weight', 'encoder.block.0.layer.0.SelfAttention.o.weight',
    'encoder.block.0.layer.0.SelfAttention.relative_attention_bias.weight', 'encoder.block.0.layer.0.layer_norm.weight',
    'encoder.block.0.layer.1.DenseReluDense.wi.weight', 'encoder.block.0.layer.1.DenseReluDense.wo.weight',
    'encoder.block.0.layer.1.layer_norm.weight',
  ]);
  const shape = (n: string) => p.find((x) => x.name === n)!.shape;
  assert.equal(shape('decoder.block.1.layer.1.EncDecAttention.o.weight'), [64, 64]);
  assert.equal(shape('decoder.block.1.layer.2.DenseReluDense.wi.weight'), [128, 64], 'Linear weights are [out, in]');
  assert.equal(shape('encoder.block.0.layer.0.SelfAttention.relative_attention_bias.weight'), [32, 4]);
});

t("parameter counts equal HF's for t5-small and flan-t5-small", () => {
  const t5small = makeT5Config({ vocab_size: 32128, d_model: 512, d_kv: 64, d_ff: 2048, num_layers: 6, num_heads: 8 });
  assert.is(t5ParameterCount(t5small), 60_506_624);
  const flanSmall = makeT5Config({
    vocab_size: 32128, d_model: 512, d_kv: 64, d_ff: 1024, num_layers: 8, num_heads: 6,
    feed_forward_proj: 'gated-gelu', tie_word_embeddings: false,
  });
  assert.is(t5ParameterCount(flanSmall), 76_961_152);
  const names = t5ParameterShapes(flanSmall).map((x) => x.name);
  assert.ok(names.includes('encoder.block.7.layer.1.DenseReluDense.wi_0.weight'));
  assert.ok(names.includes('decoder.block.7.layer.2.DenseReluDense.wi_1.weight'));
  assert.ok(!names.some((n) => n.endsWith('DenseReluDense.wi.weight')));
  assert.is(names[names.length - 1], 'lm_head.weight');
  assert.equal(t5ParameterShapes(flanSmall).find((x) => x.name === 'encoder.block.0.layer.0.SelfAttention.q.weight')!.shape, [384, 512], 'heads x d_kv need not equal d_model');
});

t('num_decoder_layers differs from num_layers', () => {
  const c = makeT5Config({ num_layers: 2, num_decoder_layers: 3, d_model: 8, d_kv: 2, num_heads: 2, d_ff: 16, vocab_size: 10 });
  const names = t5ParameterShapes(c).map((x) => x.name);
  assert.ok(names.includes('decoder.block.2.layer.2.layer_norm.weight'));
  assert.ok(!names.includes('encoder.block.2.layer.0.layer_norm.weight'));
});

t('config.json round trip keeps unknown keys and writes tie_word_embeddings only when false', () => {
  const src = { d_model: 8, d_kv: 2, num_heads: 4, d_ff: 16, vocab_size: 10, num_layers: 1, feed_forward_proj: 'gated-gelu', tie_word_embeddings: false, task_specific_params: { x: 1 }, torch_dtype: 'float32' };
  const c = parseT5Config(src);
  const j = t5ConfigToJson(c);
  assert.is(j.tie_word_embeddings, false);
  assert.is(j.dense_act_fn, 'gelu_new');
  assert.is(j.is_gated_act, true);
  assert.equal(j.task_specific_params, { x: 1 });
  assert.equal(Object.keys(j), [...Object.keys(j)].sort());
  const { extra: extraBack, ...back } = parseT5Config(j);
  const { extra, ...orig } = c;
  assert.equal(back, orig);
  assert.equal(extraBack, { ...extra, architectures: ['T5ForConditionalGeneration'], is_encoder_decoder: true });
  assert.ok(!('tie_word_embeddings' in t5ConfigToJson(parseT5Config({}))));
});

t.run();
