// Float64 references of the rmsnorm family (shaders/rmsnorm.wgsl): T5's layer norm and its VJPs
// for x and the weight (test/ops/rmsnorm.test.ts, bench/rmsnorm.ts).

/** Float64 RMSNorm of x viewed as [rows, n] with weight w [n]. */
export function rmsNorm64(x: Float64Array, w: Float64Array, eps: number): Float64Array {
  const n = w.length;
  const y = new Float64Array(x.length);
  for (let r = 0; r < x.length / n; r++) {
    let ss = 0;
    for (let j = 0; j < n; j++) ss += x[r * n + j]! ** 2;
    const rstd = 1 / Math.sqrt(ss / n + eps);
    for (let j = 0; j < n; j++) y[r * n + j] = x[r * n + j]! * rstd * w[j]!;
  }
  return y;
}

/** Float64 VJPs for output gradient g: dx and the weight gradient summed over rows. */
export function rmsNormGrad64(x: Float64Array, w: Float64Array, g: Float64Array, eps: number): { dx: Float64Array; dw: Float64Array } {
  const n = w.length;
  const dx = new Float64Array(x.length), dw = new Float64Array(n);
  for (let r = 0; r < x.length / n; r++) {
    let ss = 0, dot = 0;
    for (let j = 0; j < n; j++) {
      ss += x[r * n + j]! ** 2;
      dot += g[r * n + j]! * w[j]! * x[r * n + j]!;
    }
    const rs = 1 / Math.sqrt(ss / n + eps);
    for (let j = 0; j < n; j++) {
      const i = r * n + j;
      dx[i] = rs * g[i]! * w[j]! - (x[i]! * rs ** 3 * dot) / n;
      dw[j] += g[i]! * x[i]! * rs;
    }
  }
  return { dx, dw };
}
