// Seeded random inputs, shared by the tests and the benchmarks' checks.
export { rng } from '../../src/util/random.js';

/** Uniform values in [lo, hi). */
export function randArray(r: () => number, n: number, lo = -1, hi = 1): Float64Array {
  const out = new Float64Array(n);
  for (let i = 0; i < n; i++) out[i] = lo + (hi - lo) * r();
  return out;
}

/** Integer in [lo, hi]. */
export function randInt(r: () => number, lo: number, hi: number): number {
  return lo + Math.floor(r() * (hi - lo + 1));
}

/** Uniform float32 values in [lo, hi) as float64, so a reference sees exactly what the GPU gets. */
export const randF32 = (r: () => number, n: number, lo = -1, hi = 1): Float64Array => randArray(r, n, lo, hi).map(Math.fround);
