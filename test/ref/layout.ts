// Float64 references of the layout family (shaders/layout.wgsl): permute, slice, concat, cast and
// where as index arithmetic on the host (test/ops/layout.test.ts, bench/layout.ts). Copies move
// bits, so kernels must match these exactly.
import { numel } from './compare.js';

/** Row-major strides of a contiguous tensor of `shape`. */
export const strides = (shape: number[]) => shape.map((_, i) => numel(shape.slice(i + 1)));

/** Calls f with every multi-index of `shape` and its flat position, in order. */
export function forEachIndex(shape: number[], f: (idx: number[], flat: number) => void): void {
  const n = numel(shape);
  for (let flat = 0; flat < n; flat++) {
    const idx: number[] = [];
    let rem = flat;
    for (let d = shape.length - 1; d >= 0; d--) {
      idx.unshift(rem % shape[d]!);
      rem = Math.floor(rem / shape[d]!);
    }
    f(idx, flat);
  }
}

/** The element of x (shape) at multi-index idx. */
export const at = (x: Float64Array, shape: number[], idx: number[]) => x[idx.reduce((acc, v, i) => acc + v * strides(shape)[i]!, 0)]!;

/** Float64 permute: output axis i is input axis perm[i]. */
export function permute64(x: Float64Array, shape: number[], perm: number[]) {
  const out = perm.map((p) => shape[p]!);
  const res = new Float64Array(x.length);
  forEachIndex(out, (idx, flat) => {
    const src = new Array<number>(shape.length);
    perm.forEach((p, i) => (src[p] = idx[i]!));
    res[flat] = at(x, shape, src);
  });
  return res;
}

/** Float64 slice [s, e) on every axis; returns the output shape and data. */
export function slice64(x: Float64Array, shape: number[], s: number[], e: number[]) {
  const out = s.map((v, i) => e[i]! - v);
  const res = new Float64Array(numel(out));
  forEachIndex(out, (idx, flat) => (res[flat] = at(x, shape, idx.map((v, i) => v + s[i]!))));
  return { out, res };
}

/** Float64 concatenation along `axis`; returns the output shape and data. */
export function concat64(parts: Array<[Float64Array, number[]]>, axis: number) {
  const out = [...parts[0]![1]];
  out[axis] = parts.reduce((acc, [, s]) => acc + s[axis]!, 0);
  const res = new Float64Array(numel(out));
  forEachIndex(out, (idx, flat) => {
    let c = idx[axis]!;
    for (const [x, s] of parts) {
      if (c < s[axis]!) {
        res[flat] = at(x, s, idx.map((v, i) => (i === axis ? c : v)));
        return;
      }
      c -= s[axis]!;
    }
  });
  return { out, res };
}

/** Float64 cast: f32 -> i32 truncates toward zero and saturates as the kernel's i32(); i32 -> f32 rounds. */
export function cast64(x: Float64Array, to: 'f32' | 'i32'): Float64Array {
  return to === 'f32' ? x.map(Math.fround) : x.map((v) => Math.max(-2147483648, Math.min(2147483520, Math.trunc(v))));
}

/** Float64 select of same-shaped operands: a where the mask is nonzero, else b. */
export function where64(mask: Float64Array, a: Float64Array, b: Float64Array): Float64Array {
  return a.map((v, i) => (mask[i] ? v : b[i]!));
}
