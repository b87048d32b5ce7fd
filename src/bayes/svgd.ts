// The SVGD direction (Liu & Wang 2016):
//   phi_i = (1/M) sum_j [ K_ij score_j + (theta_i - theta_j) K_ij / h^2 ]
// the kernel-weighted scores pull particles toward high density (attraction), the kernel
// gradients push them apart (repulsion). Three dispatches in all, K and h stay on the GPU.
import { GpuError } from '../gpu/device.js';
import { grid } from '../gpu/kernels.js';
import { describeOp, expectDType, expectShape, launch } from '../ops/launch.js';
import { Tensor } from '../tensor/tensor.js';
import { COL_PARAMS, FINISH_PARAMS, svgdKernel } from './kernels.js';
import { particleShape, rbfKernel, WG, type RbfOptions, type RbfResult } from './rbf.js';

const PHI = svgdKernel('phi', 'svgd_phi', COL_PARAMS, 4, 1);
const STATS = svgdKernel('stats', 'svgd_stats', COL_PARAMS, 4, 1);
const STATS_FINISH = svgdKernel('stats_finish', 'stats_finish', FINISH_PARAMS, 1, 1);

/** phi (f32 [M, D], the ascent direction), and the K and h it used (as from `rbfKernel`). */
export interface SvgdResult extends RbfResult {
  phi: Tensor;
}

function checkPair(op: string, particles: Tensor, scores: Tensor): [number, number] {
  const [m, d] = particleShape(op, particles);
  expectDType(op, 'f32', scores);
  if (scores.rank !== 2 || scores.shape[0] !== m || scores.shape[1] !== d) {
    throw new GpuError(`${op}: scores ${scores.describe()} must have the shape of particles ${particles.describe()}`);
  }
  return [m, d];
}

function checkKernel(op: string, m: number, { K, h }: RbfResult): void {
  expectDType(op, 'f32', K, h);
  expectShape(op, K, [m, m], 'K');
  if (h.size !== 1) throw new GpuError(`${op}: h must have one element, got ${h.describe()}`);
}

/**
 * The SVGD direction for particles and their scores (grad log p), both f32 [M, D]; the bandwidth
 * as in `rbfKernel`. Move particles along +phi (or hand -phi to a minimiser). Not differentiable.
 */
export function svgdDirection(particles: Tensor, scores: Tensor, options: RbfOptions = {}): SvgdResult {
  const [m, d] = checkPair('svgdDirection', particles, scores);
  const { K, h } = rbfKernel(particles, options);
  const phi = Tensor.empty([m, d], 'f32', 'svgd.phi');
  launch(PHI, {
    inputs: [particles, scores, K, h],
    outputs: [phi],
    params: { d },
    overrides: { M: m, WG },
    workgroups: grid(Math.ceil(d / WG)),
    label: describeOp('svgd.phi', particles, scores),
  });
  return { phi, K, h };
}

/** Diagnostics of one SVGD step, from `readKernelStats`. */
export interface KernelStats {
  /** Mean of K over i != j (0 when M = 1): near 0 the particles ignore each other, near 1 h is too wide. */
  meanOffDiagonalK: number;
  /** Frobenius norm over [M, D] of (1/M) sum_j K_ij score_j. */
  attraction: number;
  /** Frobenius norm over [M, D] of (1/M) sum_j (x_i - x_j) K_ij / h^2. */
  repulsion: number;
  /** The bandwidth. */
  h: number;
}

/**
 * The diagnostics of `KernelStats` computed on the GPU (two more dispatches) into an f32 [4]
 * tensor [meanOffDiagonalK, attraction, repulsion, h]; nothing is read back until
 * `readKernelStats`, so a training loop can ask for it only on the steps it logs.
 */
export function kernelStats(particles: Tensor, scores: Tensor, kernel: RbfResult): Tensor {
  const [m, d] = checkPair('kernelStats', particles, scores);
  checkKernel('kernelStats', m, kernel);
  const groups = Math.ceil(d / WG);
  const partial = Tensor.empty([2 * groups + 2], 'f32', 'svgd.stats_partial');
  launch(STATS, {
    inputs: [particles, scores, kernel.K, kernel.h],
    outputs: [partial],
    params: { d },
    overrides: { M: m, WG },
    workgroups: grid(groups),
    label: describeOp('svgd.stats', particles, scores),
  });
  const stats = Tensor.empty([4], 'f32', 'svgd.stats');
  launch(STATS_FINISH, {
    inputs: [partial],
    outputs: [stats],
    params: { groups },
    workgroups: [1],
    label: describeOp('svgd.stats_finish', partial),
  });
  partial.dispose();
  return stats;
}

/** Reads a `kernelStats` tensor (waits for the GPU). */
export async function readKernelStats(stats: Tensor): Promise<KernelStats> {
  expectShape('readKernelStats', stats, [4], 'stats');
  return kernelStatsFrom(await stats.toArray());
}

/** The `KernelStats` of a `kernelStats` tensor already read back (e.g. with the rest of a step by `readAll`). */
export function kernelStatsFrom(values: ArrayLike<number>): KernelStats {
  if (values.length !== 4) throw new GpuError(`kernelStatsFrom: expected the 4 values of a kernelStats tensor, got ${values.length}`);
  const [meanOffDiagonalK, attraction, repulsion, h] = Array.from(values);
  return { meanOffDiagonalK: meanOffDiagonalK!, attraction: attraction!, repulsion: repulsion!, h: h! };
}
