// Host reference of the dropout family (shaders/dropout.wgsl): Philox4x32-10 and the keep mask it
// gives (test/ops/dropout.test.ts, bench/dropout.ts). The mask is exact, so a kernel must match
// it bit for bit.
import { dropoutConstants } from '../../src/ops/dropout.js';

/** Philox4x32-10 on the host, with BigInt for the 64-bit products. */
export function philox(counter: number[], key: number[]): number[] {
  let [c0, c1, c2, c3] = counter.map((v) => v >>> 0) as [number, number, number, number];
  let [k0, k1] = key.map((v) => v >>> 0) as [number, number];
  const mul = (a: number, b: number) => {
    const p = BigInt(a) * BigInt(b);
    return [Number(p >> 32n), Number(p & 0xffffffffn)] as const;
  };
  for (let round = 0; round < 10; round++) {
    const [hi0, lo0] = mul(0xd2511f53, c0);
    const [hi1, lo1] = mul(0xcd9e8d57, c2);
    [c0, c1, c2, c3] = [(hi1 ^ c1 ^ k0) >>> 0, lo1, (hi0 ^ c3 ^ k1) >>> 0, lo0];
    k0 = (k0 + 0x9e3779b9) >>> 0;
    k1 = (k1 + 0xbb67ae85) >>> 0;
  }
  return [c0, c1, c2, c3];
}

/** The reference keep mask: word i % 4 of Philox((i / 4, offset, 0, 0), seed) >= threshold. */
export function keepMask(n: number, p: number, seed: number, offset: number): boolean[] {
  const { key, threshold } = dropoutConstants(p, seed);
  const out: boolean[] = [];
  for (let b = 0; b * 4 < n; b++) {
    const words = philox([b, offset, 0, 0], key);
    for (let e = 0; e < 4 && b * 4 + e < n; e++) out.push(words[e]! >= threshold);
  }
  return out;
}

/** Float64 dropout of x: kept elements (f32) scaled by the kernel's f32 1 / (1 - p), the rest 0. */
export function dropout64(x: Float64Array, p: number, seed: number, offset = 0): Float64Array {
  const keep = keepMask(x.length, p, seed, offset);
  const { scale } = dropoutConstants(p, seed);
  return x.map((v, i) => (keep[i] ? Math.fround(v) * Math.fround(scale) : 0));
}
