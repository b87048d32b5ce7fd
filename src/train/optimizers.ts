// Optimizers and schedules as the stages configure them: parameter groups with their own learning
// rates (P at 0.3, U and V at 0.4), the protocol's linear warmup + decay, and Adafactor in the
// fixed-lr form prompt tuning uses (Lester et al.: lr 0.3, no relative step, no parameter scaling).
import { Adafactor } from '../optim/adafactor.js';
import { AdamW } from '../optim/adamw.js';
import type { BaseOptions, Optimizer } from '../optim/optimizer.js';
import { constantSchedule, linearWarmupDecaySchedule, warmupConstantSchedule, type Schedule } from '../optim/schedule.js';
import { SGD } from '../optim/sgd.js';
import type { Tensor } from '../tensor/tensor.js';

/** A named group of parameters with its learning rate. */
export interface ParamGroupDef {
  name: string;
  params: Tensor[];
  lr: number;
}

export type GradientOptimizer = Optimizer<BaseOptions>;

/**
 * One of the gradient optimizers over `groups` (weight decay applies to every group).
 * `scaleParameter` gives Adafactor T5's pretraining form: each step scaled by the parameter's RMS.
 */
export function makeOptimizer(name: 'adamw' | 'adafactor' | 'sgd', groups: readonly ParamGroupDef[], weightDecay: number, scaleParameter = false): GradientOptimizer {
  const specs = groups.map((g) => ({ params: g.params, lr: g.lr }));
  switch (name) {
    case 'adamw':
      return new AdamW(specs, { weightDecay }) as unknown as GradientOptimizer;
    case 'adafactor':
      return new Adafactor(specs, { weightDecay, relativeStep: false, scaleParameter }) as unknown as GradientOptimizer;
    case 'sgd':
      return new SGD(specs, { weightDecay }) as unknown as GradientOptimizer;
  }
}

/** The lr multiplier per step: linear warmup then linear decay to 0 at `total`, or constant after warmup. */
export function makeSchedule(kind: 'linear' | 'constant', warmupSteps: number, total: number): Schedule {
  if (kind === 'constant') return warmupSteps > 0 ? warmupConstantSchedule(warmupSteps) : constantSchedule();
  return linearWarmupDecaySchedule(warmupSteps, total);
}
