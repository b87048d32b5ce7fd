// Data movement: permute/transpose, slice, pad, concat, tile, cast, gatherRows and where, each with
// its VJP (permute <-> inverse permute, slice <-> pad, concat <-> slices). Everything but the tiled
// transpose, the casts and where is one strided copy (copy.ts). Results that are the same bytes in
// the same order are views instead of copies. reshape (reshape.ts) and expand (sum.ts, beside its
// adjoint) are the other views and broadcasts.
import { record } from '../autograd/tape.js';
import { GpuError } from '../gpu/device.js';
import { grid } from '../gpu/kernels.js';
import { padTo } from '../gpu/params.js';
import { fmtShape, numel, Tensor, VIEW_ALIGN, type DType, type Shape } from '../tensor/tensor.js';
import { broadcastShapes, broadcastStrides } from './broadcast.js';
import { CAST_F32_I32, CAST_I32_F32, coalesce, copyStrided, MAX_RANK, offsetOf, stridesOf, TRANSPOSE, WG, WHERE } from './copy.js';
import { gatherRowsAs } from './embedding.js';
import { fill, zeros } from './fill.js';
import { axisOf, describeOp, expectDType, launch } from './launch.js';
import { reshape } from './reshape.js';
import { expand, sumTo } from './sum.js';

/** The tiled transpose's tile edge. */
const TILE = 16;

/** Throws unless `perm` is a permutation of x's axes. */
function checkPerm(op: string, x: Tensor, perm: readonly number[]): void {
  const ok = perm.length === x.rank && perm.every((p, i) => Number.isInteger(p) && p >= 0 && p < x.rank && perm.indexOf(p) === i);
  if (!ok) throw new GpuError(`${op}: ${fmtShape(perm)} is not a permutation of the ${x.rank} axes of ${x.describe()}`);
}

/**
 * Axis permutation: output axis i is input axis perm[i]. Contiguous results (only size-1 axes
 * move) are views; a swap of the last two axes after merging runs a tiled transpose; anything else
 * is a strided copy. The VJP is the inverse permutation.
 */
export function permute(x: Tensor, perm: readonly number[]): Tensor {
  x.assertAlive('permute');
  checkPerm('permute', x, perm);
  const inStrides = stridesOf(x.shape);
  const shape = perm.map((p) => x.shape[p]!);
  const c = coalesce({ shape, src: perm.map((p) => inStrides[p]!), dst: stridesOf(shape), srcBase: 0, dstBase: 0 });
  let out: Tensor;
  if (x.size === 0 || c.src.every((s, i) => s === c.dst[i])) out = x.view(shape);
  else {
    out = Tensor.empty(shape, x.dtype, 'permute');
    const r = c.shape.length;
    // Merged to [batch?, a, b] read as [batch?, b, a]: a matrix transpose.
    const [rows, cols, batch] = [c.shape[r - 1]!, c.shape[r - 2]!, r === 3 ? c.shape[0]! : 1];
    const swap =
      (r === 2 || (r === 3 && c.src[0] === rows * cols)) && c.src[r - 2] === 1 && c.src[r - 1] === cols &&
      Math.max(batch, Math.ceil(rows / TILE), Math.ceil(cols / TILE)) <= 65535;
    if (swap) transposeTiled(x, out, batch, rows, cols);
    else copyStrided('permute', x, out, c);
  }
  const inverse = perm.map((_, i) => perm.indexOf(i));
  return record('permute', [x], out, (g) => [permute(g, inverse)]);
}

function transposeTiled(x: Tensor, out: Tensor, batch: number, rows: number, cols: number): void {
  launch(TRANSPOSE, {
    inputs: [x],
    outputs: [out],
    params: { batch, rows, cols },
    overrides: { TILE },
    workgroups: [Math.ceil(cols / TILE), Math.ceil(rows / TILE), batch],
    label: `${describeOp('transpose', x)} as [${batch},${rows},${cols}]`,
  });
}

/** Swaps axes `a` and `b` (default: the last two, as for a matrix transpose). */
export function transpose(x: Tensor, a = -2, b = -1): Tensor {
  const perm = x.shape.map((_, i) => i);
  const i = axisOf('transpose', x.rank, a), j = axisOf('transpose', x.rank, b);
  [perm[i], perm[j]] = [perm[j]!, perm[i]!];
  return permute(x, perm);
}

