// Float64 references of the optim family (shaders/optim.wgsl): one update of one parameter as
// torch.optim.SGD, torch.optim.AdamW and Hugging Face's Adafactor do it, with the state kept by
// the optimizers' own state names (test/optim/*.test.ts through test/optim/harness.ts,
// bench/optim.ts).
import type { AdafactorOptions } from '../../src/optim/adafactor.js';
import type { AdamWOptions } from '../../src/optim/adamw.js';
import type { BaseOptions, ParamGroup } from '../../src/optim/optimizer.js';
import type { SgdOptions } from '../../src/optim/sgd.js';

/** Host state of one parameter, by the same names as the optimizer's state tensors. */
export type HostState = Record<string, Float64Array>;

/** One float64 update of `p` (in place) as the optimizer should do it. */
export type HostUpdate<O extends BaseOptions> = (
  p: Float64Array,
  g: Float64Array,
  state: HostState,
  ctx: { shape: number[]; step: number; group: ParamGroup<O> },
) => void;

/** The state entry `name`, created as zeros of length n on first use. */
export function slot(state: HostState, name: string, n: number): Float64Array {
  return (state[name] ??= new Float64Array(n));
}

/** torch.optim.SGD in float64. */
export const sgd64: HostUpdate<SgdOptions> = (p, g, state, { step, group }) => {
  const { lr, weightDecay, momentum, dampening, nesterov } = group;
  const buf = momentum > 0 ? slot(state, 'momentum_buffer', p.length) : null;
  for (let i = 0; i < p.length; i++) {
    let d = g[i]! + weightDecay * p[i]!;
    if (buf) {
      buf[i] = step === 1 ? d : momentum * buf[i]! + (1 - dampening) * d;
      d = nesterov ? d + momentum * buf[i]! : buf[i]!;
    }
    p[i] = p[i]! - lr * d;
  }
};

/** torch.optim.AdamW in float64. */
export const adamw64: HostUpdate<AdamWOptions> = (p, g, state, { step, group }) => {
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

const rms = (a: Float64Array): number => Math.sqrt(a.reduce((s, x) => s + x * x, 0) / a.length);

/** Hugging Face transformers' Adafactor.step for one parameter, in float64. */
export const adafactor64: HostUpdate<AdafactorOptions> = (p, g, state, { shape, step, group }) => {
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
