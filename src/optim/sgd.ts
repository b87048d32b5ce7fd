// SGD with optional momentum (heavy-ball or Nesterov) and L2 weight decay, as torch.optim.SGD: one
// fused kernel per parameter per step, or one over a whole arena group (its zero padding stays 0).
import { GpuError } from '../gpu/device.js';
import type { Shape, Tensor } from '../tensor/tensor.js';
import { optimKernel, SGD_PARAMS } from './kernels.js';
import { Optimizer, type ArenaGroup, type BaseOptions, type GroupSpec, type ParamGroup, type UpdateContext } from './optimizer.js';

const PLAIN = optimKernel('sgd', SGD_PARAMS, 1, 1);
const MOMENTUM = optimKernel('sgd_momentum', SGD_PARAMS, 1, 2);

export interface SgdOptions extends BaseOptions {
  momentum: number;
  dampening: number;
  nesterov: boolean;
}

const DEFAULTS: SgdOptions = { lr: 1e-3, weightDecay: 0, momentum: 0, dampening: 0, nesterov: false };

export class SGD extends Optimizer<SgdOptions> {
  /** `params`: tensors, or groups that override any option; `options`: defaults for every group. */
  constructor(params: readonly Tensor[] | readonly GroupSpec<SgdOptions>[], options: Partial<SgdOptions> = {}) {
    super('SGD', params, { ...DEFAULTS, ...options });
    this.groups.forEach((g, i) => {
      if (!(g.momentum >= 0)) throw new GpuError(`SGD: group ${i} has invalid momentum ${g.momentum}`);
      if (g.nesterov && (g.momentum <= 0 || g.dampening !== 0)) {
        throw new GpuError(`SGD: group ${i}: nesterov needs momentum > 0 and dampening 0`);
      }
    });
  }

  protected stateShapes(param: Tensor, group: ParamGroup<SgdOptions>): Record<string, Shape> {
    return group.momentum > 0 ? { momentum_buffer: param.shape } : {};
  }

  protected updateArena(a: ArenaGroup<SgdOptions>): boolean {
    const buf = a.state.momentum_buffer;
    this.update(a.params.whole, a.grads.whole, buf ? { momentum_buffer: buf.whole } : {}, a);
    return true;
  }

  protected update(param: Tensor, grad: Tensor, state: Record<string, Tensor>, { group, step }: UpdateContext<SgdOptions>): void {
    const params = {
      n: param.size, first: step === 1 ? 1 : 0,
      lr: group.lr, weight_decay: group.weightDecay, momentum: group.momentum, one_minus_dampening: 1 - group.dampening,
    };
    const buf = state.momentum_buffer;
    if (buf) {
      this.launchElementwise(MOMENTUM, param, { inputs: [grad], outputs: [param, buf], params, overrides: { NESTEROV: group.nesterov } });
    } else {
      this.launchElementwise(PLAIN, param, { inputs: [grad], outputs: [param], params });
    }
  }
}