/** Resolves slice bounds for every axis (missing trailing axes are taken whole; negatives count from the end). */
function sliceBounds(x: Tensor, starts: readonly number[], ends: readonly number[]): [number[], number[]] {
  if (starts.length > x.rank || ends.length > x.rank) {
    throw new GpuError(`slice: bounds ${fmtShape(starts)}:${fmtShape(ends)} have more axes than ${x.describe()}`);
  }
  const s: number[] = [], e: number[] = [];
  x.shape.forEach((d, i) => {
    const lo = starts[i] ?? 0, hi = ends[i] ?? d;
    const a = lo < 0 ? lo + d : lo, b = hi < 0 ? hi + d : hi;
    if (!Number.isInteger(a) || !Number.isInteger(b) || a < 0 || b > d || a > b) {
      throw new GpuError(`slice: [${lo}:${hi}] is out of range on axis ${i} of ${x.describe()}`);
    }
    s.push(a);
    e.push(b);
  });
  return [s, e];
}

/** The slice as a view when it is one contiguous run at a 256-byte aligned offset. */
function sliceView(x: Tensor, s: number[], shape: number[]): Tensor | null {
  if (numel(shape) === 0) return x.view(shape);
  // Leading axes of size 1, then one partial axis, then whole axes: one run of memory.
  const lead = shape.findIndex((d) => d !== 1);
  const contiguous = lead < 0 || shape.every((d, i) => i <= lead || d === x.shape[i]);
  const offset = offsetOf(x.shape, s);
  return contiguous && offset % VIEW_ALIGN === 0 ? x.view(shape, offset) : null;
}

/**
 * x[starts[0]:ends[0], starts[1]:ends[1], ...]; axes beyond the given bounds are kept whole, and
 * negative bounds count from the end. Contiguous slices at 256-byte aligned offsets are views.
 * The VJP pads the gradient with zeros back to x's shape.
 */
export function slice(x: Tensor, starts: readonly number[], ends: readonly number[] = []): Tensor {
  x.assertAlive('slice');
  const [s, e] = sliceBounds(x, starts, ends);
  const shape = s.map((v, i) => e[i]! - v);
  let out = sliceView(x, s, shape);
  if (!out) {
    out = Tensor.empty(shape, x.dtype, 'slice');
    copyStrided('slice', x, out, { shape, src: stridesOf(x.shape), dst: stridesOf(shape), srcBase: offsetOf(x.shape, s), dstBase: 0 });
  }
  return record('slice', [x], out, (g) => [pad(g, x.shape, s)]);
}

/** x[..., start:end, ...] along one axis. */
export function sliceAxis(x: Tensor, axis: number, start: number, end: number): Tensor {
  const a = axisOf('slice', x.rank, axis);
  const starts = x.shape.map((_, i) => (i === a ? start : 0));
  const ends = x.shape.map((d, i) => (i === a ? end : d));
  return slice(x, starts, ends);
}

/** Zeros of `shape` with `x` written at `starts` (the VJP of slice). */
export function pad(x: Tensor, shape: Shape, starts: readonly number[]): Tensor {
  x.assertAlive('pad');
  if (shape.length !== x.rank || starts.length !== x.rank || x.shape.some((d, i) => starts[i]! < 0 || starts[i]! + d > shape[i]!)) {
    throw new GpuError(`pad: ${x.describe()} at ${fmtShape(starts)} does not fit in ${fmtShape(shape)}`);
  }
  const out = zeros(shape, x.dtype);
  copyStrided('pad', x, out, { shape: [...x.shape], src: stridesOf(x.shape), dst: stridesOf(shape), srcBase: 0, dstBase: offsetOf(shape, starts) });
  return record('pad', [x], out, (g) => [slice(g, starts, starts.map((v, i) => v + x.shape[i]!))]);
}

/**
 * Joins tensors of one dtype along `axis`; all other axes must agree. One strided copy per input;
 * the VJP slices the gradient back into pieces (only for the inputs that need one).
 */
