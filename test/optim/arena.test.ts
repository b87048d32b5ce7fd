// Arena groups against the per-parameter path: the same training steps (valueAndGrad, then the
// update) with parameters as separate tensors and as arena views whose gradients land in the
// optimizer's gradient arena must give the same parameters and state to the bit, NaN and Inf
// steps included, with fewer dispatches; and what the arena path cannot take is refused clearly.
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { valueAndGrad } from '../../src/autograd/grad.js';
import { recorder } from '../../src/gpu/recorder.js';
import { add, mul, scale, square, sub } from '../../src/ops/elementwise.js';
import { matmul } from '../../src/ops/matmul.js';
import { sum } from '../../src/ops/sum.js';
import { Adafactor } from '../../src/optim/adafactor.js';
import { AdamW } from '../../src/optim/adamw.js';
import type { BaseOptions, Optimizer } from '../../src/optim/optimizer.js';
import { SGD } from '../../src/optim/sgd.js';
import { Arena } from '../../src/tensor/arena.js';
import { tensor } from '../../src/tensor/create.js';
import { tidy } from '../../src/tensor/scope.js';
import type { Tensor } from '../../src/tensor/tensor.js';
import { numel, randArray, rng } from '../util/check.js';
import { initGpu } from '../util/gpu.js';
import { assertPaddingZero } from './harness.js';

const t = suite('optim/arena');
t.before(async () => void (await initGpu()));

// Two matrices (one tall enough for the column chunks), a rank-3 parameter, vectors, odd sizes.
const SHAPES = [[37, 13], [300, 5], [13], [2, 3, 7], [1], [129]];

type Make = (params: Tensor[]) => Optimizer<BaseOptions>;

/** x [9, 37] through W [37, 13] and the other parameters into one scalar; each parameter reaches it. */
function loss(ps: Tensor[], x: Tensor, y: Tensor, hot: Tensor): Tensor {
  const [w, tall, b, cube, s, v] = ps as [Tensor, Tensor, Tensor, Tensor, Tensor, Tensor];
  const h = add(matmul(x, w), b);
  const fit = sum(square(sub(h, y)));
  const extra = add(add(sum(square(tall)), sum(mul(cube, cube))), mul(sum(mul(v, v)), s));
  return add(add(fit, scale(extra, 0.01)), sum(mul(hot, b)));
}

interface Run {
  params: number[][];
  state: Array<Record<string, number[]>>;
  dispatches: number;
}

/** The bits of each element; every NaN as one pattern (IEEE 754 leaves a NaN result's sign and payload open). */
const bitsOf = (a: ArrayLike<number>) => Array.from(new Uint32Array(Float32Array.from(a).buffer), (x) => ((x & 0x7fffffff) > 0x7f800000 ? 0x7fc00000 : x));

/**
 * `steps` training steps; at step 3 one gradient element is NaN, at step 4 one is Inf (through
 * `hot`). With `switchAt`, the run saves the parameters and state() after that many steps and
 * goes on in a new optimizer over the other layout (per-parameter <-> arena) after loadState().
 */
async function train(make: Make, arena: boolean, steps: number, switchAt = 0): Promise<Run> {
  const r = rng(7);
  const host = SHAPES.map((s) => Float32Array.from(randArray(r, numel(s))));
  const x = tensor(randArray(r, 9 * 37), [9, 37]);
  const y = tensor(randArray(r, 9 * 13), [9, 13]);
  let memory = arena ? Arena.upload(host.map((data, i) => ({ data, shape: SHAPES[i]! }))) : null;
  let params = memory ? [...memory.views] : host.map((d, i) => tensor(d, SHAPES[i]!));
  let opt = make(params);
  let dispatches = 0;
  for (let step = 1; step <= steps; step++) {
    if (step === switchAt + 1 && switchAt > 0) {
      const [saved, values] = [await opt.state(), await Promise.all(params.map((p) => p.toArray() as Promise<Float32Array>))];
      opt.dispose();
      params.forEach((p) => p.dispose());
      memory?.dispose();
      memory = memory ? null : Arena.upload(values.map((data, i) => ({ data, shape: SHAPES[i]! })));
      params = memory ? [...memory.views] : values.map((d, i) => tensor(d, SHAPES[i]!));
      opt = make(params);
      opt.loadState(saved);
    }
    const hotData = new Float32Array(13);
    if (step === 3) hotData[4] = NaN;
    if (step === 4) hotData[7] = Infinity;
    const hot = tensor(hotData);
    await recorder().sync();
    const before = recorder().snapshot().dispatches;
    tidy(() => {
      const { grads } = valueAndGrad(() => loss(opt.params.map((p) => p), x, y, hot), opt.params, arena ? { into: opt.gradTargets() } : {});
      opt.step(grads);
    });
    dispatches = recorder().snapshot().dispatches - before;
    recorder().submit();
    hot.dispose();
  }
  if (memory) await assertPaddingZero(memory, 'parameter arena after NaN and Inf steps');
  const out = {
    params: await Promise.all(params.map(async (p) => bitsOf(await p.toArray()))),
    state: (await opt.state()).params.map((s) => Object.fromEntries(Object.entries(s.tensors).map(([k, v]) => [k, bitsOf(v)]))),
    dispatches,
  };
  opt.dispose();
  [...params, x, y].forEach((p) => p.dispose());
  memory?.dispose();
  return out;
}

