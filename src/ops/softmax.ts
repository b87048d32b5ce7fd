// Softmax and log-softmax over the last axis, with an optional additive mask, and their fused VJPs.
// Also home of `launchRows`, the row-kernel launcher that rmsnorm and cross-entropy share: it picks
// how many invocations work on one row from the row length.
import rows from '../../shaders/rows.wgsl';
import softmaxWgsl from '../../shaders/softmax.wgsl';
import { record } from '../autograd/tape.js';
import { gpu, GpuError } from '../gpu/device.js';
import { grid, type Kernel, type Overrides } from '../gpu/kernels.js';
import { Params } from '../gpu/params.js';
import { fmtShape, Tensor } from '../tensor/tensor.js';
import { broadcastShapes, broadcastStrides } from './elementwise.js';
import { describeOp, expectDType, launch } from './launch.js';
import { sumTo } from './reduce.js';

// WGSL has no includes: the row-kernel machinery (rows.wgsl) goes in front of the family's source.
const code = rows + softmaxWgsl;

const FORWARD: Kernel = { name: 'softmax.forward', code, entry: 'softmax_forward', inputs: 2, outputs: 1 };
const BACKWARD: Kernel = { name: 'softmax.backward', code, entry: 'softmax_backward', inputs: 2, outputs: 1 };
const WG = 256;
/** Leading axes the mask's broadcast strides can describe (two vec4u in Params). */
const MAX_LEAD = 8;
/**
 * Elements of a row per lane, at most (rows longer than WG times this give every lane more).
 * On GPUs a few per lane keeps many lanes busy on a row, with coalesced loads. On software adapters (lavapipe) every barrier is a
 * coroutine switch of the whole workgroup and workgroup memory is slow, so few lanes per row win:
 * softmax forward over [8192,128] took 6 ms with 4 lanes per row and 190 ms with 256, over
 * [2048,2048] 17 ms with 4 lanes and 98 ms with 256 (lavapipe, 2 cores, best of 7).
 */
const PER_LANE_GPU = 8;
const PER_LANE_SOFTWARE = 512;
let perLaneOverride: number | null = null;

/** Sets the elements per lane that row kernels aim for (a tuner's or a test's choice); null restores the adapter default. */
export function setRowElementsPerLane(k: number | null): void {
  if (k !== null && !(Number.isInteger(k) && k >= 1)) throw new GpuError(`setRowElementsPerLane: expected a positive integer, got ${k}`);
  perLaneOverride = k;
}

/** A row kernel's launch: the tensors, its Params and overrides (LANES and WG are added). */
export interface RowLaunch {
  rows: number;
  /** Row length: decides how many lanes share a row. */
  n: number;
  inputs: Tensor[];
  outputs: Tensor[];
  params: Params;
  overrides?: Overrides;
  label: string;
}

/**
 * Launches a kernel that gives each row `LANES` invocations (a power of two up to WG): a whole
 * workgroup for long rows, a few lanes (several rows per workgroup) for short ones, one lane per
 * row for the shortest: the fewest lanes that give each at most the adapter's elements per lane.
 * The kernel reads LANES and WG as overrides.
 */
export function launchRows(kernel: Kernel, l: RowLaunch): void {
  const perLane = perLaneOverride ?? (gpu().report.isSoftware ? PER_LANE_SOFTWARE : PER_LANE_GPU);
  let lanes = 1;
  while (lanes < WG && lanes * perLane < l.n) lanes *= 2;
  launch(kernel, {
    inputs: l.inputs,
    outputs: l.outputs,
    params: l.params,
    overrides: { ...l.overrides, LANES: lanes, WG },
    workgroups: grid(Math.ceil(l.rows / (WG / lanes))),
    label: l.label,
  });
}

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
    params: new Params()
      .u32(rows, n, x.rank - 1, strides[x.rank - 1] ?? 0)
      .packU32(x.shape.slice(0, -1), MAX_LEAD, 1)
      .packU32(strides.slice(0, -1), MAX_LEAD),
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
        params: new Params().u32(rows, n),
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
