// The optim family (shaders/optim.wgsl): one optimizer step for every entry point and override
// setting: sgd, sgd_momentum (NESTEROV off and on), adamw, and Adafactor factored (adafactor_cols
// with SQUARE, and on a tall matrix adafactor_col_chunks first; adafactor_rows, scalars, apply),
// unfactored (adafactor_vector), with momentum (adafactor_apply_momentum) and with a fixed lr
// (SCALE_PARAMETER off). Each is first checked against test/ref/optim.ts: one step from fresh
// parameters on the timed inputs. Parameters: T5-small's feed-forward weight [512, 2048] (tall:
// [2048, 512]) and a vector of the same size. GB/s counts the step's compulsory traffic: the
// gradient read, the parameter and each state tensor read and written.
//   node dist/bench/optim.js [--quick] [--trace=FILE] [--out=FILE]
import { Adafactor } from '../src/optim/adafactor.js';
import { AdamW } from '../src/optim/adamw.js';
import type { BaseOptions, Optimizer } from '../src/optim/optimizer.js';
import { SGD } from '../src/optim/sgd.js';
import { tensor } from '../src/tensor/create.js';
import { keep, tidy } from '../src/tensor/scope.js';
import type { Tensor } from '../src/tensor/tensor.js';
import { numel } from '../test/ref/compare.js';
import { randF32, rng } from '../test/ref/data.js';
import { adafactor64, adamw64, sgd64, type HostState, type HostUpdate } from '../test/ref/optim.js';
import { suiteArgs } from './lib/args.js';
import { Family, read64 } from './lib/family.js';

const args = suiteArgs('optim', {});
const [R, C] = args.quick ? [128, 512] : [512, 2048];
const fam = new Family('optim', args.quick);
await fam.start(`one step on [${R}, ${C}], [${C}, ${R}] and [${R * C}]`);

/** An optimizer on one parameter, and the reference of its first step. */
interface Stepper {
  step(grads: readonly Tensor[]): void;
  dispose(): void;
  /** The float64 first step of `host` (in place) with gradient g, under the optimizer's group. */
  reference(host: Float64Array, g: Float64Array): void;
}
interface Case {
  variant: string;
  shape: number[];
  /** Bytes per element: the gradient read, the parameter and the state read and written. */
  bytesPer: number;
  make: (param: Tensor) => Stepper;
}
function optimCase<O extends BaseOptions>(variant: string, shape: number[], bytesPer: number, make: (ps: Tensor[]) => Optimizer<O>, reference: HostUpdate<O>): Case {
  return {
    variant, shape, bytesPer,
    make: (param) => {
      const o = make([param]);
      const state: HostState = {};
      return { step: (g) => o.step(g), dispose: () => o.dispose(), reference: (host, g) => reference(host, g, state, { shape, step: 1, group: o.groups[0]! }) };
    },
  };
}
const matrix = [R, C], tall = [C, R], vector = [R * C];
const cases: Case[] = [
  optimCase('sgd', matrix, 12, (ps) => new SGD(ps, { lr: 0.1, weightDecay: 0.01 }), sgd64),
  optimCase('sgd_momentum', matrix, 20, (ps) => new SGD(ps, { lr: 0.1, momentum: 0.9, dampening: 0.1 }), sgd64),
  optimCase('sgd_momentum NESTEROV', matrix, 20, (ps) => new SGD(ps, { lr: 0.1, momentum: 0.9, nesterov: true }), sgd64),
  optimCase('adamw', matrix, 28, (ps) => new AdamW(ps, { lr: 1e-3, weightDecay: 0.01 }), adamw64),
  optimCase('adafactor factored (cols SQUARE, rows, scalars, apply)', matrix, 16, (ps) => new Adafactor(ps), adafactor64),
  optimCase('adafactor factored tall (col_chunks, cols, rows, scalars, apply)', tall, 16, (ps) => new Adafactor(ps), adafactor64),
  optimCase('adafactor unfactored (vector, scalars, apply)', vector, 20, (ps) => new Adafactor(ps), adafactor64),
  optimCase('adafactor apply_momentum (beta1)', matrix, 24, (ps) => new Adafactor(ps, { beta1: 0.9 }), adafactor64),
  optimCase('adafactor SCALE_PARAMETER off, fixed lr', matrix, 16, (ps) => new Adafactor(ps, { lr: 1e-3, relativeStep: false, scaleParameter: false }), adafactor64),
];

const r = rng(41);
for (const c of cases) {
  const n = numel(c.shape);
  const p0 = randF32(r, n), g = randF32(r, n);
  const [p, gt] = [keep(tensor(p0, c.shape)), keep(tensor(g, c.shape))];
  const opt = c.make(p);
  await fam.add({
    case: `[${c.shape}]`, variant: c.variant, bytes: c.bytesPer * n,
    run: () => tidy(() => opt.step([gt])),
    check: async () => {
      const fresh = tensor(p0, c.shape);
      const o = c.make(fresh);
      tidy(() => o.step([gt]));
      const host = p0.slice();
      o.reference(host, g);
      fam.expect('parameter after one step', await read64(fresh), host, { rtol: 2e-6, atol: 1e-6 });
      o.dispose();
      fresh.dispose();
    },
  });
  opt.dispose();
  for (const t of [p, gt]) t.dispose();
}
await fam.finish({ matrix, tall, vector });
