// The source posterior as a prior for target adaptation (BPT stage 2):
//   J(theta) = -log p(D^T | theta) + 1/(2 sigma^2) ||theta - mu||^2
// which bounds -log p(D^T | theta) - log (1/M) sum_i N(theta; theta_i, sigma^2 I) by Jensen.
// The penalised quantity is theta = P o (U V) (summed over every target task's theta in the
// multi-target case) or P alone; `scale` is 1 when the penalty is added to the batch loss as is,
// or 1/N (N training examples) for the MAP objective per example.
import { mul, square, sub } from '../ops/elementwise.js';
import { fill } from '../ops/fill.js';
import { keep } from '../tensor/scope.js';
import type { Tensor } from '../tensor/tensor.js';
import type { PromptModule } from './prompts.js';
import { sum } from '../ops/sum.js';
import { reshape } from '../ops/reshape.js';

export interface PriorSpec {
  sigma: number;
  penalize: 'theta' | 'P';
  /** Multiplies the penalty: 1 ('batch') or 1/N ('dataset'). */
  scale: number;
}

export class GaussianPrior {
  readonly mu: Tensor;

  /** Takes ownership of `mu` [L, d]. */
  constructor(mu: Tensor, readonly spec: PriorSpec) {
    if (mu.rank !== 2) throw new Error(`GaussianPrior: mu must be [L, d], got ${mu.describe()}`);
    if (!(spec.sigma > 0) || !(spec.scale > 0)) throw new Error(`GaussianPrior: sigma ${spec.sigma} and scale ${spec.scale} must be > 0`);
    this.mu = keep(mu);
  }

  /** The coefficient of ||x - mu||^2. */
  get coefficient(): number {
    return this.spec.scale / (2 * this.spec.sigma ** 2);
  }

  /** coefficient * ||x - mu||^2 for the module's theta (every task) or P: a recorded scalar. */
  penalty(module: PromptModule): Tensor {
    const x = this.spec.penalize === 'theta' ? module.thetas() : module.base();
    const [l, d] = this.mu.shape as [number, number];
    const diff = sub(reshape(x, [-1, l, d]), reshape(this.mu, [1, l, d]));
    return mul(sum(square(diff)), fill([], this.coefficient));
  }

  dispose(): void {
    this.mu.dispose();
  }
}
