// Float64 references of the softmax family (shaders/softmax.wgsl): (log-)softmax over the last
// axis with a broadcast additive mask, and its VJP (test/ops/softmax.test.ts, bench/softmax.ts).

/**
 * Float64 (log-)softmax of x + broadcast mask over the last axis; fully -inf rows give 0 / -inf.
 * The sum x + mask is rounded to float32 as the kernel's is: with a mask of -3.4e38 that rounding
 * is what makes a fully masked row uniform.
 */
export function softmax64(x: Float64Array, shape: number[], log: boolean, mask?: { data: Float64Array; shape: number[] }): Float64Array {
  const n = shape[shape.length - 1]!;
  const out = new Float64Array(x.length);
  const ms = mask ? [...Array(shape.length - mask.shape.length).fill(1), ...mask.shape] : [];
  const maskAt = (i: number) => {
    if (!mask) return 0;
    let rem = i, off = 0, stride = 1;
    for (let d = shape.length - 1; d >= 0; d--) {
      const c = rem % shape[d]!;
      rem = Math.floor(rem / shape[d]!);
      if (ms[d] !== 1) off += c * stride;
      stride *= ms[d]!;
    }
    return mask.data[off]!;
  };
  for (let r = 0; r < x.length / n; r++) {
    const v = Array.from({ length: n }, (_, j) => (mask ? Math.fround(Math.fround(x[r * n + j]!) + maskAt(r * n + j)) : x[r * n + j]!));
    const m = Math.max(...v);
    if (m === -Infinity) {
      v.forEach((_, j) => (out[r * n + j] = log ? -Infinity : 0));
      continue;
    }
    const s = v.reduce((a, b) => a + Math.exp(b - m), 0);
    v.forEach((vj, j) => (out[r * n + j] = log ? vj - m - Math.log(s) : Math.exp(vj - m) / s));
  }
  return out;
}

/** Float64 VJP from the output y and its gradient g. */
export function softmaxGrad64(y: Float64Array, g: Float64Array, n: number, log: boolean): Float64Array {
  const dx = new Float64Array(y.length);
  for (let r = 0; r < y.length / n; r++) {
    let s = 0;
    for (let j = 0; j < n; j++) s += log ? g[r * n + j]! : g[r * n + j]! * y[r * n + j]!;
    for (let j = 0; j < n; j++) {
      const i = r * n + j;
      dx[i] = log ? g[i]! - Math.exp(y[i]!) * s : y[i]! * (g[i]! - s);
    }
  }
  return dx;
}
