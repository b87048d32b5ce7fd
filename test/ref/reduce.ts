// Float64 reference of the reduce family (shaders/reduce.wgsl): a reduction along one axis with
// any combining function (sum, mean, max, argmax), for test/ops/reduce.test.ts and bench/reduce.ts.
import { numel } from './compare.js';

/** Float64 reduction of `x` (shape) over one axis with `f`, keeping the axis as size 1. */
export function reduce64(x: Float64Array, shape: number[], axis: number, f: (v: number[]) => number): Float64Array {
  const outer = numel(shape.slice(0, axis)), n = shape[axis]!, inner = numel(shape.slice(axis + 1));
  const out = new Float64Array(outer * inner);
  for (let o = 0; o < outer; o++)
    for (let i = 0; i < inner; i++) {
      const vals: number[] = [];
      for (let k = 0; k < n; k++) vals.push(x[(o * n + k) * inner + i]!);
      out[o * inner + i] = f(vals);
    }
  return out;
}
export const total = (v: number[]) => v.reduce((a, b) => a + b, 0);
