// RMS norm (T5's LayerNorm) over the last axis, with the x and weight VJPs.
import rmsnormWgsl from '../../shaders/rmsnorm.wgsl';
import { record } from '../autograd/tape.js';
import { GpuError } from '../gpu/device.js';
import { uniformStruct } from '../gpu/params.js';
import { Tensor } from '../tensor/tensor.js';
import { describeOp, expectDType, expectShape, launch } from './launch.js';
import { sum } from './sum.js';
import { launchRows, rowKernels } from './rows.js';

/** x viewed as [rows, n]; `chunk`: rows per chunk of the weight gradient. */
const RMSNORM_PARAMS = uniformStruct('Params', { rows: 'u32', n: 'u32', eps: 'f32', chunk: 'u32' });

const kernel = rowKernels('rmsnorm', 'rmsnorm_', rmsnormWgsl, RMSNORM_PARAMS);
const FORWARD = kernel('forward', 2, 1);
const BACKWARD = kernel('backward', 3, 2);
const WEIGHT_GRAD = kernel('weight_grad', 3, 1);
const WG = 256;
/** Rows one lane of the weight-gradient kernel sums before the chunks are reduced. */
const CHUNK = 64;
const MAX_CHUNKS = 65535;

/**
 * T5's layer norm over the last axis: y = x / sqrt(mean(x^2) + eps) * weight, with no mean
 * subtraction and no bias, computed in float32 (as Hugging Face's T5LayerNorm computes the
 * variance). `weight` has the shape of x's last axis. Gradients flow to x and weight; the weight
 * gradient is a deterministic chunked sum over rows (no atomics).
 */
export function rmsNorm(x: Tensor, weight: Tensor, eps = 1e-6): Tensor {
  expectDType('rmsNorm', 'f32', x, weight);
  if (x.rank === 0) throw new GpuError(`rmsNorm: x ${x.describe()} needs at least one axis`);
  const n = x.shape[x.rank - 1]!;
  expectShape('rmsNorm', weight, [n], 'weight');
  if (!(eps >= 0) || !Number.isFinite(eps)) throw new GpuError(`rmsNorm: eps must be a finite number >= 0, got ${eps}`);
  const rows = x.size / Math.max(n, 1);
  const chunk = Math.max(CHUNK, Math.ceil(rows / MAX_CHUNKS));
  const params = { rows, n, eps, chunk };
  const out = Tensor.empty(x.shape, 'f32', 'rmsNorm');
  launchRows(FORWARD, { rows, n, inputs: [x, weight], outputs: [out], params, label: describeOp('rmsNorm', x, weight) });
  return record(
    'rmsNorm',
    [x, weight],
    out,
    (g, { saved: [sx, sw], needs }) => {
      const [needDx, needDw] = needs;
      const dx = Tensor.empty(needDx ? x.shape : [1], 'f32', 'rmsNorm.dx');
      const rstd = Tensor.empty([needDw ? rows : 1], 'f32', 'rmsNorm.rstd');
      launchRows(BACKWARD, {
        rows,
        n,
        inputs: [sx!, sw!, g],
        outputs: [dx, rstd],
        params,
        overrides: { NEED_DX: !!needDx, NEED_RSTD: !!needDw },
        label: describeOp('rmsNorm.backward', x, weight),
      });
      let dw: Tensor | null = null;
      if (needDw) {
        const chunks = Math.max(1, Math.ceil(rows / chunk));
        const partial = Tensor.empty([chunks, n], 'f32', 'rmsNorm.dweight');
        launch(WEIGHT_GRAD, {
          inputs: [sx!, g, rstd],
          outputs: [partial],
          params,
          overrides: { WG },
          workgroups: [Math.max(1, Math.ceil(n / WG)), chunks, 1],
          label: describeOp('rmsNorm.weight_grad', x, weight),
        });
        dw = chunks === 1 ? partial.view([n]) : sum(partial, 0);
      }
      return [needDx ? dx : null, dw];
    },
    [x, weight],
  );
}
