// Softmax and log-softmax over the last axis, with an optional additive mask, and their fused VJPs.
import softmaxWgsl from '../../shaders/softmax.wgsl';
import { record } from '../autograd/tape.js';
import { GpuError } from '../gpu/device.js';
import { padTo, uniformStruct } from '../gpu/params.js';
import { fmtShape, Tensor } from '../tensor/tensor.js';
import { broadcastShapes, broadcastStrides } from './broadcast.js';
import { describeOp, expectDType } from './launch.js';
import { sumTo } from './sum.js';
import { launchRows, rowKernels } from './rows.js';

/** Leading axes the mask's broadcast strides can describe (two vec4s in the parameters). */
const MAX_LEAD = 8;
/**
 * x viewed as [rows, n]; its `lead` leading axes (sizes in `shape`) and the mask's strides on them
 * (0 where it broadcasts); `mask_last`, the mask's stride along the last axis (1, or 0 when it
 * broadcasts along it). The backward reads only rows and n.
 */
const SOFTMAX_PARAMS = uniformStruct('Params', {
  rows: 'u32', n: 'u32', lead: 'u32', mask_last: 'u32', shape: ['vec4<u32>', 2], mask_strides: ['vec4<u32>', 2],
});
const kernel = rowKernels('softmax', 'softmax_', softmaxWgsl, SOFTMAX_PARAMS);
const FORWARD = kernel('forward', 2, 1);
const BACKWARD = kernel('backward', 2, 1);
/** Options of `softmax` and `logSoftmax`. */
export interface SoftmaxOptions {
  /**
   * Added to x before normalising; its shape must broadcast to x's (e.g. [B,1,1,S] or [B,1,T,S]
   * for scores [B,H,T,S]). Use -inf or a large negative value at masked positions.
   */
  mask?: Tensor;
}

function normalise(op: 'softmax' | 'logSoftmax', x: Tensor, mask: Tensor | undefined): Tensor {
  expectDType(op, 'f32', x);
  if (x.rank === 0 || x.rank > MAX_LEAD + 1) throw new GpuError(`${op}: rank of ${x.describe()} must be 1..${MAX_LEAD + 1}`);
  if (mask) {
    expectDType(op, 'f32', mask);
    const b = broadcastShapes(op, mask.shape, x.shape);
    if (mask.rank > x.rank || b.some((d, i) => d !== x.shape[i])) {
      throw new GpuError(`${op}: mask ${fmtShape(mask.shape)} does not broadcast to x ${fmtShape(x.shape)}`);
    }
  }
  const n = x.shape[x.rank - 1]!;
  const rows = x.size / Math.max(n, 1);
  const strides = mask ? broadcastStrides(mask.shape, x.shape) : [];
  const log = op === 'logSoftmax';
  const out = Tensor.empty(x.shape, 'f32', op);
  launchRows(FORWARD, {
    rows,
    n,
    // Without a mask x fills the mask binding too; HAS_MASK keeps the kernel from reading it.
    inputs: [x, mask ?? x],
    outputs: [out],
    params: {
      rows, n, lead: x.rank - 1, mask_last: strides[x.rank - 1] ?? 0,
      shape: padTo(x.shape.slice(0, -1), MAX_LEAD, 1), mask_strides: strides.slice(0, -1),
    },
    overrides: { LOG: log, HAS_MASK: mask !== undefined },
    label: mask ? describeOp(op, x, mask) : describeOp(op, x),
  });
  return record(
    op,
    mask ? [x, mask] : [x],
    out,
    (g, { saved: [y], needs }) => {
      const dx = Tensor.empty(x.shape, 'f32', `${op}.backward`);
      launchRows(BACKWARD, {
        rows,
        n,
        inputs: [y!, g],
        outputs: [dx],
        params: { rows, n, lead: 0, mask_last: 0, shape: [], mask_strides: [] },
        overrides: { LOG: log },
        label: describeOp(`${op}.backward`, x),
      });
      // The mask is additive: its gradient is dx summed over the axes it was broadcast along.
      return mask ? [needs[0] ? dx : null, needs[1] ? sumTo(dx, mask.shape) : null] : [dx];
    },
    [out],
  );
}

/**
 * Softmax over the last axis, exp(v - max) / sum(exp(v - max)) with v = x + mask. A row whose
 * every v is -inf (fully masked) gives zeros and a zero gradient. With large finite negative mask
 * values instead of -inf a fully masked row is the softmax of x + mask, as in PyTorch.
 */
export function softmax(x: Tensor, { mask }: SoftmaxOptions = {}): Tensor {
  return normalise('softmax', x, mask);
}

/**
 * Log-softmax over the last axis, v - max - log(sum(exp(v - max))) with v = x + mask. Masked
 * entries (v = -inf) give -inf; a fully masked row gives -inf throughout, never NaN, and its
 * gradient is the incoming gradient unchanged (dx = g - exp(y) sum(g) with exp(y) = 0).
 */
export function logSoftmax(x: Tensor, { mask }: SoftmaxOptions = {}): Tensor {
  return normalise('logSoftmax', x, mask);
}
