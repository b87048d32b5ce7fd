// Non-finite values end-to-end with a tiny random T5: a diverging run stops naming the step and
// the tensor and leaves its last checkpoint as it was; a NaN in model weights, a resume checkpoint
// or an adapter is refused where it is loaded, naming the file, the tensor and the first bad index.
import { spawnSync } from 'node:child_process';
import { existsSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { runEval } from '../../src/bpt/eval_stage.js';
import { evalOptions, targetOptions } from '../../src/bpt/options.js';
import { loadAdapter, saveAdapter } from '../../src/bpt/peft.js';
import { runTarget } from '../../src/bpt/target.js';
import { pretrainOptions } from '../../src/pretrain/options.js';
import { runPretrain } from '../../src/pretrain/pretrain.js';
import { loadHfCheckpoint, saveHfCheckpoint } from '../../src/io/checkpoint.js';
import { randomCheckpoint } from '../../src/nn/t5/weights.js';
import { loadTrainState, saveTrainState } from '../../src/train/checkpoint.js';
import { readLog } from '../../src/train/log.js';
import { tempDir, tinyConfig, tinyGlue, tinyModelDir } from '../util/fixtures.js';
import { initGpu } from '../util/gpu.js';
import { throwsWith } from '../util/throws.js';

const t = suite('bpt/nonfinite');
// dist/test/bpt/nonfinite.test.js -> dist/cli.js
const CLI = join(dirname(fileURLToPath(import.meta.url)), '..', '..', 'cli.js');
let root: string;
t.before(async () => {
  await initGpu();
  root = tempDir('nonfinite');
  tinyModelDir(join(root, 'model'));
  tinyGlue(join(root, 'data'));
});
t.after(() => rmSync(root, { recursive: true, force: true }));

t('bpt source --lr 1e9 exits 1 at the first non-finite tensor, naming step and tensor; the last checkpoint stays', () => {
  const out = join(root, 'diverge');
  const r = spawnSync(process.execPath, [CLI, 'source', '--model', join(root, 'model'), '--data-dir', join(root, 'data'), '--out', out,
    '--progress', 'none', '--tasks', 'mrpc,cola', '--particles', '2', '--prompt-length', '4', '--max-input-length', '48', '--steps', '40',
    '--lr', '1e9', '--optimizer', 'sgd', '--checkpoint-every', '1', '--log-every', '1'], { encoding: 'utf8' });
  assert.is(r.status, 1, r.stderr);
  const m = /step (\d+): (.*) has \d+ (NaN|infinite)/.exec(r.stderr);
  assert.ok(m, `the error names the step and the tensor: ${r.stderr}`);
  const step = Number(m![1]);
  assert.ok(/^(objective|gradient of prompts|prompts after the update)$/.test(m![2]!), `names a checked tensor: ${m![2]}`);
  const event = readLog(join(out, 'log.jsonl')).find((e) => e.kind === 'event');
  assert.equal([event?.event, event?.step], ['non-finite', step], 'the log records the stop');
  const ckpt = join(out, 'checkpoint.safetensors');
  if (step > 1) {
    const saved = loadTrainState(ckpt);
    assert.is(saved.step, step - 1, 'the last checkpoint is the one before the failing step, and it is finite (it loads)');
  } else assert.not.ok(existsSync(ckpt));
  assert.not.ok(existsSync(join(out, 'prompts.safetensors')), 'no outputs');
});

/** The message of what `run` rejects with ('' when it resolves). */
async function failure(run: () => Promise<unknown>): Promise<string> {
  try {
    await run();
  } catch (err) {
    return (err as Error).message;
  }
  return '';
}

t('bpt target --method pt with lr 1e38 and pretraining with lr 1e38 stop naming the step and the tensor', async () => {
  const target = await failure(() => runTarget(targetOptions(null, {
    model: join(root, 'model'), 'data-dir': join(root, 'data'), out: join(root, 'target-pt'), progress: 'none', tasks: 'rte',
    method: 'pt', lr: '1e38', 'prompt-length': '4', 'max-input-length': '48', epochs: '3', 'batch-size': '4', optimizer: 'sgd',
  }), false));
  assert.match(target, /step \d+: (loss|gradient of prompts|prompts after the update) has \d+ (NaN|infinite)/);
  assert.not.ok(existsSync(join(root, 'target-pt', 'adapter')), 'no adapter is written');
  writeFileSync(join(root, 'corpus.txt'), Array.from({ length: 40 }, (_, i) => `Paragraph ${i}: the quick brown fox jumps over the lazy dog.`).join('\n\n'));
  const pretrain = await failure(() => runPretrain(pretrainOptions(null, {
    out: join(root, 'pretrain'), corpus: join(root, 'corpus.txt'), progress: 'none', 'd-model': '16', 'd-kv': '8',
    'num-heads': '2', 'd-ff': '24', 'num-layers': '1', 'num-decoder-layers': '1', 'relative-attention-num-buckets': '8',
    'relative-attention-max-distance': '16', 'input-length': '24', 'batch-size': '3', steps: '20', lr: '1e38', optimizer: 'adamw',
    'eval-segments': '4', 'eval-every': '0',
  }), false));
  assert.match(pretrain, /step \d+: (loss|gradient of [\w.]+|[\w.]+ after the update) has \d+ (NaN|infinite)/);
  assert.not.ok(existsSync(join(root, 'pretrain', 'model')), 'no model is written');
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

t('a PEFT adapter with NaN or infinite values is refused, by bpt eval too', async () => {
  for (const [bad, text] of [[Infinity, 'Infinity at flat index 2'], [NaN, 'NaN at flat index 2']] as const) {
    const dir = join(root, `adapter-${text.split(' ')[0]}`);
    const prompt = new Float32Array(8).fill(0.1);
    prompt[2] = bad;
    saveAdapter(dir, { kind: 'prompt', prompt: { data: prompt, shape: [2, 4] } }, { baseModel: null, numHeads: 2, numLayers: 1 });
    throwsWith(() => loadAdapter(dir), 'adapter_model.safetensors', 'prompt_embeddings', text);
  }
  // bpt eval of such an adapter fails before it scores anything.
  const dir = join(root, 'adapter-eval');
  const c = tinyConfig();
  const prompt = new Float32Array(4 * c.d_model).fill(0.1);
  prompt[9] = NaN;
  saveAdapter(dir, { kind: 'prompt', prompt: { data: prompt, shape: [4, c.d_model] } }, { baseModel: join(root, 'model'), numHeads: c.num_heads, numLayers: c.num_layers });
  const out = join(root, 'eval-out');
  const message = await failure(() => runEval(evalOptions(null, {
    adapter: dir, model: join(root, 'model'), 'data-dir': join(root, 'data'), tasks: 'rte', progress: 'none', out,
  })));
  for (const part of ['adapter_model.safetensors', 'prompt_embeddings', 'NaN at flat index 9']) assert.ok(message.includes(part), `"${message}" names ${part}`);
  assert.not.ok(existsSync(out), 'nothing is written');
});

t.run();
