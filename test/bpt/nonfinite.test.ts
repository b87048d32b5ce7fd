// Non-finite values end-to-end with a tiny random T5: a diverging run stops naming the step and
// the tensor and leaves its last checkpoint as it was; a NaN in model weights, a resume checkpoint
// or an adapter is refused where it is loaded, naming the file, the tensor and the first bad index.
import { existsSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { sourceOptions } from '../../src/bpt/options.js';
import { loadAdapter, saveAdapter } from '../../src/bpt/peft.js';
import { runSource } from '../../src/bpt/source.js';
import { loadHfCheckpoint, saveHfCheckpoint } from '../../src/io/checkpoint.js';
import { randomCheckpoint } from '../../src/nn/t5/weights.js';
import { loadTrainState, saveTrainState } from '../../src/train/checkpoint.js';
import { tempDir, tinyConfig, tinyGlue, tinyModelDir } from '../util/fixtures.js';
import { initGpu } from '../util/gpu.js';
import { throwsWith } from '../util/throws.js';

const t = suite('bpt/nonfinite');
let root: string;
t.before(async () => {
  await initGpu();
  root = tempDir('nonfinite');
  tinyModelDir(join(root, 'model'));
  tinyGlue(join(root, 'data'));
});
t.after(() => rmSync(root, { recursive: true, force: true }));

t('bpt source with lr 1e9 stops at the first non-finite tensor, naming step and tensor; the checkpoint stays', async () => {
  const out = join(root, 'diverge');
  const o = sourceOptions(null, {
    model: join(root, 'model'), 'data-dir': join(root, 'data'), out, progress: 'none', tasks: 'mrpc,cola', particles: '2',
    'prompt-length': '4', 'max-input-length': '48', steps: '40', lr: '1e9', optimizer: 'sgd', 'checkpoint-every': '1', 'log-every': '1',
  });
  let message = '';
  try {
    await runSource(o, false);
  } catch (err) {
    message = (err as Error).message;
  }
  const m = /step (\d+): (.*) has \d+ (NaN|infinite)/.exec(message);
  assert.ok(m, `the run should fail naming the step and the tensor, got "${message}"`);
  const step = Number(m![1]);
  assert.ok(/^(objective|gradient of prompts|prompts after the update)/.test(m![2]!), `names a checked tensor: ${m![2]}`);
  const ckpt = join(out, 'checkpoint.safetensors');
  if (step > 1) {
    const saved = loadTrainState(ckpt);
    assert.is(saved.step, step - 1, 'the last checkpoint is the one before the failing step, and it is finite (it loads)');
  } else assert.not.ok(existsSync(ckpt));
});

t('a NaN in an encoder weight is refused at load, naming file, tensor and index', () => {
  const ckpt = randomCheckpoint(tinyConfig(), 4);
  const w = ckpt.tensors.get('encoder.block.0.layer.0.SelfAttention.q.weight')!;
  w.data[5] = NaN;
  const dir = join(root, 'nan-model');
  saveHfCheckpoint(dir, ckpt.config, ckpt.tensors);
  throwsWith(() => loadHfCheckpoint(dir), 'model.safetensors', 'encoder.block.0.layer.0.SelfAttention.q.weight', 'NaN at flat index 5');
});

t('a resume checkpoint holding one NaN is refused', () => {
  const path = join(root, 'resume.safetensors');
  const data = new Float32Array(12).fill(0.5);
  data[7] = NaN;
  saveTrainState(path, { stage: 'source', step: 3, options: {}, tensors: new Map([['prompts', { data, shape: [3, 4] }]]), optimizer: null, extra: {} });
  throwsWith(() => loadTrainState(path), path, 'param/prompts', 'NaN at flat index 7');
});

t('a PEFT adapter with NaN or infinite values is refused', () => {
  for (const [bad, text] of [[Infinity, 'Infinity at flat index 2'], [NaN, 'NaN at flat index 2']] as const) {
    const dir = join(root, `adapter-${text.split(' ')[0]}`);
    const prompt = new Float32Array(8).fill(0.1);
    prompt[2] = bad;
    saveAdapter(dir, { kind: 'prompt', prompt: { data: prompt, shape: [2, 4] } }, { baseModel: null, numHeads: 2, numLayers: 1 });
    throwsWith(() => loadAdapter(dir), 'adapter_model.safetensors', 'prompt_embeddings', text);
  }
});

t.run();
