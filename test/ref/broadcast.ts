// NumPy broadcasting of two operands, for the references whose ops broadcast (elementwise binary
// ops, matmul's batch axes).

/** Both shapes padded with leading 1s to their common rank, and the broadcast shape. */
export function broadcastPair(as: readonly number[], bs: readonly number[]): { pa: number[]; pb: number[]; out: number[] } {
  const rank = Math.max(as.length, bs.length);
  const pa = [...Array<number>(rank - as.length).fill(1), ...as];
  const pb = [...Array<number>(rank - bs.length).fill(1), ...bs];
  return { pa, pb, out: pa.map((d, i) => Math.max(d, pb[i]!)) };
}

/** The flat offsets in a (shape pa) and b (shape pb) of flat element i of `out`. */
export function broadcastOffsets(i: number, out: readonly number[], pa: readonly number[], pb: readonly number[]): [number, number] {
  let rem = i, ia = 0, ib = 0, sa = 1, sb = 1;
  for (let d = out.length - 1; d >= 0; d--) {
    const c = rem % out[d]!;
    rem = Math.floor(rem / out[d]!);
    if (pa[d] !== 1) ia += c * sa;
    if (pb[d] !== 1) ib += c * sb;
    sa *= pa[d]!;
    sb *= pb[d]!;
  }
  return [ia, ib];
}
