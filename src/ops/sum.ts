// Sums along axes and broadcasting, each the other's VJP: `sum` (whose VJP is `expand`), `expand`
// (whose VJP is `sumTo`) and `sumTo`. They live together so that neither imports the other's file.
// Also the reduction kernels that reduce.ts's max and argmax launch.
import code from '../../shaders/reduce.wgsl';
import { record } from '../autograd/tape.js';
import { grid, type Kernel } from '../gpu/kernels.js';
import { uniformStruct } from '../gpu/params.js';
import { fmtShape, numel, Tensor, type Shape } from '../tensor/tensor.js';
import { GpuError } from '../gpu/device.js';
import { broadcastShapes, broadcastStrides } from './broadcast.js';
import { copyStrided, stridesOf } from './copy.js';
import { axisOf, describeOp, expectDType, launch } from './launch.js';
import { reshape } from './reshape.js';

/** x viewed as [outer, n, inner], reduced over n; sums are multiplied by `scale`; `init` starts a max (-inf). */
const REDUCE_PARAMS = uniformStruct('Params', { outer: 'u32', n: 'u32', inner: 'u32', scale: 'f32', init: 'f32' });
const kernel = (name: string, entry: string): Kernel<typeof REDUCE_PARAMS.spec> => ({ name: `reduce.${name}`, code, entry, params: REDUCE_PARAMS, inputs: 1, outputs: 1 });
const ROWS = kernel('rows', 'reduce_rows');
const COLS = kernel('cols', 'reduce_cols');
export const ARGMAX = kernel('argmax', 'argmax_rows');

/** One reduction over `axis` of x, keeping it as a size-1 axis. */
export function reduceAxis(kind: 'sum' | 'max', x: Tensor, axis: number, scale: number): Tensor {
  const outer = numel(x.shape.slice(0, axis));
  const n = x.shape[axis]!;
  const inner = numel(x.shape.slice(axis + 1));
  const outShape = x.shape.map((d, i) => (i === axis ? 1 : d));
  const out = Tensor.empty(outShape, 'f32', kind);
  const outputs = outer * inner;
  // A workgroup per output pays off when the axis is long or there are too few outputs to fill the GPU.
  const rows = n >= 64 || outputs < 4096;
  const wg = rows ? (n >= 256 ? 256 : 64) : 256;
  launch(rows ? ROWS : COLS, {
    inputs: [x],
    outputs: [out],
    params: { outer, n, inner, scale, init: -Infinity },
    overrides: { OP: kind === 'max' ? 1 : 0, WG: wg },
    workgroups: grid(rows ? outputs : Math.ceil(outputs / wg)),
    label: `${describeOp(kind, x)} axis ${axis}`,
  });
  return out;
}

/** The sorted, distinct, non-negative axes `axes` names (all when omitted). */
export function axesOf(op: string, x: Tensor, axes: number | readonly number[] | undefined): number[] {
  const list = axes === undefined ? x.shape.map((_, i) => i) : typeof axes === 'number' ? [axes] : [...axes];
  return [...new Set(list.map((a) => axisOf(op, x.rank, a)))].sort((a, b) => a - b);
}

/** `shape` without `axes`. */
export function dropAxes(shape: Shape, axes: number[]): number[] {
  return shape.filter((_, i) => !axes.includes(i));
}

/** Sum over `axes` (all when omitted); `keepdims` keeps them as size-1 axes. */
export function sum(x: Tensor, axes?: number | readonly number[], keepdims = false): Tensor {
  expectDType('sum', 'f32', x);
  const ax = axesOf('sum', x, axes);
  let y = x;
  for (const a of ax) {
    const next = reduceAxis('sum', y, a, 1);
    if (y !== x) y.dispose();
    y = next;
  }
  if (y === x) y = x.view(x.shape);
  const kept = y;
  const out = keepdims ? kept : kept.view(dropAxes(x.shape, ax));
  if (!keepdims) kept.dispose();
  return record('sum', [x], out, (g) => [expand(reshape(g, x.shape.map((d, i) => (ax.includes(i) ? 1 : d))), x.shape)]);
}

/** Sums a broadcast gradient back down to `shape` (the VJP of broadcasting). */
export function sumTo(g: Tensor, shape: Shape): Tensor {
  if (g.rank === shape.length && g.shape.every((d, i) => d === shape[i])) return g.view(shape);
  const lead = g.rank - shape.length;
  const axes: number[] = [];
  g.shape.forEach((d, i) => {
    if (i < lead || (shape[i - lead] === 1 && d !== 1)) axes.push(i);
  });
  return reshape(sum(g, axes, true), shape);
}

/** Broadcasts `x` to `shape` (NumPy rules), materialised by one strided copy. The VJP sums back. */
export function expand(x: Tensor, shape: Shape): Tensor {
  x.assertAlive('expand');
  const target = broadcastShapes('expand', x.shape, shape);
  if (target.length !== shape.length || target.some((d, i) => d !== shape[i])) {
    throw new GpuError(`expand: cannot broadcast ${x.describe()} to ${fmtShape(shape)}`);
  }
  const out = Tensor.empty(shape, x.dtype, 'expand');
  copyStrided('expand', x, out, { shape: [...shape], src: broadcastStrides(x.shape, shape), dst: stridesOf(shape), srcBase: 0, dstBase: 0 });
  return record('expand', [x], out, (g) => [sumTo(g, x.shape)]);
}
