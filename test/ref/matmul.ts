// Float64 reference of the matmul family (shaders/matmul.wgsl): every variant computes the same
// product, so one reference checks them all (test/ops/matmul.test.ts, bench/matmul.ts).
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
  const rank = Math.max(ab.length, bb.length);
  const pa = [...Array<number>(rank - ab.length).fill(1), ...ab];
  const pb = [...Array<number>(rank - bb.length).fill(1), ...bb];
  const batch = pa.map((d, i) => Math.max(d, pb[i]!));
  const data = new Float64Array(numel(batch) * m * n);
  for (let z = 0; z < numel(batch); z++) {
    let rem = z, za = 0, zb = 0, sa = 1, sb = 1;
    for (let d = rank - 1; d >= 0; d--) {
      const i = rem % batch[d]!;
      rem = Math.floor(rem / batch[d]!);
      if (pa[d] !== 1) za += i * sa;
      if (pb[d] !== 1) zb += i * sb;
      sa *= pa[d]!;
      sb *= pb[d]!;
    }
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
