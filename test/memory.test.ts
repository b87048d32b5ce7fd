// A long training loop must keep GPU memory flat: every step's intermediates (forward, tape,
// gradients, optimizer scratch) go back to the pool and are reused, so after a few warm-up steps
// the pool neither creates buffers nor holds more of them.
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { valueAndGrad } from '../src/autograd/grad.js';
import { recorder } from '../src/gpu/recorder.js';
import { add, mul, square, sub, tanh } from '../src/ops/elementwise.js';
import { mean } from '../src/ops/reduce.js';
import { AdamW } from '../src/optim/adamw.js';
import { linearWarmupDecaySchedule } from '../src/optim/schedule.js';
import { tensor } from '../src/tensor/create.js';
import { tidy } from '../src/tensor/scope.js';
import type { Tensor } from '../src/tensor/tensor.js';
import { randArray, rng } from './util/check.js';
import { initGpu } from './util/gpu.js';
import { sum } from '../src/ops/sum.js';
import { reshape } from '../src/ops/reshape.js';

const t = suite('memory');
t.before(async () => void (await initGpu()));

const STEPS = 1000;
const N = 16, D = 5, H = 12;

/** A 2-layer tanh MLP with the matrix products written as broadcast multiply + sum. */
function mlp(x: Tensor, [w1, b1, w2, b2]: Tensor[]): Tensor {
  const hidden = tanh(add(sum(mul(reshape(x, [N, D, 1]), reshape(w1!, [1, D, H])), 1), b1!));
  return add(sum(mul(hidden, w2!), 1), b2!);
}

t('1000 AdamW steps in tidy(): pool allocation and use stay flat and the loss falls', async () => {
  const r = rng(51);
  const xs = randArray(r, N * D);
  const ys = Array.from({ length: N }, (_, i) => Math.sin(2 * xs[i * D]!) + xs[i * D + 1]! * xs[i * D + 2]!);
  const x = tensor(xs, [N, D]);
  const y = tensor(ys, [N]);
  const params = [
    tensor(randArray(r, D * H, -0.5, 0.5), [D, H]),
    tensor(new Float32Array(H), [H]),
    tensor(randArray(r, H, -0.5, 0.5), [H]),
    tensor(new Float32Array(1), [1]),
  ];
  const opt = new AdamW(params, { lr: 0.03, weightDecay: 0.01 });
  const schedule = linearWarmupDecaySchedule(20, STEPS + 100);
  const losses: number[] = [];
  let baseline: { allocated: number; inUse: number } | null = null;
  const started = performance.now();
  for (let step = 1; step <= STEPS; step++) {
    opt.setLrScale(schedule(step - 1));
    const loss = tidy(() => {
      const { value, grads } = valueAndGrad(() => mean(square(sub(mlp(x, params), y))), opt.params);
      opt.step(grads);
      return value;
    });
    recorder().submit();
    const check = step === 10 || step % 100 === 0;
    if (check) losses.push(await loss.item());
    loss.dispose();
    if (!check) continue;
    const { allocated, inUse } = recorder().pool.snapshot();
    if (!baseline) baseline = { allocated, inUse };
    else assert.equal({ allocated, inUse }, baseline, `pool at step ${step} vs step 10`);
  }
  const seconds = (performance.now() - started) / 1000;
  process.stdout.write(`  [${STEPS} steps in ${seconds.toFixed(1)} s; loss ${losses[0]!.toExponential(2)} at step 10 -> ${losses.at(-1)!.toExponential(2)}] `);
  assert.ok(losses.at(-1)! < 0.3 * losses[0]!, `loss ${losses.join(', ')}`);
  opt.dispose();
  [x, y, ...params].forEach((p) => p.dispose());
});

t.run();
