// PEFT adapters: exact file names, tensor keys, dtypes, shapes and adapter_config.json fields as
// Hugging Face PEFT writes them for PROMPT_TUNING and MULTITASK_PROMPT_TUNING; round trips; clear
// errors for bad adapters.
import { readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import {
  ADAPTER_CONFIG, ADAPTER_WEIGHTS, AdapterError, loadAdapter, multitaskPrompt, saveAdapter, type MultitaskAdapter,
} from '../../src/bpt/peft.js';
import { readSafetensorsHeader } from '../../src/io/safetensors.js';
import { rng } from '../util/check.js';
import { tempDir } from '../util/fixtures.js';

const t = suite('bpt/peft');
const r = rng(3);
const rand = (n: number) => Float32Array.from({ length: n }, () => r() - 0.5);
const info = { baseModel: 't5-base', numHeads: 12, numLayers: 12 };
let dir: string;
t.before(() => void (dir = tempDir('peft')));
t.after(() => rmSync(dir, { recursive: true, force: true }));

t('PROMPT_TUNING: prompt_embeddings [L, d] F32, format pt, PEFT config fields', () => {
  const prompt = { data: rand(5 * 8), shape: [5, 8] };
  const out = join(dir, 'single');
  saveAdapter(out, { kind: 'prompt', prompt }, info);
  assert.equal(readdirSync(out).sort(), [ADAPTER_CONFIG, ADAPTER_WEIGHTS]);
  assert.is(ADAPTER_WEIGHTS, 'adapter_model.safetensors');
  assert.is(ADAPTER_CONFIG, 'adapter_config.json');
  const header = readSafetensorsHeader(join(out, ADAPTER_WEIGHTS));
  assert.equal([...header.tensors.keys()], ['prompt_embeddings']);
  assert.equal(header.tensors.get('prompt_embeddings')!.dtype, 'F32');
  assert.equal(header.tensors.get('prompt_embeddings')!.shape, [5, 8]);
  assert.equal(header.metadata, { format: 'pt' });
  const text = readFileSync(join(out, ADAPTER_CONFIG), 'utf8');
  const config = JSON.parse(text) as Record<string, unknown>;
  assert.equal(Object.keys(config), Object.keys(config).sort(), 'sorted keys, as save_pretrained writes them');
  assert.equal(config, {
    auto_mapping: null, base_model_name_or_path: 't5-base', inference_mode: true, num_attention_heads: 12, num_layers: 12,
    num_transformer_submodules: 1, num_virtual_tokens: 5, peft_type: 'PROMPT_TUNING', prompt_tuning_init: 'RANDOM',
    prompt_tuning_init_text: null, revision: null, task_type: 'SEQ_2_SEQ_LM', token_dim: 8, tokenizer_kwargs: null,
    tokenizer_name_or_path: null,
  });
  assert.ok(text.startsWith('{\n  "auto_mapping": null,'), 'indent 2');
  const back = loadAdapter(out, 8);
  assert.is(back.kind, 'prompt');
  assert.equal(back.prompt.shape, [5, 8]);
  assert.equal([...back.prompt.data], [...prompt.data]);
});

t('MULTITASK_PROMPT_TUNING: prompt_embeddings, prefix_task_cols [T, L, r], prefix_task_rows [T, r, d], task names', () => {
  const a: MultitaskAdapter = {
    kind: 'multitask',
    prompt: { data: rand(4 * 6), shape: [4, 6] },
    cols: { data: rand(3 * 4 * 2), shape: [3, 4, 2] },
    rows: { data: rand(3 * 2 * 6), shape: [3, 2, 6] },
    tasks: ['rte', 'cola', 'sentiment:yelp'],
  };
  const out = join(dir, 'multi');
  saveAdapter(out, a, info);
  const header = readSafetensorsHeader(join(out, ADAPTER_WEIGHTS));
  assert.equal([...header.tensors.keys()].sort(), ['prefix_task_cols', 'prefix_task_rows', 'prompt_embeddings']);
  assert.equal(header.tensors.get('prefix_task_cols')!.shape, [3, 4, 2]);
  assert.equal(header.tensors.get('prefix_task_rows')!.shape, [3, 2, 6]);
  for (const k of header.tensors.keys()) assert.is(header.tensors.get(k)!.dtype, 'F32');
  assert.equal(JSON.parse(header.metadata.bpt_tasks!), a.tasks);
  const config = JSON.parse(readFileSync(join(out, ADAPTER_CONFIG), 'utf8')) as Record<string, unknown>;
  assert.is(config.peft_type, 'MULTITASK_PROMPT_TUNING');
  assert.is(config.num_tasks, 3);
  assert.is(config.num_ranks, 2);
  assert.is(config.num_virtual_tokens, 4);
  assert.is(config.token_dim, 6);
  assert.is(config.prompt_tuning_init_task, 0);
  assert.is(config.prompt_tuning_init_state_dict_path, null);
  const back = loadAdapter(out) as MultitaskAdapter;
  assert.equal(back.tasks, a.tasks);
  assert.equal([...back.cols.data], [...a.cols.data]);
  // Task 1's prompt is P o (cols_1 rows_1), computed here in float64.
  const p = multitaskPrompt(back, 1);
  for (let i = 0; i < 4; i++) {
    for (let j = 0; j < 6; j++) {
      let s = 0;
      for (let k = 0; k < 2; k++) s += a.cols.data[(4 + i) * 2 + k]! * a.rows.data[(2 + k) * 6 + j]!;
      assert.ok(Math.abs(p.data[i * 6 + j]! - a.prompt.data[i * 6 + j]! * s) < 1e-6);
    }
  }
});

t('loadAdapter names the problem: missing files, width vs d_model, config vs tensor, unsupported types', () => {
  const out = join(dir, 'bad');
  saveAdapter(out, { kind: 'prompt', prompt: { data: rand(3 * 4), shape: [3, 4] } }, info);
  assert.throws(() => loadAdapter(out, 16), (e: Error) => e instanceof AdapterError && /\[3, 4\].*d_model is 16/.test(e.message));
  assert.throws(() => loadAdapter(join(dir, 'nowhere')), /does not exist/);
  const config = JSON.parse(readFileSync(join(out, ADAPTER_CONFIG), 'utf8')) as Record<string, unknown>;
  writeFileSync(join(out, ADAPTER_CONFIG), JSON.stringify({ ...config, num_virtual_tokens: 7 }));
  assert.throws(() => loadAdapter(out), /num_virtual_tokens = 7 but prompt_embeddings is \[3, 4\]/);
  writeFileSync(join(out, ADAPTER_CONFIG), JSON.stringify({ ...config, peft_type: 'LORA' }));
  assert.throws(() => loadAdapter(out), /peft_type "LORA" is not supported/);
  writeFileSync(join(out, ADAPTER_CONFIG), JSON.stringify({ ...config, num_transformer_submodules: 2 }));
  assert.throws(() => loadAdapter(out), /only encoder prompts/);
  writeFileSync(join(out, ADAPTER_CONFIG), '{ not json');
  assert.throws(() => loadAdapter(out), /malformed JSON/);
  rmSync(join(out, ADAPTER_WEIGHTS));
  assert.throws(() => loadAdapter(out), /adapter_model\.safetensors is missing/);
  assert.throws(() => saveAdapter(join(dir, 'x'), { kind: 'prompt', prompt: { data: rand(5), shape: [2, 3] } }, info), /expected \[2, 3\]/);
});

t.run();
