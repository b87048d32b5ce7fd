// Reductions built on sum.ts's kernels: mean, max (whose VJP needs the elementwise ops) and argmax.
import { record } from '../autograd/tape.js';
import { grid } from '../gpu/kernels.js';
import { numel, Tensor } from '../tensor/tensor.js';
import { div, equal, mul } from './elementwise.js';
import { fill } from './fill.js';
import { axisOf, describeOp, expectDType, launch } from './launch.js';
import { reshape } from './reshape.js';
import { ARGMAX, axesOf, dropAxes, reduceAxis, sum } from './sum.js';

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
    params: { outer, n, inner, scale: 1, init: -Infinity },
    overrides: { WG: n >= 256 ? 256 : 64 },
    workgroups: grid(outer * inner),
    label: `${describeOp('argmax', x)} axis ${a}`,
  });
  return out;
}
