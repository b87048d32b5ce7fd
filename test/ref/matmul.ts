// Float64 reference of the matmul family (shaders/matmul.wgsl): every variant computes the same
// product, so one reference checks them all (test/ops/matmul.test.ts, bench/matmul.ts).
import { broadcastOffsets, broadcastPair } from './broadcast.js';
import { numel } from './compare.js';

/** op(A) x op(B): A and B as stored, and whether each is transposed. */
export interface MatmulCase {
  a: number[];
  b: number[];
  transA: boolean;
  transB: boolean;
}

/** Float64 reference: op(a) x op(b) over the last two axes, broadcasting the batch axes. */
export function matmul64(c: MatmulCase, a: Float64Array, b: Float64Array): { shape: number[]; data: Float64Array } {
  const [ar, ac] = c.a.slice(-2) as [number, number];
  const [br, bc] = c.b.slice(-2) as [number, number];
  const [m, k] = c.transA ? [ac, ar] : [ar, ac];
  const n = c.transB ? br : bc;
  const ab = c.a.slice(0, -2), bb = c.b.slice(0, -2);
  const { pa, pb, out: batch } = broadcastPair(ab, bb);
  const data = new Float64Array(numel(batch) * m * n);
  for (let z = 0; z < numel(batch); z++) {
    const [za, zb] = broadcastOffsets(z, batch, pa, pb);
    const oa = za * ar * ac, ob = zb * br * bc;
    for (let i = 0; i < m; i++) {
      for (let j = 0; j < n; j++) {
        let s = 0;
        for (let q = 0; q < k; q++) {
          const x = c.transA ? a[oa + q * m + i]! : a[oa + i * k + q]!;
          const y = c.transB ? b[ob + j * k + q]! : b[ob + q * n + j]!;
          s += x * y;
        }
        data[z * m * n + i * n + j] = s;
      }
    }
  }
  return { shape: [...batch, m, n], data };
}

/** The matmul epilogue (src/ops/matmul.ts's MatmulOptions) in float64. */
export interface Epilogue64 {
  bias?: Float64Array;
  residual?: Float64Array;
  act?: (x: number) => number;
  /** What `out` held, for accumulate. */
  prior?: Float64Array;
}

/** act(y + bias) or y + bias + residual (or prior + y) over a product y with n columns. */
export function epilogue64(y: Float64Array, n: number, e: Epilogue64): Float64Array {
  return y.map((v, i) => {
    let x = (e.prior ? e.prior[i]! : 0) + v;
    if (e.bias) x += e.bias[i % n]!;
    if (e.residual) x += e.residual[i]!;
    return e.act ? e.act(x) : x;
  });
}
