// Reductions (sum, mean, max, argmax) along axes, and sumTo, the VJP of broadcasting.
import code from '../../shaders/reduce.wgsl';
import { record } from '../autograd/tape.js';
import { grid, type Kernel } from '../gpu/kernels.js';
import { uniformStruct } from '../gpu/params.js';
import { numel, Tensor, type Shape } from '../tensor/tensor.js';
import { equal, div, mul } from './elementwise.js';
import { expand, reshape } from './layout.js';
import { fill } from './fill.js';
import { axisOf, describeOp, expectDType, launch } from './launch.js';

/** x viewed as [outer, n, inner], reduced over n; sums are multiplied by `scale`. */
const REDUCE_PARAMS = uniformStruct('Params', { outer: 'u32', n: 'u32', inner: 'u32', scale: 'f32' });
const kernel = (name: string, entry: string): Kernel<typeof REDUCE_PARAMS.spec> => ({ name: `reduce.${name}`, code, entry, params: REDUCE_PARAMS, inputs: 1, outputs: 1 });
const ROWS = kernel('rows', 'reduce_rows');
const COLS = kernel('cols', 'reduce_cols');
const ARGMAX = kernel('argmax', 'argmax_rows');

function reduceAxis(kind: 'sum' | 'max', x: Tensor, axis: number, scale: number): Tensor {
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
    params: { outer, n, inner, scale },
    overrides: { OP: kind === 'max' ? 1 : 0, WG: wg },
    workgroups: grid(rows ? outputs : Math.ceil(outputs / wg)),
    label: `${describeOp(kind, x)} axis ${axis}`,
  });
  return out;
}

function axesOf(op: string, x: Tensor, axes: number | readonly number[] | undefined): number[] {
  const list = axes === undefined ? x.shape.map((_, i) => i) : typeof axes === 'number' ? [axes] : [...axes];
  return [...new Set(list.map((a) => axisOf(op, x.rank, a)))].sort((a, b) => a - b);
}

function dropAxes(shape: Shape, axes: number[]): number[] {
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

/** Mean over `axes` (all when omitted). */
export function mean(x: Tensor, axes?: number | readonly number[], keepdims = false): Tensor {
  const ax = axesOf('mean', x, axes);
  const count = ax.reduce((p, a) => p * x.shape[a]!, 1);
  const s = sum(x, ax, keepdims);
  return mul(s, fill([], 1 / count));
}

/** Max over one axis. The gradient goes to every position equal to the max. */
export function max(x: Tensor, axis: number, keepdims = false): Tensor {
  expectDType('max', 'f32', x);
  const a = axisOf('max', x.rank, axis);
  const kept = reduceAxis('max', x, a, 1);
  const out = keepdims ? kept : kept.view(dropAxes(x.shape, [a]));
  if (!keepdims) kept.dispose();
  return record(
    'max',
    [x],
    out,
    (g, { saved: [sx, so] }) => {
      const keptShape = x.shape.map((d, i) => (i === a ? 1 : d));
      const mask = equal(sx!, reshape(so!, keptShape));
      const ties = sum(mask, a, true);
      return [mul(div(mask, ties), reshape(g, keptShape))];
    },
    [x, out],
  );
}

/** Index (i32) of the largest value along `axis`, the first one on ties. Not differentiable. */
export function argmax(x: Tensor, axis: number): Tensor {
  expectDType('argmax', 'f32', x);
  const a = axisOf('argmax', x.rank, axis);
  const outer = numel(x.shape.slice(0, a));
  const inner = numel(x.shape.slice(a + 1));
  const n = x.shape[a]!;
  const out = Tensor.empty(dropAxes(x.shape, [a]), 'i32', 'argmax');
  launch(ARGMAX, {
    inputs: [x],
    outputs: [out],
    params: { outer, n, inner, scale: 1 },
    overrides: { WG: n >= 256 ? 256 : 64 },
    workgroups: grid(outer * inner),
    label: `${describeOp('argmax', x)} axis ${a}`,
  });
  return out;
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