export function concat(tensors: readonly Tensor[], axis: number): Tensor {
  const first = tensors[0];
  if (!first) throw new GpuError('concat: needs at least one tensor');
  const a = axisOf('concat', first.rank, axis);
  for (const t of tensors) {
    t.assertAlive('concat');
    const fits = t.dtype === first.dtype && t.rank === first.rank && t.shape.every((d, i) => i === a || d === first.shape[i]);
    if (!fits) {
      throw new GpuError(`concat: cannot join ${tensors.map((u) => u.describe()).join(', ')} along axis ${axis}: ${t.describe()} differs from ${first.describe()} off that axis`);
    }
  }
  const shape = first.shape.map((d, i) => (i === a ? tensors.reduce((acc, t) => acc + t.shape[a]!, 0) : d));
  const out = Tensor.empty(shape, first.dtype, 'concat');
  const dst = stridesOf(shape);
  const offsets: number[] = [];
  let at = 0;
  for (const t of tensors) {
    offsets.push(at);
    copyStrided('concat', t, out, { shape: [...t.shape], src: stridesOf(t.shape), dst, srcBase: 0, dstBase: at * dst[a]! });
    at += t.shape[a]!;
  }
  return record('concat', [...tensors], out, (g, { needs }) =>
    tensors.map((t, k) => (needs[k] ? sliceAxis(g, a, offsets[k]!, offsets[k]! + t.shape[a]!) : null)),
  );
}

/** Repeats `x` `times` times along `axis`, whole copies one after another (NumPy's tile). */
export function tile(x: Tensor, axis: number, times: number): Tensor {
  const a = axisOf('tile', x.rank, axis);
  if (!Number.isInteger(times) || times < 0) throw new GpuError(`tile: ${times} is not a repeat count`);
  const lifted = [...x.shape.slice(0, a), 1, ...x.shape.slice(a)];
  const expanded = expand(reshape(x, lifted), lifted.map((d, i) => (i === a ? times : d)));
  return reshape(expanded, x.shape.map((d, i) => (i === a ? d * times : d)));
}

/**
 * Converts between f32 and i32. f32 -> i32 rounds toward zero and saturates at the f32 values
 * nearest the i32 limits (-2^31 and 2^31 - 128), as WGSL's conversion does. Casting to the same
 * dtype is a view that passes gradients through; a cross-dtype result carries no gradient.
 */
export function cast(x: Tensor, dtype: DType): Tensor {
  x.assertAlive('cast');
  if (x.dtype === dtype) return record('cast', [x], x.view(x.shape), (g) => [g]);
  const out = Tensor.empty(x.shape, dtype, 'cast');
  launch(dtype === 'i32' ? CAST_F32_I32 : CAST_I32_F32, {
    inputs: [x],
    outputs: [out],
    params: { n: x.size, rank: 0, src_base: 0, dst_base: 0, shape: [], src_strides: [], dst_strides: [] },
    overrides: { WG },
    workgroups: grid(Math.ceil(x.size / WG)),
    label: `${describeOp('cast', x)} -> ${dtype}`,
  });
  return out;
}

/** Rows `idx` [M] (i32) of `x` [N, D] -> [M, D]. The VJP is the embedding's deterministic scatter-add. */
export function gatherRows(x: Tensor, idx: Tensor): Tensor {
  if (idx.rank !== 1) throw new GpuError(`gatherRows: indices must be 1-D, got ${idx.describe()}`);
  return gatherRowsAs('gatherRows', x, idx);
}

/**
 * mask != 0 ? a : b elementwise, with NumPy broadcasting of all three. `a` and `b` share a dtype;
 * the mask may be f32 or i32 and gets no gradient. Unlike mask * a + (1 - mask) * b, infinities
 * and NaNs in the branch not taken never leak into the result.
 */
export function where(mask: Tensor, a: Tensor, b: Tensor): Tensor {
  mask.assertAlive('where');
  expectDType('where', a.dtype, a, b);
  const shape = broadcastShapes('where', broadcastShapes('where', mask.shape, a.shape), b.shape);
  if (shape.length > MAX_RANK) throw new GpuError(`where: rank ${shape.length} exceeds ${MAX_RANK}`);
  const out = Tensor.empty(shape, a.dtype, 'where');
  launch(WHERE, {
    inputs: [mask, a, b],
    outputs: [out],
    params: {
      n: out.size, rank: shape.length, shape: padTo(shape, MAX_RANK, 1),
      m_strides: broadcastStrides(mask.shape, shape), a_strides: broadcastStrides(a.shape, shape), b_strides: broadcastStrides(b.shape, shape),
    },
    overrides: { WG, MASK_F32: mask.dtype === 'f32' },
    workgroups: grid(Math.ceil(out.size / WG)),
    label: describeOp('where', mask, a, b),
  });
  return record(
    'where',
    [mask, a, b],
    out,
    (g, { saved: [m], needs }) => {
      const zero = fill([], 0);
      return [null, needs[1] ? sumTo(where(m!, g, zero), a.shape) : null, needs[2] ? sumTo(where(m!, zero, g), b.shape) : null];
    },
    [mask],
  );
}
