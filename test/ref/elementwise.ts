// Float64 references of the elementwise family (shaders/elementwise.wgsl): each unary and binary
// op as a function of numbers, and binary ops under broadcasting (test/ops/elementwise.test.ts,
// bench/elementwise.ts).
import { broadcastOffsets, broadcastPair } from './broadcast.js';
import { numel } from './compare.js';

const gelu64 = (x: number) => 0.5 * x * (1 + Math.tanh(Math.sqrt(2 / Math.PI) * (x + 0.044715 * x ** 3)));

/** Each unary op of src/ops/elementwise.ts in float64 (scale, shift and powScalar at the tests' alpha). */
export const UNARY64 = {
  neg: (x: number) => -x,
  exp: Math.exp,
  log: Math.log,
  sqrt: Math.sqrt,
  rsqrt: (x: number) => 1 / Math.sqrt(x),
  relu: (x: number) => Math.max(x, 0),
  gelu: gelu64,
  tanh: Math.tanh,
  sigmoid: (x: number) => 1 / (1 + Math.exp(-x)),
  abs: Math.abs,
  square: (x: number) => x * x,
  reciprocal: (x: number) => 1 / x,
  scale: (x: number) => -1.7 * x,
  shift: (x: number) => x + 0.3,
  powScalar: (x: number) => x ** 1.5,
} satisfies Record<string, (x: number) => number>;

/** Each binary op in float64. */
export const BINARY64 = {
  add: (a: number, b: number) => a + b,
  sub: (a: number, b: number) => a - b,
  mul: (a: number, b: number) => a * b,
  div: (a: number, b: number) => a / b,
  pow: (a: number, b: number) => a ** b,
  maximum: Math.max,
  minimum: Math.min,
} satisfies Record<string, (a: number, b: number) => number>;

/** The comparisons in float64: 1 where the relation holds, else 0 (they have no gradient). */
export const COMPARE64 = {
  equal: (a: number, b: number) => (a === b ? 1 : 0),
  greater: (a: number, b: number) => (a > b ? 1 : 0),
  less: (a: number, b: number) => (a < b ? 1 : 0),
} satisfies Record<string, (a: number, b: number) => number>;

/** Float64 broadcasting reference. */
export function broadcast64(a: Float64Array, as: number[], b: Float64Array, bs: number[], f: (x: number, y: number) => number) {
  const { pa, pb, out } = broadcastPair(as, bs);
  const n = numel(out);
  const res = new Float64Array(n);
  for (let i = 0; i < n; i++) {
    const [ia, ib] = broadcastOffsets(i, out, pa, pb);
    res[i] = f(a[ia]!, b[ib]!);
  }
  return { out, res };
}

/**
 * Float64 VJP g * f'(x) of a unary op, f' by central differences of its float64 reference (step
 * 1e-5 relative: truncation and rounding errors near 1e-10, far below float32's).
 */
export function unaryGrad64(f: (x: number) => number, x: Float64Array, g: Float64Array): Float64Array {
  return x.map((v, i) => {
    const h = 1e-5 * Math.max(1, Math.abs(v));
    return (g[i]! * (f(v + h) - f(v - h))) / (2 * h);
  });
}
