// How far a result is from its float64 reference, shared by the tests (test/util/check.ts's
// assertClose) and the benchmarks' checks (bench/lib/family.ts), so both judge by one criterion.

export const numel = (shape: readonly number[]): number => shape.reduce((a, b) => a * b, 1);

/** Tolerances: a result passes when max|actual - expected| <= atol + rtol * max|expected|. */
export interface Tolerance {
  rtol?: number;
  atol?: number;
}

/** The worst element of a comparison and the bound it was held to. */
export interface Discrepancy {
  /** max|actual - expected| (Infinity where either is NaN). */
  worst: number;
  /** Its index, -1 when every element matches. */
  at: number;
  /** max|expected|, the scale rtol is relative to. */
  scale: number;
  /** atol + rtol * scale. */
  tol: number;
  ok: boolean;
}

/**
 * Compares equal-length arrays. The scale is the whole array's, as in the fixtures'
 * max|ours - ref| / max|ref| criterion.
 */
export function discrepancy(actual: ArrayLike<number>, expected: ArrayLike<number>, { rtol = 1e-5, atol = 1e-6 }: Tolerance = {}): Discrepancy {
  let scale = 0;
  for (let i = 0; i < expected.length; i++) scale = Math.max(scale, Math.abs(expected[i]!));
  let worst = 0, at = -1;
  for (let i = 0; i < expected.length; i++) {
    const d = Math.abs(actual[i]! - expected[i]!);
    if (!(d <= worst) || Number.isNaN(d)) { worst = Number.isNaN(d) ? Infinity : d; at = i; }
  }
  const tol = atol + rtol * scale;
  return { worst, at, scale, tol, ok: worst <= tol };
}
