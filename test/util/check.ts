// Numerical helpers shared by the kernel tests: a seeded RNG, random shapes and data, and
// comparisons that report where and by how much two arrays differ.
import * as assert from 'uvu/assert';
import { discrepancy } from '../ref/compare.js';

export { numel } from '../ref/compare.js';
export { randArray, randInt, rng } from '../ref/data.js';

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
  const { worst, at, scale, tol, ok } = discrepancy(actual, expected, { rtol, atol });
  if (!ok) {
    assert.unreachable(
      `${what}: max abs diff ${worst.toExponential(3)} at [${at}] (got ${actual[at]}, want ${expected[at]}) exceeds ${tol.toExponential(3)} (scale ${scale.toExponential(3)})`,
    );
  }
}

/** NaN where the reference is NaN, the same infinity where it is infinite, close elsewhere. */
export function assertSpecialsMatch(got: ArrayLike<number>, want: ArrayLike<number>, what: string): void {
  let scale = 0;
  for (let i = 0; i < want.length; i++) if (Number.isFinite(want[i]!)) scale = Math.max(scale, Math.abs(want[i]!));
  for (let i = 0; i < want.length; i++) {
    const g = got[i]!, w = want[i]!;
    const ok = Number.isNaN(w) ? Number.isNaN(g) : Number.isFinite(w) ? Math.abs(g - w) <= 1e-6 + 2e-6 * scale : g === w;
    assert.ok(ok, `${what}: element ${i} is ${g}, the float64 reference ${w}`);
  }
}
