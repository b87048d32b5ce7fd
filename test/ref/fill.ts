// Float64 reference of the fill family (shaders/fill.wgsl): every element is the value as the
// dtype stores it (f32 rounding, i32 truncation), for test/ops/fill.test.ts and bench/fill.ts.
import type { DType } from '../../src/tensor/tensor.js';

/** n copies of `value` as a tensor of `dtype` holds it. */
export function fill64(n: number, value: number, dtype: DType = 'f32'): Float64Array {
  return new Float64Array(n).fill(dtype === 'f32' ? Math.fround(value) : value | 0);
}
