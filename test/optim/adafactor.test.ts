import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { Adafactor } from '../../src/optim/adafactor.js';
import { tensor } from '../../src/tensor/create.js';
import type { Tensor } from '../../src/tensor/tensor.js';
import { adafactor64 } from '../ref/optim.js';
import { initGpu } from '../util/gpu.js';
import { runTrial } from './harness.js';

const t = suite('optim/adafactor');
t.before(async () => void (await initGpu()));

// Vectors (one workgroup and several), matrices with a row or column of 1, a rank-3 parameter
// (three factored matrices), a row longer than a workgroup, and tall matrices whose columns are
// summed in row chunks.
const SHAPES = [[1], [17], [600], [13, 5], [1, 6], [11, 1], [3, 7, 9], [4, 300], [2, 270, 3]];

t('defaults: relative step scaled by the parameter RMS, factored and unfactored', async () => {
  await runTrial('adafactor defaults', { seed: 31, shapes: SHAPES, steps: 5, make: (ps) => new Adafactor(ps), reference: adafactor64 });
});

const externalLr = (ps: Tensor[]) =>
  new Adafactor([{ params: ps.slice(0, 4), lr: 0.1 }, { params: ps.slice(4), lr: 0.05, weightDecay: 0.2 }], {
    relativeStep: false,
    scaleParameter: false,
    beta1: 0.9,
    clipThreshold: 0.5,
  });

t('external lr per group, lr changes, beta1, weight decay, clipping active', async () => {
  await runTrial('adafactor external lr', {
    seed: 32,
    shapes: SHAPES,
    steps: 5,
    make: externalLr,
    reference: adafactor64,
    lrScale: (s) => [1, 0.5, 2, 0.3, 1][s - 1]!,
  });
});

t('warmup init, no clipping, a step with all-zero gradients stays finite', async () => {
  await runTrial('adafactor warmup', {
    seed: 33,
    shapes: SHAPES,
    steps: 4,
    make: (ps) => new Adafactor(ps, { warmupInit: true, clipThreshold: 100, weightDecay: 0.5, decayRate: -0.6 }),
    reference: adafactor64,
    gradScale: (s) => (s === 3 ? 0 : 10 ** (1 - s)),
  });
});

t('arena groups: the group kernels against the float64 reference (defaults, beta1, weight decay, warmup, zero gradients)', async () => {
  await runTrial('adafactor arena defaults', { seed: 34, shapes: SHAPES, steps: 5, arenas: [], make: (ps) => new Adafactor(ps), reference: adafactor64 });
  await runTrial('adafactor arena external lr', {
    seed: 35,
    shapes: SHAPES,
    steps: 5,
    arenas: [4],
    make: externalLr,
    reference: adafactor64,
    lrScale: (s) => [1, 0.5, 2, 0.3, 1][s - 1]!,
  });
  await runTrial('adafactor arena warmup', {
    seed: 36,
    shapes: [[2, 270, 3], [600], [1, 1], [0], ...SHAPES.slice(3, 6)],
    steps: 4,
    arenas: [],
    make: (ps) => new Adafactor(ps, { warmupInit: true, clipThreshold: 100, weightDecay: 0.5, decayRate: -0.6, beta1: 0.5 }),
    reference: adafactor64,
    gradScale: (s) => (s === 3 ? 0 : 10 ** (1 - s)),
  });
});

t('option checks follow Hugging Face', () => {
  const p = tensor([1, 2, 3]);
  assert.throws(() => new Adafactor([p], { lr: 1e-3 }), /cannot combine a manual lr with relativeStep/);
  assert.throws(() => new Adafactor([p], { relativeStep: false }), /relativeStep=false needs an lr/);
  assert.throws(() => new Adafactor([p], { relativeStep: false, lr: 1, warmupInit: true }), /warmupInit needs relativeStep/);
  assert.throws(() => new Adafactor([{ params: [p], lr: 0.1 }]), /group 0: cannot combine/);
  p.dispose();
});

t.run();
