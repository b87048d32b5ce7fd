import { suite } from 'uvu';
import { AdamW, type AdamWOptions } from '../../src/optim/adamw.js';
import { initGpu } from '../util/gpu.js';
import { runTrial, slot, type HostUpdate } from './harness.js';

const t = suite('optim/adamw');
t.before(async () => void (await initGpu()));

/** torch.optim.AdamW in float64. */
const reference: HostUpdate<AdamWOptions> = (p, g, state, { step, group }) => {
  const { lr, weightDecay, eps, betas: [b1, b2] } = group;
  const m = slot(state, 'exp_avg', p.length);
  const v = slot(state, 'exp_avg_sq', p.length);
  const stepSize = lr / (1 - b1 ** step);
  const bc2Sqrt = Math.sqrt(1 - b2 ** step);
  for (let i = 0; i < p.length; i++) {
    p[i] = p[i]! * (1 - lr * weightDecay);
    m[i] = b1 * m[i]! + (1 - b1) * g[i]!;
    v[i] = b2 * v[i]! + (1 - b2) * g[i]! * g[i]!;
    p[i] = p[i]! - (stepSize * m[i]!) / (Math.sqrt(v[i]!) / bc2Sqrt + eps);
  }
};

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
    reference,
    lrScale: (s) => [1, 0.5, 0.25, 1.5, 0.8, 1][s - 1]!,
  });
});

t('other betas and a large eps, one tensor list', async () => {
  await runTrial('adamw betas', {
    seed: 22,
    shapes: SHAPES,
    steps: 4,
    make: (ps) => new AdamW(ps, { lr: 0.01, betas: [0.5, 0.9], eps: 1e-3 }),
    reference,
    gradScale: (s) => 10 ** (1 - s),
  });
});

t.run();
