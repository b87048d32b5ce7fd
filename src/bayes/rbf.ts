// The RBF kernel matrix of M particles and its bandwidth, on the GPU in two dispatches (see
// shaders/rbf_svgd.wgsl): partial squared distances per (pair, chunk of D), then one workgroup that
// finishes the sums, takes the median, and writes h and K. Nothing comes back to the host.
import { GpuError } from '../gpu/device.js';
import { grid } from '../gpu/kernels.js';
import { describeOp, expectDType, launch } from '../ops/launch.js';
import { Tensor } from '../tensor/tensor.js';
import { BAND_PARAMS, DIST_PARAMS, svgdKernel } from './kernels.js';

/**
 * Most particles supported: the bandwidth pass holds the M(M-1)/2 pair distances in workgroup
 * memory (2016 floats at 64) and ranks them against each other, O(M^4) work in one workgroup.
 */
export const MAX_PARTICLES = 64;

/** Invocations per workgroup of the D-parallel passes. */
export const WG = 256;
/** Elements of D each lane sums in one distance workgroup (chunks of WG * PER_LANE). */
const PER_LANE = 8;

const SQDIST = svgdKernel('sqdist', 'sqdist_partial', DIST_PARAMS, 1, 1);
const BANDWIDTH = svgdKernel('bandwidth', 'bandwidth', BAND_PARAMS, 1, 2);

/**
 * `'median'` (the default): h = sqrt(0.5 * median(S) / log(M + 1)) over the full M x M matrix S of
 * squared distances, zero diagonal included, as in Liu & Wang's code; when that median is 0
 * (M = 1, or at least half the pairs coincide) h = 1, where their code would produce NaN.
 * A number: that fixed h (finite, > 0).
 */
export type Bandwidth = 'median' | number;

export interface RbfOptions {
  bandwidth?: Bandwidth;
}

/** K[i][j] = exp(-|x_i - x_j|^2 / (2 h^2)), f32 [M, M] on the GPU, and h, a one-element f32 tensor. */
export interface RbfResult {
  K: Tensor;
  h: Tensor;
}

/** Checks an [M, D] f32 particle matrix (1 <= M <= MAX_PARTICLES, D >= 1); returns [M, D]. */
export function particleShape(op: string, particles: Tensor): [number, number] {
  expectDType(op, 'f32', particles);
  if (particles.rank !== 2) throw new GpuError(`${op}: particles must be 2-D [M, D], got ${particles.describe()}`);
  const [m, d] = particles.shape as [number, number];
  if (m < 1 || m > MAX_PARTICLES) {
    throw new GpuError(`${op}: ${m} particles in ${particles.describe()}; 1 to ${MAX_PARTICLES} are supported`);
  }
  if (d < 1) throw new GpuError(`${op}: particles ${particles.describe()} have no dimensions`);
  return [m, d];
}

function fixedBandwidth(op: string, b: Bandwidth | undefined): number | null {
  if (b === undefined || b === 'median') return null;
  if (typeof b !== 'number' || !Number.isFinite(b) || b <= 0) {
    throw new GpuError(`${op}: bandwidth must be 'median' or a finite number > 0, got ${String(b)}`);
  }
  return b;
}

/**
 * The RBF kernel matrix of the rows of `particles` (f32 [M, D]) with the median-heuristic or a
 * fixed bandwidth. Squared distances are summed as (x_i - x_j)^2 in blocks, so they stay accurate
 * in f32 at D ~ 1e5. Not differentiable (records nothing on the tape).
 */
export function rbfKernel(particles: Tensor, options: RbfOptions = {}): RbfResult {
  const [m, d] = particleShape('rbfKernel', particles);
  const fixed = fixedBandwidth('rbfKernel', options.bandwidth);
  const pairs = (m * (m - 1)) / 2;
  const chunks = Math.ceil(d / (WG * PER_LANE));
  const partial = Tensor.empty([pairs, chunks], 'f32', 'rbf.partial');
  if (pairs > 0) {
    launch(SQDIST, {
      inputs: [particles],
      outputs: [partial],
      params: { d, chunks },
      overrides: { M: m, WG, PER_LANE },
      workgroups: grid(pairs * chunks),
      label: describeOp('rbf.sqdist', particles),
    });
  }
  const K = Tensor.empty([m, m], 'f32', 'rbf.K');
  const h = Tensor.empty([], 'f32', 'rbf.h');
  launch(BANDWIDTH, {
    inputs: [partial],
    outputs: [K, h],
    params: { chunks, half_inv_log: 0.5 / Math.log(m + 1), fixed_h: fixed ?? 0 },
    // A wider workgroup only pays when there are many pairs to rank.
    overrides: { M: m, WG: pairs > 256 ? 256 : 64, MEDIAN: fixed === null },
    workgroups: [1],
    label: `${describeOp('rbf.bandwidth', particles)} ${fixed === null ? 'median' : `h=${fixed}`}`,
  });
  partial.dispose();
  return { K, h };
}

/** Reads the bandwidth (waits for the GPU): from h itself or from an rbfKernel/svgdDirection result. */
export async function readBandwidth(h: Tensor | { h: Tensor }): Promise<number> {
  return (h instanceof Tensor ? h : h.h).item();
}
