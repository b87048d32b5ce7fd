import { suite } from 'uvu';
import { AdamW } from '../../src/optim/adamw.js';
import { adamw64 } from '../ref/optim.js';
import { initGpu } from '../util/gpu.js';
import { runTrial } from './harness.js';

const t = suite('optim/adamw');
t.before(async () => void (await initGpu()));

const SHAPES = [[1], [7], [13, 5], [3, 1, 11], [1031]];

t('parameter groups with their own lr and weight decay, lr changed between steps', async () => {
  await runTrial('adamw groups', {
    seed: 21,
    shapes: SHAPES,
    steps: 6,
    make: ([p, u, v, w, x]) =>
      new AdamW([{ params: [p!], lr: 0.3 }, { params: [u!, v!], lr: 0.4, weightDecay: 0 }, { params: [w!, x!] }], {
        lr: 0.05,
        betas: [0.9, 0.999],
        eps: 1e-8,
        weightDecay: 0.1,
      }),
    reference: adamw64,
    lrScale: (s) => [1, 0.5, 0.25, 1.5, 0.8, 1][s - 1]!,
  });
});

t('other betas and a large eps, one tensor list', async () => {
  await runTrial('adamw betas', {
    seed: 22,
    shapes: SHAPES,
    steps: 4,
    make: (ps) => new AdamW(ps, { lr: 0.01, betas: [0.5, 0.9], eps: 1e-3 }),
    reference: adamw64,
    gradScale: (s) => 10 ** (1 - s),
  });
});

t('arena groups: one dispatch per group against the float64 reference', async () => {
  await runTrial('adamw arena groups', {
    seed: 23,
    shapes: SHAPES,
    steps: 5,
    arenas: [1, 3],
    make: ([p, u, v, w, x]) => new AdamW([{ params: [p!], lr: 0.3 }, { params: [v!, u!], lr: 0.4, weightDecay: 0 }, { params: [x!, w!] }], { lr: 0.05, weightDecay: 0.1 }),
    reference: adamw64,
    lrScale: (s) => [1, 0.5, 0.25, 1.5, 0.8][s - 1]!,
  });
});

t.run();
