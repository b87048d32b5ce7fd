import { suite } from 'uvu';
import { SGD } from '../../src/optim/sgd.js';
import { sgd64 } from '../ref/optim.js';
import { initGpu } from '../util/gpu.js';
import { runTrial } from './harness.js';

const t = suite('optim/sgd');
t.before(async () => void (await initGpu()));

const SHAPES = [[1], [7], [13, 5], [3, 1, 11], [1031]];
const LR_SCALES = [1, 0.5, 2, 0.1, 1.3];

t('plain SGD with two groups (own lr and weight decay) and an lr change every step', async () => {
  await runTrial('sgd', {
    seed: 11,
    shapes: SHAPES,
    steps: 5,
    make: ([a, b, c, d, e]) => new SGD([{ params: [a!, c!], lr: 0.3, weightDecay: 0.1 }, { params: [b!, d!, e!], lr: 0.05 }]),
    reference: sgd64,
    lrScale: (s) => LR_SCALES[s - 1]!,
  });
});

t('momentum with dampening and weight decay', async () => {
  await runTrial('sgd momentum', {
    seed: 12,
    shapes: SHAPES,
    steps: 5,
    make: (ps) => new SGD(ps, { lr: 0.1, momentum: 0.9, dampening: 0.2, weightDecay: 0.05 }),
    reference: sgd64,
    lrScale: (s) => LR_SCALES[s - 1]!,
  });
});

t('nesterov momentum in one group, plain SGD in the other', async () => {
  await runTrial('sgd nesterov', {
    seed: 13,
    shapes: SHAPES,
    steps: 5,
    make: ([a, b, c, d, e]) =>
      new SGD([{ params: [a!, b!, c!], momentum: 0.8, nesterov: true, weightDecay: 0.01 }, { params: [d!, e!], lr: 0.2 }], { lr: 0.15 }),
    reference: sgd64,
  });
});

t('arena groups: one dispatch per group against the float64 reference (plain, momentum, nesterov)', async () => {
  await runTrial('sgd arena', {
    seed: 14,
    shapes: SHAPES,
    steps: 5,
    arenas: [2, 3],
    make: ([a, b, c, d, e]) =>
      new SGD([
        { params: [b!, a!], lr: 0.3, weightDecay: 0.1 },
        { params: [c!], momentum: 0.9, dampening: 0.2, weightDecay: 0.05 },
        { params: [d!, e!], momentum: 0.8, nesterov: true, weightDecay: 0.01 },
      ], { lr: 0.15 }),
    reference: sgd64,
    lrScale: (s) => LR_SCALES[s - 1]!,
  });
});

t.run();
