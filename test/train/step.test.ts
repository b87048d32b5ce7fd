// The generic supervised step: gradients reach the trained tensors through the ops that build the
// prompt from them (P o (U V), a stack indexed per row), which must run inside the differentiated
// function. Built outside it, the prompt is a constant to the tape and the step trains nothing.
import { rmSync } from 'node:fs';
import { join } from 'node:path';
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { modelFromCheckpoint, randomCheckpoint } from '../../src/nn/t5/weights.js';
import { mul } from '../../src/ops/elementwise.js';
import { SGD } from '../../src/optim/sgd.js';
import { Arena } from '../../src/tensor/arena.js';
import { tensor } from '../../src/tensor/create.js';
import { keep, tidy } from '../../src/tensor/scope.js';
import { readAll } from '../../src/tensor/tensor.js';
import type { HostBatch } from '../../src/train/data.js';
import { loadModel, releaseModel, type LoadedModel } from '../../src/train/model.js';
import { makeOptimizer } from '../../src/train/optimizers.js';
import { recordStepOn, trainStep } from '../../src/train/step.js';
import { tempDir, tinyConfig, tinyModelDir } from '../util/fixtures.js';
import { initGpu } from '../util/gpu.js';

const t = suite('train/step');
let root = '';
t.before(async () => {
  await initGpu();
  root = tempDir('step');
  tinyModelDir(join(root, 'model'));
});
t.after(() => rmSync(root, { recursive: true, force: true }));

t('a prompt made by ops from the trained tensors gets their gradient', async () => {
  const lm = loadModel(join(root, 'model'), null);
  const d = lm.model.config.d_model;
  const L = 3;
  const P = keep(tensor(Float32Array.from({ length: L * d }, (_, i) => Math.sin(i) * 0.5), [L, d]));
  const U = keep(tensor(new Float32Array(L * d).fill(1), [L, d]));
  const opt = new SGD([P, U], { lr: 0.5 });
  const before = await P.toArray();
  const out = tidy(() => {
    const batch = {
      inputIds: tensor(Int32Array.from([5, 6, 7, 1, 8, 9, 1, 0]), [2, 4], 'i32'),
      attentionMask: tensor(Float32Array.from([1, 1, 1, 1, 1, 1, 1, 0]), [2, 4]),
      decoderInputIds: tensor(Int32Array.from([0, 4, 0, 6]), [2, 2], 'i32'),
      labels: tensor(Int32Array.from([4, 1, 6, 1]), [2, 2], 'i32'),
    };
    const params = new Map([['P', P], ['U', U]]);
    return recordStepOn(lm, batch, () => mul(P, U), { prompt: () => undefined, penalty: null, params }, opt, { training: false }).values;
  });
  const host = await readAll({ after: P, loss: out.loss });
  assert.ok(Number.isFinite(host.loss[0]!));
  const moved = Array.from(host.after).reduce((m, v, i) => Math.max(m, Math.abs(v - before[i]!)), 0);
  assert.ok(moved > 1e-6, `P moved by ${moved}: no gradient reached it`);
  for (const x of Object.values(out)) x?.dispose();
  opt.dispose();
  P.dispose();
  U.dispose();
});

/** Five training steps of every weight with dropout (eager, capture, verifying capture, two replays); the weights' bits after each. */
async function trainAll(optimizer: 'adafactor' | 'adamw', arena: boolean, captured: boolean): Promise<number[][][]> {
  const ckpt = randomCheckpoint(tinyConfig(0.1), 5);
  const lm: LoadedModel = { model: modelFromCheckpoint(ckpt, { arena }), tokenizer: loadModel(join(root, 'model'), null).tokenizer, dir: '(random)' };
  const params = [...lm.model.params.values()];
  assert.is(params.every((p) => Arena.of(p) !== undefined), arena, 'the parameters are arena views exactly when asked');
  const opt = makeOptimizer(optimizer, [{ name: 'model', params, lr: 0.01 }], 0.01);
  const step = trainStep(lm, { prompt: () => undefined, penalty: null, params: lm.model.params }, opt, true, { enabled: captured });
  const h: HostBatch = {
    rows: 2, inputLength: 4, targetLength: 2, inputIds: Int32Array.from([5, 6, 7, 1, 8, 9, 1, 0]),
    attentionMask: Float32Array.from([1, 1, 1, 1, 1, 1, 1, 0]), decoderInputIds: Int32Array.from([0, 4, 0, 6]),
    labels: Int32Array.from([4, 1, 6, 1]), tasks: new Int32Array(2), promptIndex: new Int32Array(2),
  };
  const out: number[][][] = [];
  for (let s = 0; s < 5; s++) {
    const r = step(h, 100 + s);
    Object.values(r.values).forEach((v) => v?.dispose());
    const host = await readAll(params);
    out.push(host.map((a) => Array.from(new Uint32Array(a.buffer))));
  }
  assert.is(step.stats.replays, captured ? 2 : 0, 'replays after the warmup and the capture');
  step.dispose();
  opt.dispose();
  releaseModel(lm);
  return out;
}

t('every weight in an arena: the step (eager and replayed) equals the per-tensor step to the bit', async () => {
  for (const optimizer of ['adafactor', 'adamw'] as const) {
    const plain = await trainAll(optimizer, false, false);
    assert.equal(await trainAll(optimizer, true, false), plain, `${optimizer}: eager arena step`);
    assert.equal(await trainAll(optimizer, true, true), plain, `${optimizer}: captured and replayed arena step`);
  }
});

t.run();
