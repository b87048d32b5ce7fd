import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { valueAndGrad } from '../../src/autograd/grad.js';
import { recorder } from '../../src/gpu/recorder.js';
import { square, sub } from '../../src/ops/elementwise.js';
import { Adafactor } from '../../src/optim/adafactor.js';
import { AdamW } from '../../src/optim/adamw.js';
import type { BaseOptions, Optimizer } from '../../src/optim/optimizer.js';
import { SGD } from '../../src/optim/sgd.js';
import { tensor } from '../../src/tensor/create.js';
import { tidy } from '../../src/tensor/scope.js';
import type { Tensor } from '../../src/tensor/tensor.js';
import { randArray, rng } from '../util/check.js';
import { initGpu, read } from '../util/gpu.js';
import { sum } from '../../src/ops/sum.js';

const t = suite('optim/optimizer');
t.before(async () => void (await initGpu()));

t('trains through valueAndGrad, updating the parameters in place', async () => {
  const r = rng(41);
  const p = tensor(randArray(r, 15), [5, 3]);
  const qInit = Float32Array.from(randArray(r, 4));
  const q = tensor(qInit, [4]);
  const target = tensor(randArray(r, 15), [5, 3]);
  const alias = p.view(p.shape);
  const opt = new AdamW([{ params: [p], lr: 0.05 }, { params: [q], lr: 0.1 }], { weightDecay: 0 });
  const lossAt = () => sum(square(sub(p, target)));
  const first = await tidy(lossAt).item();
  for (let s = 0; s < 60; s++) {
    tidy(() => opt.step(valueAndGrad(lossAt, opt.params).grads));
    recorder().submit();
  }
  const last = await tidy(lossAt).item();
  assert.ok(last < 0.05 * first, `loss ${first} -> ${last}`);
  assert.equal(Array.from(await read(alias)), Array.from(await read(p)), 'the update went into the original storage');
  // q does not reach the loss: a zero gradient and no weight decay leave it exactly as it was.
  assert.equal(Array.from(await read(q)), Array.from(qInit));
  opt.dispose();
  [p, q, target, alias].forEach((x) => x.dispose());
});

t('state() and loadState() resume exactly, step counts included', async () => {
  const makers: Array<[string, (ps: Tensor[]) => Optimizer<BaseOptions>]> = [
    ['AdamW', (ps) => new AdamW(ps, { lr: 0.1 })],
    ['Adafactor', (ps) => new Adafactor(ps, { beta1: 0.8 })],
    ['SGD', (ps) => new SGD(ps, { lr: 0.1, momentum: 0.9, dampening: 0.5 })],
  ];
  for (const [name, make] of makers) {
    const r = rng(42);
    const shapes = [[7, 4], [9]];
    const init = shapes.map((s) => Float32Array.from(randArray(r, s.reduce((a, b) => a * b, 1))));
    const grads = Array.from({ length: 5 }, () => init.map((x) => Float32Array.from(randArray(r, x.length))));
    const run = (opt: Optimizer<BaseOptions>, from: number, to: number) => {
      for (let s = from; s < to; s++) tidy(() => opt.step(grads[s]!.map((g, i) => tensor(g, shapes[i]))));
    };
    const ps = init.map((x, i) => tensor(x, shapes[i]));
    const a = make(ps);
    run(a, 0, 3);
    const saved = await a.state();
    const resumed = await Promise.all(ps.map(read));
    assert.equal(saved.params.map((s) => s.step), [3, 3]);
    run(a, 3, 5);
    const qs = resumed.map((x, i) => tensor(x, shapes[i]));
    const b = make(qs);
    b.loadState(saved);
    run(b, 3, 5);
    for (let i = 0; i < ps.length; i++) assert.equal(Array.from(await read(qs[i]!)), Array.from(await read(ps[i]!)), `${name} param ${i}`);
    const other = new AdamW([qs[1]!, qs[0]!]);
    if (name !== 'AdamW') assert.throws(() => other.loadState(saved), /loadState: parameter 0 has state/);
    else assert.throws(() => other.loadState(saved), /loadState: exp_avg of parameter 0 has 28 values/);
    [a, b, other].forEach((o) => o.dispose());
    [...ps, ...qs].forEach((x) => x.dispose());
  }
});

t('dispose() frees the state and nothing else; per-step scratch goes back to the pool', async () => {
  const r = rng(43);
  const shape = [300, 15];
  const p = tensor(randArray(r, 4500), shape);
  await recorder().sync();
  const before = recorder().pool.snapshot().inUse;
  const opt = new Adafactor([p], { beta1: 0.9 });
  const pools = [];
  for (let s = 0; s < 4; s++) {
    tidy(() => opt.step([tensor(randArray(r, 4500), shape)]));
    recorder().submit();
    const { allocated, inUse } = recorder().pool.snapshot();
    pools.push({ allocated, inUse });
  }
  assert.equal(pools[3], pools[1]);
  assert.ok(pools[3]!.inUse > before);
  opt.dispose();
  assert.is(recorder().pool.snapshot().inUse, before);
  assert.not.ok(p.disposed);
  assert.throws(() => opt.step([p]), /Adafactor.step: the optimizer was disposed/);
  p.dispose();
});

t('groups, lr scales and argument checks', () => {
  const a = tensor([1, 2, 3]);
  const b = tensor([1, 2, 3, 4], [2, 2]);
  const opt = new SGD([{ params: [a], lr: 0.5 }, { params: [b] }], { lr: 0.1, weightDecay: 0.01 });
  assert.equal(opt.params, [a, b]);
  assert.equal(opt.groups.map((g) => [g.lr, g.weightDecay]), [[0.5, 0.01], [0.1, 0.01]]);
  opt.setLrScale(0.5);
  assert.equal(opt.groups.map((g) => g.lr), [0.25, 0.05]);
  assert.throws(() => opt.step([a]), /SGD.step: 1 gradients for 2 parameters/);
  assert.throws(() => opt.step([a, a]), /SGD.step: gradient 1 is f32\[3\], parameter is f32\[2,2\]/);
  assert.throws(() => new SGD([a, a]), /appears twice/);
  assert.throws(() => new SGD([a], { nesterov: true }), /nesterov needs momentum > 0/);
  assert.throws(() => new SGD([a], { lr: -1 }), /invalid lr -1/);
  assert.throws(() => new AdamW([a], { betas: [0.9, 1] }), /invalid betas/);
  assert.throws(() => new AdamW([tensor(new Int32Array([1]))]), /is not f32/);
  opt.dispose();
  a.dispose();
  b.dispose();
});

t.run();