const CASES: Array<[string, Make]> = [
  ['SGD', (ps) => new SGD(ps, { lr: 0.01, weightDecay: 0.1 })],
  ['SGD momentum', (ps) => new SGD(ps, { lr: 0.01, momentum: 0.9, dampening: 0.1 })],
  ['SGD nesterov', (ps) => new SGD(ps, { lr: 0.01, momentum: 0.9, nesterov: true, weightDecay: 0.01 })],
  ['AdamW', (ps) => new AdamW(ps, { lr: 0.01, weightDecay: 0.1 })],
  ['Adafactor (HF defaults)', (ps) => new Adafactor(ps)],
  ['Adafactor (prompt-tuning form, beta1, weight decay)', (ps) => new Adafactor(ps, { lr: 0.3, relativeStep: false, scaleParameter: false, beta1: 0.9, weightDecay: 0.01 })],
];

for (const [name, make] of CASES) {
  t(`${name}: arena group equals the per-parameter path to the bit over 5 steps (a NaN and an Inf step)`, async () => {
    const plain = await train(make, false, 5);
    const arena = await train(make, true, 5);
    assert.equal(arena.params, plain.params, 'parameters');
    assert.equal(arena.state, plain.state, 'state, per parameter');
    assert.ok(arena.dispatches < plain.dispatches, `${arena.dispatches} dispatches per step in the arena, ${plain.dispatches} per parameter`);
  });
}

t('checkpoints keep one format: state() of either path resumes in the other to the bit', async () => {
  const make = CASES[5]![1];
  const plain = await train(make, false, 5);
  for (const arena of [false, true]) {
    const resumed = await train(make, arena, 5, 2);
    assert.equal(resumed.params, plain.params, `started ${arena ? 'in the arena' : 'per parameter'}, resumed in the other: parameters`);
    assert.equal(resumed.state, plain.state, 'state');
  }
});

t('one dispatch per group for AdamW and SGD; a fixed few for Adafactor whatever the group size', async () => {
  const count = async (make: Make, n: number) => {
    const memory = Arena.upload(Array.from({ length: n }, (_, i) => ({ data: new Float32Array((i + 3) * 5), shape: [i + 3, 5] })));
    const opt = make([...memory.views]);
    const grads = opt.gradTargets().map((g) => g!);
    opt.step(grads);
    await recorder().sync();
    const before = recorder().snapshot().dispatches;
    opt.step(grads);
    const used = recorder().snapshot().dispatches - before;
    recorder().submit();
    opt.dispose();
    memory.views.forEach((v) => v.dispose());
    memory.dispose();
    return used;
  };
  for (const n of [2, 9]) {
    assert.is(await count((ps) => new AdamW(ps), n), 1, `AdamW, ${n} matrices`);
    assert.is(await count((ps) => new SGD(ps, { momentum: 0.5 }), n), 1, `SGD, ${n} matrices`);
    assert.is(await count((ps) => new Adafactor(ps), n), 4, `Adafactor, ${n} matrices: columns, rows, scalars, apply`);
  }
});

t('refusals and fallbacks: foreign gradients after gradTargets, groups that are not one arena, eps = 0', async () => {
  const a = Arena.upload([{ data: new Float32Array([1, 2, 3]), shape: [3] }, { data: new Float32Array([4, 5]), shape: [2] }]);
  const b = Arena.upload([{ data: new Float32Array([6]), shape: [1] }]);
  const loose = tensor([7, 8]);
  const [p, q] = a.views as [Tensor, Tensor];
  const opt = new SGD([{ params: [p, q] }, { params: [b.views[0]!, loose] }], { lr: 0.1 });
  const targets = opt.gradTargets();
  assert.ok(targets[0] && targets[1], 'the arena group gets gradient views');
  assert.is(targets[2], null, 'a group mixing an arena view and a loose tensor has no gradient arena');
  assert.is(targets[3], null);
  const g = [tensor([1, 1, 1]), tensor([1, 1]), tensor([1]), tensor([1, 1])];
  assert.throws(() => opt.step(g), /gradient 0 \(f32\[3\]\) for f32\[3\] is not a view of the gradient arena; after gradTargets\(\) the group's gradients must be the views it returned/);
  assert.throws(() => opt.step([targets[0]!, targets[0]!.view([2]), g[2]!, g[3]!]), /gradient 1 .* is a view of the gradient arena that is none of its members/);
  // The non-arena group takes any gradients, per parameter.
  opt.step([targets[0]!, targets[1]!, g[2]!, g[3]!]);
  const c = Arena.upload([{ data: new Float32Array([1, 2]), shape: [2] }, { data: new Float32Array([3, 4]), shape: [2] }]);
  const swapped = new SGD([{ params: [c.views[1]!, c.views[0]!] }], { lr: 0.1 });
  const t2 = swapped.gradTargets();
  assert.ok(t2[0]!.sharesStorage(t2[1]!) && t2[0]!.offset > t2[1]!.offset, 'targets follow the group order, views follow the arena');
  assert.throws(() => swapped.step([t2[1]!, t2[0]!]), /gradient 1 .* is the gradient arena's view for another parameter/);
  // AdamW with eps = 0 would turn the padding into 0/0: that group goes per parameter.
  const adam = new AdamW([p, q], { eps: 0 });
  await recorder().sync();
  const before = recorder().snapshot().dispatches;
  adam.step(adam.gradTargets().map((x) => x!));
  assert.is(recorder().snapshot().dispatches - before, 1 + 2 + 2, 'zeros for the gradient arena and two state arenas, then two per-parameter updates');
  await assertPaddingZero(a, 'AdamW eps = 0');
  for (const o of [opt, swapped, adam]) o.dispose();
  [...g, loose, p, q, b.views[0]!, ...c.views].forEach((x) => x.dispose());
  [a, b, c].forEach((x) => x.dispose());
});

t.run();
