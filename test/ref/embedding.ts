// Float64 references of the embedding family (shaders/embedding.wgsl): the row gather and the
// table gradient its scatter-add backward computes (test/ops/embedding.test.ts, bench/embedding.ts).

/** Float64 reference of the lookup. */
export function gather64(table: Float64Array, dim: number, ids: Int32Array): Float64Array {
  const out = new Float64Array(ids.length * dim);
  ids.forEach((id, p) => out.set(table.subarray(id * dim, (id + 1) * dim), p * dim));
  return out;
}

/** Float64 reference of the table gradient of sum(w * embedding(table, ids)). */
export function scatter64(w: Float64Array, dim: number, ids: Int32Array, vocab: number): Float64Array {
  const out = new Float64Array(vocab * dim);
  ids.forEach((id, p) => {
    for (let d = 0; d < dim; d++) out[id * dim + d]! += w[p * dim + d]!;
  });
  return out;
}
