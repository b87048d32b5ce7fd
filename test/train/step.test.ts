// The generic supervised step: gradients reach the trained tensors through the ops that build the
// prompt from them (P o (U V), a stack indexed per row), which must run inside the differentiated
// function. Built outside it, the prompt is a constant to the tape and the step trains nothing.
import { rmSync } from 'node:fs';
import { join } from 'node:path';
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { mul } from '../../src/ops/elementwise.js';
import { SGD } from '../../src/optim/sgd.js';
import { tensor } from '../../src/tensor/create.js';
import { keep, tidy } from '../../src/tensor/scope.js';
import { readAll } from '../../src/tensor/tensor.js';
import { loadModel } from '../../src/train/model.js';
import { recordStepOn } from '../../src/train/step.js';
import { tempDir, tinyModelDir } from '../util/fixtures.js';
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

t.run();
