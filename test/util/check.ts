// Numerical helpers shared by the kernel tests: a seeded RNG, random shapes and data, and
// comparisons that report where and by how much two arrays differ.
import * as assert from 'uvu/assert';

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

export const numel = (shape: readonly number[]): number => shape.reduce((a, b) => a * b, 1);

/**
 * Asserts max|actual - expected| <= atol + rtol * max|expected| and names the worst element.
 * The scale is the whole array's, as in the fixtures' max|ours - ref| / max|ref| criterion.
 */
export function assertClose(
  actual: ArrayLike<number>,
  expected: ArrayLike<number>,
  { rtol = 1e-5, atol = 1e-6, what = 'value' }: { rtol?: number; atol?: number; what?: string } = {},
): void {
  assert.is(actual.length, expected.length, `${what}: length ${actual.length} vs ${expected.length}`);
  let scale = 0;
  for (let i = 0; i < expected.length; i++) scale = Math.max(scale, Math.abs(expected[i]!));
  let worst = 0, at = -1;
  for (let i = 0; i < expected.length; i++) {
    const d = Math.abs(actual[i]! - expected[i]!);
    if (!(d <= worst) || Number.isNaN(d)) { worst = Number.isNaN(d) ? Infinity : d; at = i; }
  }
  const tol = atol + rtol * scale;
  if (!(worst <= tol)) {
    assert.unreachable(
      `${what}: max abs diff ${worst.toExponential(3)} at [${at}] (got ${actual[at]}, want ${expected[at]}) exceeds ${tol.toExponential(3)} (scale ${scale.toExponential(3)})`,
    );
  }
}
