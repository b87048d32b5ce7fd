// AdamW (decoupled weight decay, bias-corrected moments) as torch.optim.AdamW: one fused kernel per
// parameter per step, or one over a whole arena group; the learning rate and bias corrections are
// uniforms. Over an arena the padding (p = g = m = v = 0) stays 0 as long as eps > 0 (0 / eps);
// a group with eps = 0 is updated per parameter.
import { GpuError } from '../gpu/device.js';
import type { Shape, Tensor } from '../tensor/tensor.js';
import { ADAM_PARAMS, optimKernel } from './kernels.js';
import { Optimizer, type ArenaGroup, type BaseOptions, type GroupSpec, type UpdateContext } from './optimizer.js';

const KERNEL = optimKernel('adamw', ADAM_PARAMS, 1, 3);

export interface AdamWOptions extends BaseOptions {
  betas: readonly [number, number];
  eps: number;
}

const DEFAULTS: AdamWOptions = { lr: 1e-3, weightDecay: 1e-2, betas: [0.9, 0.999], eps: 1e-8 };

export class AdamW extends Optimizer<AdamWOptions> {
  /** `params`: tensors, or groups that override any option; `options`: defaults for every group. */
  constructor(params: readonly Tensor[] | readonly GroupSpec<AdamWOptions>[], options: Partial<AdamWOptions> = {}) {
    super('AdamW', params, { ...DEFAULTS, ...options });
    this.groups.forEach((g, i) => {
      if (!g.betas.every((b) => b >= 0 && b < 1)) throw new GpuError(`AdamW: group ${i} has invalid betas [${g.betas.join(', ')}]`);
      if (!(g.eps >= 0)) throw new GpuError(`AdamW: group ${i} has invalid eps ${g.eps}`);
    });
  }

  protected stateShapes(param: Tensor): Record<string, Shape> {
    return { exp_avg: param.shape, exp_avg_sq: param.shape };
  }

  protected update(param: Tensor, grad: Tensor, state: Record<string, Tensor>, { group, step }: UpdateContext<AdamWOptions>): void {
    const [b1, b2] = group.betas;
    const params = {
      n: param.size, decay: 1 - group.lr * group.weightDecay, beta1: b1, one_minus_beta1: 1 - b1, beta2: b2, one_minus_beta2: 1 - b2,
      eps: group.eps, step_size: group.lr / (1 - b1 ** step), bc2_sqrt: Math.sqrt(1 - b2 ** step),
    };
    this.launchElementwise(KERNEL, param, { inputs: [grad], outputs: [param, state.exp_avg!, state.exp_avg_sq!], params });
  }

  protected updateArena(a: ArenaGroup<AdamWOptions>): boolean {
    if (!(a.group.eps > 0)) return false;
    this.update(a.params.whole, a.grads.whole, { exp_avg: a.state.exp_avg!.whole, exp_avg_sq: a.state.exp_avg_sq!.whole }, a);
    return true;
  }
}
