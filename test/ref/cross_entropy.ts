// Float64 reference of the cross_entropy family (shaders/cross_entropy.wgsl): the per-row NLL,
// its reduction and dlogits (test/ops/cross_entropy.test.ts, bench/cross_entropy.ts).
import type { Reduction } from '../../src/ops/cross_entropy.js';

/** The label that marks a row to skip, as crossEntropy's default ignoreIndex. */
export const IGNORE = -100;

/** Float64 per-row NLL (0 where ignored) and dlogits for an output gradient g (per row for 'none'). */
export function crossEntropy64(logits: Float64Array, labels: Int32Array, vocab: number, reduction: Reduction, g: ArrayLike<number>, ignore = IGNORE) {
  const rows = labels.length;
  const nll = new Float64Array(rows), dlogits = new Float64Array(logits.length);
  const count = labels.filter((l) => l !== ignore).length;
  for (let r = 0; r < rows; r++) {
    if (labels[r] === ignore) continue;
    const row = logits.subarray(r * vocab, (r + 1) * vocab);
    const m = Math.max(...row);
    const lse = m + Math.log(row.reduce((a, v) => a + Math.exp(v - m), 0));
    nll[r] = lse - row[labels[r]!]!;
    const scale = reduction === 'none' ? g[r]! : reduction === 'sum' ? g[0]! : g[0]! / count;
    row.forEach((v, j) => (dlogits[r * vocab + j] = (Math.exp(v - lse) - (j === labels[r] ? 1 : 0)) * scale));
  }
  const total = nll.reduce((a, b) => a + b, 0);
  const loss = reduction === 'none' ? nll : Float64Array.of(reduction === 'sum' ? total : count === 0 ? 0 : total / count);
  return { loss, dlogits };
}
