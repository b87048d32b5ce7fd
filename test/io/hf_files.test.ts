// The files Hugging Face's libraries read, byte for byte as they write them: config.json (floats
// stay floats: transformers 5 rejects `"initializer_factor": 1`), adapter_config.json (PEFT's
// json.dumps(indent=2, sort_keys=True)), the tokenizer files of a model directory, and the base
// model an adapter names.
import { copyFileSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { baseModelName, saveAdapter } from '../../src/bpt/peft.js';
import { loadHfCheckpoint, saveHfCheckpoint } from '../../src/io/checkpoint.js';
import { ByT5Tokenizer } from '../../src/io/tokenizer/byt5_tokenizer.js';
import { loadTokenizer } from '../../src/io/tokenizer/load.js';
import { saveTokenizerFiles } from '../../src/io/tokenizer/save.js';
import { T5Tokenizer } from '../../src/io/tokenizer/t5_tokenizer.js';
import { makeT5Config, parseT5Config } from '../../src/nn/t5/config.js';
import { randomCheckpoint } from '../../src/nn/t5/weights.js';
import { tempDir } from '../util/fixtures.js';
import { sharedTest } from '../util/shared.js';

const t = suite('io/hf_files');
let root: string;
t.before(() => void (root = tempDir('hf-files')));
t.after(() => rmSync(root, { recursive: true, force: true }));

/** A t5-small-shaped config.json (shrunk) as transformers' save_pretrained writes it: sorted, indent 2, floats as floats. */
const HF_CONFIG = `{
  "architectures": [
    "T5ForConditionalGeneration"
  ],
  "classifier_dropout": 0.0,
  "d_ff": 32,
  "d_kv": 8,
  "d_model": 16,
  "decoder_start_token_id": 0,
  "dense_act_fn": "relu",
  "dropout_rate": 0.1,
  "eos_token_id": 1,
  "feed_forward_proj": "relu",
  "initializer_factor": 1.0,
  "is_encoder_decoder": true,
  "is_gated_act": false,
  "layer_norm_epsilon": 1e-06,
  "model_type": "t5",
  "n_positions": 512,
  "num_decoder_layers": 1,
  "num_heads": 2,
  "num_layers": 1,
  "pad_token_id": 0,
  "relative_attention_max_distance": 128,
  "relative_attention_num_buckets": 32,
  "task_specific_params": {
    "summarization": {
      "early_stopping": true,
      "length_penalty": 2.0,
      "max_length": 200,
      "prefix": "summarize: "
    },
    "translation_en_to_de": {
      "max_length": 300,
      "prefix": "translate English to German: "
    }
  },
  "transformers_version": "5.18.0",
  "use_cache": true,
  "vocab_size": 384
}
`;

t('config.json read then saved is the same bytes (floats, ints and nested floats as written)', () => {
  const src = join(root, 'src');
  saveHfCheckpoint(src, parseT5Config(JSON.parse(HF_CONFIG)), randomCheckpoint(parseT5Config(JSON.parse(HF_CONFIG)), 1).tensors);
  writeFileSync(join(src, 'config.json'), HF_CONFIG);
  const ckpt = loadHfCheckpoint(src);
  assert.equal(ckpt.config.extraFloats, ['classifier_dropout', 'initializer_factor', 'task_specific_params.summarization.length_penalty']);
  const out = join(root, 'out');
  saveHfCheckpoint(out, ckpt.config, ckpt.tensors);
  assert.is(readFileSync(join(out, 'config.json'), 'utf8'), HF_CONFIG);
});

t('config.json of a config made here: float-typed fields as floats whatever their value', () => {
  const dir = join(root, 'made');
  const config = makeT5Config({
    vocab_size: 384, d_model: 8, d_kv: 4, num_heads: 2, d_ff: 16, num_layers: 1, num_decoder_layers: 1,
    feed_forward_proj: 'gated-gelu', tie_word_embeddings: false, dropout_rate: 0, extra: { initializer_factor: 1, n_positions: 512 },
  });
  saveHfCheckpoint(dir, config, randomCheckpoint(config, 2).tensors);
  assert.is(readFileSync(join(dir, 'config.json'), 'utf8'), `{
  "architectures": [
    "T5ForConditionalGeneration"
  ],
  "d_ff": 16,
  "d_kv": 4,
  "d_model": 8,
  "decoder_start_token_id": 0,
  "dense_act_fn": "gelu_new",
  "dropout_rate": 0.0,
  "eos_token_id": 1,
  "feed_forward_proj": "gated-gelu",
  "initializer_factor": 1.0,
  "is_encoder_decoder": true,
  "is_gated_act": true,
  "layer_norm_epsilon": 1e-06,
  "model_type": "t5",
  "n_positions": 512,
  "num_decoder_layers": 1,
  "num_heads": 2,
  "num_layers": 1,
  "pad_token_id": 0,
  "relative_attention_max_distance": 128,
  "relative_attention_num_buckets": 32,
  "tie_word_embeddings": false,
  "vocab_size": 384
}
`);
});

t('adapter_config.json is the bytes PEFT writes (sorted, indent 2, no final newline)', () => {
  const dir = join(root, 'adapter');
  saveAdapter(dir, { kind: 'prompt', prompt: { data: new Float32Array(3 * 4), shape: [3, 4] } }, { baseModel: 'checkpoints/t5-base', numHeads: 2, numLayers: 1 });
  assert.is(readFileSync(join(dir, 'adapter_config.json'), 'utf8'), `{
  "auto_mapping": null,
  "base_model_name_or_path": "checkpoints/t5-base",
  "inference_mode": true,
  "num_attention_heads": 2,
  "num_layers": 1,
  "num_transformer_submodules": 1,
  "num_virtual_tokens": 3,
  "peft_type": "PROMPT_TUNING",
  "prompt_tuning_init": "RANDOM",
  "prompt_tuning_init_text": null,
  "revision": null,
  "task_type": "SEQ_2_SEQ_LM",
  "token_dim": 4,
  "tokenizer_kwargs": null,
  "tokenizer_name_or_path": null
}`);
});

t("an adapter's base model: the path as given, or for an absolute one the checkpoint's _name_or_path", () => {
  const named = parseT5Config({ _name_or_path: 'google/t5-v1_1-base' });
  const bare = parseT5Config({});
  assert.is(baseModelName('checkpoints/t5-base', named), 'checkpoints/t5-base');
  assert.is(baseModelName('/home/someone/checkpoints/t5-base', named), 'google/t5-v1_1-base');
  assert.is(baseModelName('/home/someone/checkpoints/t5-base', bare), '/home/someone/checkpoints/t5-base');
});

t("ByT5's model directory gets the tokenizer_config.json that names it", () => {
  const dir = tempDir('byt5-tok');
  saveTokenizerFiles(dir, new ByT5Tokenizer(125), null);
  assert.equal(readdirSync(dir), ['tokenizer_config.json']);
  assert.is(readFileSync(join(dir, 'tokenizer_config.json'), 'utf8'),
    '{\n  "eos_token": "</s>",\n  "extra_ids": 125,\n  "pad_token": "<pad>",\n  "tokenizer_class": "ByT5Tokenizer",\n  "unk_token": "<unk>"\n}\n');
  writeFileSync(join(dir, 'config.json'), '{"vocab_size": 32128}');
  assert.ok(loadTokenizer(dir) instanceof ByT5Tokenizer, 'found by its tokenizer_config.json, not by vocab_size');
  rmSync(dir, { recursive: true });
});

sharedTest(t, 'T5: spiece.model copied (from a file or a checkpoint directory with its tokenizer files)', ['data', 't5-spiece', 'spiece.model'], (spiece) => {
  const fromFile = tempDir('t5-tok');
  const tok = T5Tokenizer.fromFile(spiece);
  saveTokenizerFiles(fromFile, tok, spiece);
  assert.equal(readdirSync(fromFile).sort(), ['spiece.model', 'tokenizer_config.json']);
  assert.equal(readFileSync(join(fromFile, 'spiece.model')), readFileSync(spiece));
  assert.is(JSON.parse(readFileSync(join(fromFile, 'tokenizer_config.json'), 'utf8')).tokenizer_class, 'T5Tokenizer');
  assert.equal(loadTokenizer(fromFile).encode('Hello world'), tok.encode('Hello world'));
  const fromDir = tempDir('t5-tok-dir');
  copyFileSync(spiece, join(fromDir, 'spiece.model'));
  writeFileSync(join(fromDir, 'tokenizer_config.json'), '{"extra_ids": 100, "model_max_length": 512}');
  const copy = tempDir('t5-tok-copy');
  saveTokenizerFiles(copy, tok, fromDir);
  assert.is(readFileSync(join(copy, 'tokenizer_config.json'), 'utf8'), '{"extra_ids": 100, "model_max_length": 512}');
  for (const d of [fromFile, fromDir, copy]) rmSync(d, { recursive: true });
});

t.run();
