// Embedding lookup (a row gather) and its deterministic scatter-add VJP; see shaders/embedding.wgsl
// for why the backward pass is a counting sort rather than float atomics.
import code from '../../shaders/embedding.wgsl';
import { record } from '../autograd/tape.js';
import { GpuError } from '../gpu/device.js';
import { grid, type Kernel } from '../gpu/kernels.js';
import { uniformStruct } from '../gpu/params.js';
import { fmtShape, Tensor, type Shape } from '../tensor/tensor.js';
import { zeros } from './fill.js';
import { describeOp, expectDType, launch } from './launch.js';

const WG = 256;
/** `n` positions of ids into a [vocab, dim] table; `dim` counts 32-bit words (or vec4s for the `4` variants). */
const EMBEDDING_PARAMS = uniformStruct('Params', { n: 'u32', vocab: 'u32', dim: 'u32' });
const kernel = (entry: string, inputs: number, outputs: number): Kernel<typeof EMBEDDING_PARAMS.spec> => ({
  name: `embedding.${entry}`, code, entry, params: EMBEDDING_PARAMS, inputs, outputs,
});
const GATHER = kernel('gather', 2, 1);
const GATHER4 = kernel('gather4', 2, 1);
const HISTOGRAM = kernel('histogram', 1, 1);
const SCAN = kernel('scan', 1, 1);
const RANK_SCATTER = kernel('rank_scatter', 1, 2);
const ACCUMULATE = kernel('accumulate', 4, 1);
const ACCUMULATE4 = kernel('accumulate4', 4, 1);

/** Formats flat position `i` of `shape` as a multi-index, e.g. `[1,4]`. */
function positionOf(i: number, shape: Shape): string {
  const idx: number[] = [];
  for (let d = shape.length - 1; d >= 0; d--) {
    idx.unshift(i % shape[d]!);
    i = Math.floor(i / shape[d]!);
  }
  return fmtShape(idx);
}

/**
 * Throws a GpuError naming the first id outside [0, vocab), its position (a multi-index when
 * `shape` is given) and its value. The GPU clamps such ids instead of failing, so callers that hold
 * ids on the host should check them before uploading.
 */
export function checkIds(ids: Int32Array, vocab: number, shape: Shape = [ids.length], op = 'embedding'): void {
  for (let i = 0; i < ids.length; i++) {
    const v = ids[i]!;
    if (v < 0 || v >= vocab) throw new GpuError(`${op}: id ${v} at position ${positionOf(i, shape)} is out of range [0, ${vocab})`);
  }
}

/** Row gather of `table` [V, D] at `ids` of any shape, recorded as `op` (embedding and gatherRows). */
export function gatherRowsAs(op: string, table: Tensor, ids: Tensor): Tensor {
  expectDType(op, 'i32', ids);
  table.assertAlive(op);
  if (table.rank !== 2) throw new GpuError(`${op}: table must be 2-D [rows, dim], got ${table.describe()}`);
  const [vocab, dim] = table.shape as [number, number];
  if (vocab === 0 && ids.size > 0) throw new GpuError(`${op}: table ${table.describe()} has no rows to look up`);
  const out = Tensor.empty([...ids.shape, dim], table.dtype, op);
  const n = ids.size;
  const vec = dim % 4 === 0;
  const words = vec ? dim / 4 : dim;
  if (out.size > 0) {
    launch(vec ? GATHER4 : GATHER, {
      inputs: [table, ids],
      outputs: [out],
      params: { n, vocab, dim: words },
      overrides: { WG },
      workgroups: grid(Math.ceil((n * words) / WG)),
      label: describeOp(op, table, ids),
    });
  }
  return record(
    op,
    [table, ids],
    out,
    (g, { saved: [sid], needs }) => [needs[0] ? scatterAddRows(g.view([n, dim]), sid!, vocab, `${op}.backward`) : null, null],
    [ids],
  );
}

/**
 * The table gradient of a row gather: out[v] = sum of grad[p] over the positions p whose id is v
 * (ids clamped into [0, vocab)), summed in ascending position order, so the result is bit-for-bit
 * reproducible. `grad` is [N, D] with N = ids.size; the result is [vocab, D].
 */
function scatterAddRows(grad: Tensor, ids: Tensor, vocab: number, label = 'scatterAddRows'): Tensor {
  expectDType(label, 'f32', grad);
  expectDType(label, 'i32', ids);
  const n = ids.size;
  if (grad.rank !== 2 || grad.shape[0] !== n) {
    throw new GpuError(`${label}: gradient ${grad.describe()} does not match ${n} ids ${ids.describe()}`);
  }
  const dim = grad.shape[1]!;
  if (n === 0 || vocab * dim === 0) return zeros([vocab, dim]);
  const out = Tensor.empty([vocab, dim], 'f32', label);
  const counts = zeros([vocab], 'i32');
  const cursor = Tensor.empty([vocab], 'i32', `${label} cursor`);
  const sorted = Tensor.empty([n], 'i32', `${label} order`);
  const what = describeOp(label, grad, ids);
  launch(HISTOGRAM, { inputs: [ids], outputs: [counts], params: { n, vocab, dim }, overrides: { WG }, workgroups: grid(Math.ceil(n / WG)), label: `${what} histogram` });
  launch(SCAN, { inputs: [counts], outputs: [cursor], params: { n, vocab, dim }, overrides: { WG }, workgroups: [1], label: `${what} scan` });
  launch(RANK_SCATTER, { inputs: [ids], outputs: [cursor, sorted], params: { n, vocab, dim }, overrides: { WG }, workgroups: [1], label: `${what} sort` });
  const vec = dim % 4 === 0;
  const words = vec ? dim / 4 : dim;
  launch(vec ? ACCUMULATE4 : ACCUMULATE, {
    inputs: [grad, sorted, cursor, counts],
    outputs: [out],
    params: { n, vocab, dim: words },
    overrides: { WG },
    workgroups: grid(Math.ceil((vocab * words) / WG)),
    label: `${what} accumulate`,
  });
  counts.dispose();
  cursor.dispose();
  sorted.dispose();
  return out;
}

/**
 * Embedding lookup: `table` [V, D] (f32, or i32 without gradient) at i32 `ids` of any shape gives
 * [...ids.shape, D]. The VJP runs only when the table needs a gradient (a frozen table costs no
 * backward work); it is a deterministic scatter-add. Ids outside [0, V) are clamped to the nearest
 * row on the GPU; use `checkIds` on the host to reject them instead.
 */
export function embedding(table: Tensor, ids: Tensor): Tensor {
  return gatherRowsAs('embedding', table, ids);
}
