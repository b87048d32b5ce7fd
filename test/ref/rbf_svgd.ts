// Float64 references of the rbf_svgd family (shaders/rbf_svgd.wgsl): the RBF kernel with the
// median bandwidth, the SVGD direction and its diagnostics, and the SVGD code's RMSProp update
// (test/bayes/rbf_svgd.test.ts, bench/rbf_svgd.ts).

/** Everything one SVGD direction gives: pair distances, bandwidth, kernel, phi and the diagnostics. */
export interface Svgd64 {
  S: Float64Array;
  h: number;
  K: Float64Array;
  phi: Float64Array;
  attraction: number;
  repulsion: number;
  meanOffDiagonalK: number;
}

/** Float64 SVGD as in Liu & Wang's python/svgd.py (numpy median: mean of the middle two when even). */
export function svgd64(x: Float64Array, s: Float64Array, m: number, d: number, fixed?: number): Svgd64 {
  const S = new Float64Array(m * m);
  for (let i = 0; i < m; i++) {
    for (let j = i + 1; j < m; j++) {
      let acc = 0;
      for (let e = 0; e < d; e++) acc += (x[i * d + e]! - x[j * d + e]!) ** 2;
      S[i * m + j] = S[j * m + i] = acc;
    }
  }
  let h = fixed ?? 0;
  if (fixed === undefined) {
    const sorted = [...S].sort((a, b) => a - b);
    const n = sorted.length;
    const med = n % 2 ? sorted[(n - 1) / 2]! : (sorted[n / 2 - 1]! + sorted[n / 2]!) / 2;
    h = med === 0 ? 1 : Math.sqrt((0.5 * med) / Math.log(m + 1));
  }
  const K = S.map((v) => Math.exp(-v / h ** 2 / 2));
  const phi = new Float64Array(m * d);
  let att2 = 0, rep2 = 0, off = 0;
  for (let i = 0; i < m; i++) {
    for (let j = 0; j < m; j++) if (i !== j) off += K[i * m + j]!;
    for (let e = 0; e < d; e++) {
      let att = 0, rep = 0;
      for (let j = 0; j < m; j++) {
        att += K[i * m + j]! * s[j * d + e]!;
        rep += (K[i * m + j]! * (x[i * d + e]! - x[j * d + e]!)) / h ** 2;
      }
      phi[i * d + e] = (att + rep) / m;
      att2 += (att / m) ** 2;
      rep2 += (rep / m) ** 2;
    }
  }
  return { S, h, K, phi, attraction: Math.sqrt(att2), repulsion: Math.sqrt(rep2), meanOffDiagonalK: m > 1 ? off / (m * (m - 1)) : 0 };
}

/**
 * One step (k counts from 0) of the SVGD code's RMSProp ascent, in place on theta and the history
 * H: H = phi^2 at the first step, then 0.9 H + 0.1 phi^2; theta += eps phi / (1e-6 + sqrt(H)).
 */
export function svgdRmsprop64(theta: Float64Array, H: Float64Array, p: Float64Array, k: number, eps: number): void {
  for (let e = 0; e < theta.length; e++) {
    H[e] = k === 0 ? p[e]! ** 2 : 0.9 * H[e]! + 0.1 * p[e]! ** 2;
    theta[e] = theta[e]! + (eps * p[e]!) / (1e-6 + Math.sqrt(H[e]!));
  }
}
