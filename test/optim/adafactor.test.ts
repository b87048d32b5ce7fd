import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { Adafactor, type AdafactorOptions } from '../../src/optim/adafactor.js';
import { tensor } from '../../src/tensor/create.js';
import { initGpu } from '../util/gpu.js';
import { runTrial, slot, type HostUpdate } from './harness.js';

const t = suite('optim/adafactor');
t.before(async () => void (await initGpu()));

const rms = (a: Float64Array): number => Math.sqrt(a.reduce((s, x) => s + x * x, 0) / a.length);

/** Hugging Face transformers' Adafactor.step for one parameter, in float64. */
const reference: HostUpdate<AdafactorOptions> = (p, g, state, { shape, step, group }) => {
  const n = p.length;
  const [eps1, eps2] = group.eps;
  const relStep = group.relativeStep ? Math.min(group.warmupInit ? 1e-6 * step : 1e-2, 1 / Math.sqrt(step)) : group.lr;
  const lr = relStep * (group.scaleParameter ? Math.max(eps2, rms(p)) : 1);
  const beta2t = 1 - step ** group.decayRate;
  const u = new Float64Array(n);
  if (shape.length >= 2) {
    const c = shape[shape.length - 1]!, r = shape[shape.length - 2]!, b = n / (r * c);
    const row = slot(state, 'exp_avg_sq_row', b * r);
    const col = slot(state, 'exp_avg_sq_col', b * c);
    const sq = (bi: number, ri: number, ci: number) => g[(bi * r + ri) * c + ci]! ** 2 + eps1;
    for (let bi = 0; bi < b; bi++) {
      for (let ri = 0; ri < r; ri++) {
        let s = 0;
        for (let ci = 0; ci < c; ci++) s += sq(bi, ri, ci);
        row[bi * r + ri] = beta2t * row[bi * r + ri]! + (1 - beta2t) * (s / c);
      }
      for (let ci = 0; ci < c; ci++) {
        let s = 0;
        for (let ri = 0; ri < r; ri++) s += sq(bi, ri, ci);
        col[bi * c + ci] = beta2t * col[bi * c + ci]! + (1 - beta2t) * (s / r);
      }
      let rowMean = 0;
      for (let ri = 0; ri < r; ri++) rowMean += row[bi * r + ri]! / r;
      for (let ri = 0; ri < r; ri++) {
        for (let ci = 0; ci < c; ci++) {
          const i = (bi * r + ri) * c + ci;
          u[i] = (1 / Math.sqrt(row[bi * r + ri]! / rowMean)) * (1 / Math.sqrt(col[bi * c + ci]!)) * g[i]!;
        }
      }
    }
  } else {
    const v = slot(state, 'exp_avg_sq', n);
    for (let i = 0; i < n; i++) {
      v[i] = beta2t * v[i]! + (1 - beta2t) * (g[i]! ** 2 + eps1);
      u[i] = g[i]! / Math.sqrt(v[i]!);
    }
  }
  const clip = Math.max(rms(u) / group.clipThreshold, 1);
  for (let i = 0; i < n; i++) u[i] = (u[i]! / clip) * lr;
  if (group.beta1 !== null) {
    const m = slot(state, 'exp_avg', n);
    for (let i = 0; i < n; i++) u[i] = m[i] = group.beta1 * m[i]! + (1 - group.beta1) * u[i]!;
  }
  for (let i = 0; i < n; i++) p[i] = p[i]! + -group.weightDecay * lr * p[i]! - u[i]!;
};

// Vectors (one workgroup and several), matrices with a row or column of 1, a rank-3 parameter
// (three factored matrices), a row longer than a workgroup, and tall matrices whose columns are
// summed in row chunks.
const SHAPES = [[1], [17], [600], [13, 5], [1, 6], [11, 1], [3, 7, 9], [4, 300], [2, 270, 3]];

t('defaults: relative step scaled by the parameter RMS, factored and unfactored', async () => {
  await runTrial('adafactor defaults', { seed: 31, shapes: SHAPES, steps: 5, make: (ps) => new Adafactor(ps), reference });
});

t('external lr per group, lr changes, beta1, weight decay, clipping active', async () => {
  await runTrial('adafactor external lr', {
    seed: 32,
    shapes: SHAPES,
    steps: 5,
    make: (ps) =>
      new Adafactor([{ params: ps.slice(0, 4), lr: 0.1 }, { params: ps.slice(4), lr: 0.05, weightDecay: 0.2 }], {
        relativeStep: false,
        scaleParameter: false,
        beta1: 0.9,
        clipThreshold: 0.5,
      }),
    reference,
    lrScale: (s) => [1, 0.5, 2, 0.3, 1][s - 1]!,
  });
});

t('warmup init, no clipping, a step with all-zero gradients stays finite', async () => {
  await runTrial('adafactor warmup', {
    seed: 33,
    shapes: SHAPES,
    steps: 4,
    make: (ps) => new Adafactor(ps, { warmupInit: true, clipThreshold: 100, weightDecay: 0.5, decayRate: -0.6 }),
    reference,
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
