// Float64 reference of the t5_attention family (shaders/t5_attention.wgsl): T5 attention with its
// relative position bias, key mask, causal mask and query offset, and the gradients of
// sum(w * out) for q, k, v and the bias table, which every layout and backward must reproduce
// (test/nn/t5_attention.test.ts, bench/t5_attention.ts).
import { relativePositionBucket } from '../../src/nn/t5/attention.js';

/** One attention problem: q [B, H, T, dk], k and v [B, H, S, dk], and what masks and biases it. */
export interface AttentionCase {
  B: number;
  H: number;
  T: number;
  S: number;
  dk: number;
  bias: { bidirectional: boolean; numBuckets: number; maxDistance: number } | null;
  offset: number;
  causal: boolean;
  /** 0/1 per (b, key), or null for no mask. */
  mask: Float64Array | null;
  maskI32: boolean;
}

/** Its inputs, and w, the weights of the loss sum(w * out) whose gradients the reference gives. */
export interface AttentionData {
  q: Float64Array;
  k: Float64Array;
  v: Float64Array;
  table: Float64Array;
  w: Float64Array;
}

/** Float64 T5 attention and, for the loss sum(w * out), its gradients. */
export function t5Attention64(c: AttentionCase, d: AttentionData) {
  const { B, H, T, S, dk } = c;
  const out = new Float64Array(B * H * T * dk);
  const dq = new Float64Array(d.q.length), dkk = new Float64Array(d.k.length), dv = new Float64Array(d.v.length);
  const dtable = new Float64Array(d.table.length);
  // Per table entry, the sum of |dS| over its terms: the scale of float32 rounding in the sum.
  const dtableMag = new Float64Array(d.table.length);
  for (let b = 0; b < B; b++) {
    for (let h = 0; h < H; h++) {
      const bh = b * H + h;
      for (let i = 0; i < T; i++) {
        const qpos = c.offset + i;
        const qrow = (bh * T + i) * dk;
        const keys: number[] = [], s: number[] = [], buckets: number[] = [];
        for (let j = 0; j < S; j++) {
          if (c.causal && j > qpos) continue;
          if (c.mask && c.mask[b * S + j] === 0) continue;
          let dot = 0;
          for (let x = 0; x < dk; x++) dot += d.q[qrow + x]! * d.k[(bh * S + j) * dk + x]!;
          const bucket = c.bias ? relativePositionBucket(j - qpos, c.bias.bidirectional, c.bias.numBuckets, c.bias.maxDistance) : 0;
          keys.push(j);
          buckets.push(bucket);
          s.push(dot + (c.bias ? d.table[bucket * H + h]! : 0));
        }
        if (keys.length === 0) continue;
        const m = Math.max(...s);
        const e = s.map((x) => Math.exp(x - m));
        const z = e.reduce((a, x) => a + x, 0);
        const p = e.map((x) => x / z);
        keys.forEach((j, n) => {
          for (let x = 0; x < dk; x++) out[qrow + x] += p[n]! * d.v[(bh * S + j) * dk + x]!;
        });
        const dp = keys.map((j) => {
          let a = 0;
          for (let x = 0; x < dk; x++) a += d.w[qrow + x]! * d.v[(bh * S + j) * dk + x]!;
          return a;
        });
        const D = p.reduce((a, pn, n) => a + pn * dp[n]!, 0);
        keys.forEach((j, n) => {
          const ds = p[n]! * (dp[n]! - D);
          const krow = (bh * S + j) * dk;
          for (let x = 0; x < dk; x++) {
            dq[qrow + x] += ds * d.k[krow + x]!;
            dkk[krow + x] += ds * d.q[qrow + x]!;
            dv[krow + x] += p[n]! * d.w[qrow + x]!;
          }
          if (c.bias) {
            dtable[buckets[n]! * H + h] += ds;
            dtableMag[buckets[n]! * H + h] += Math.abs(ds);
          }
        });
      }
    }
  }
  return { out, dq, dk: dkk, dv, dtable, dtableMag };
}

/**
 * x [B, A, C, dk] as [B, C, A, dk]: q, k, v and the gradients between the layouts 'bhtd' and
 * 'bthd' (A = H, C = the sequence, or back).
 */
export function swapHeads(x: ArrayLike<number>, B: number, A: number, C: number, dk: number): Float64Array {
  const y = new Float64Array(B * A * C * dk);
  for (let b = 0; b < B; b++) {
    for (let a = 0; a < A; a++) {
      for (let c = 0; c < C; c++) {
        for (let e = 0; e < dk; e++) y[((b * C + c) * A + a) * dk + e] = x[((b * A + a) * C + c) * dk + e]!;
      }
    }
  }
  return y;
}
