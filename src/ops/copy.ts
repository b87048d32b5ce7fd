// shaders/layout.wgsl's kernels and the strided copy that every data-movement op is built on: the
// host describes a copy as an iteration shape with source and destination strides, merges the axes
// that stay contiguous on both sides, and moves vec4s when the innermost run allows.
import code from '../../shaders/layout.wgsl';
import { GpuError } from '../gpu/device.js';
import { grid, type Kernel } from '../gpu/kernels.js';
import { padTo, uniformStruct, type Fields, type UniformStruct } from '../gpu/params.js';
import { fmtShape, numel, type Shape, type Tensor } from '../tensor/tensor.js';
import { describeOp, launch } from './launch.js';

export const WG = 256;
/** Axes a copy or a where can describe (two vec4s per shape or strides). */
export const MAX_RANK = 8;
/**
 * `n` elements (or vec4s for copy_strided4) from src[src_base + c·src_strides] to
 * dst[dst_base + c·dst_strides] over the iteration `shape`; casts read only `n`.
 */
const COPY_PARAMS = uniformStruct('CopyParams', {
  n: 'u32', rank: 'u32', src_base: 'u32', dst_base: 'u32',
  shape: ['vec4<u32>', 2], src_strides: ['vec4<u32>', 2], dst_strides: ['vec4<u32>', 2],
});
/** A [batch, rows, cols] -> [batch, cols, rows] transpose. */
const TRANSPOSE_PARAMS = uniformStruct('TransposeParams', { batch: 'u32', rows: 'u32', cols: 'u32' });
/** The output shape and each input's broadcast strides (0 on broadcast axes). */
const WHERE_PARAMS = uniformStruct('WhereParams', {
  n: 'u32', rank: 'u32',
  shape: ['vec4<u32>', 2], m_strides: ['vec4<u32>', 2], a_strides: ['vec4<u32>', 2], b_strides: ['vec4<u32>', 2],
});
const kernel = <F extends Fields>(entry: string, inputs: number, params: UniformStruct<F>): Kernel<F> => ({
  name: `layout.${entry}`, code, entry, params, structs: [COPY_PARAMS, TRANSPOSE_PARAMS, WHERE_PARAMS], inputs, outputs: 1,
});
const COPY = kernel('copy_strided', 1, COPY_PARAMS);
const COPY4 = kernel('copy_strided4', 1, COPY_PARAMS);
export const TRANSPOSE = kernel('transpose_tiled', 1, TRANSPOSE_PARAMS);
export const CAST_F32_I32 = kernel('cast_f32_i32', 1, COPY_PARAMS);
export const CAST_I32_F32 = kernel('cast_i32_f32', 1, COPY_PARAMS);
export const WHERE = kernel('where_select', 3, WHERE_PARAMS);

/** Row-major strides of a contiguous tensor of `shape`. */
export function stridesOf(shape: Shape): number[] {
  const s = new Array<number>(shape.length);
  let acc = 1;
  for (let i = shape.length - 1; i >= 0; i--) {
    s[i] = acc;
    acc *= shape[i]!;
  }
  return s;
}

/** Flat element offset of multi-index `idx` in a contiguous tensor of `shape`. */
export function offsetOf(shape: Shape, idx: readonly number[]): number {
  const strides = stridesOf(shape);
  return idx.reduce((acc, v, i) => acc + v * strides[i]!, 0);
}

/** A copy of every element of `shape` from src[srcBase + c·src] to dst[dstBase + c·dst]. */
export interface Copy {
  shape: number[];
  src: number[];
  dst: number[];
  srcBase: number;
  dstBase: number;
}

/** Drops size-1 axes and merges neighbouring axes that are contiguous on both sides. */
export function coalesce(c: Copy): Copy {
  const shape: number[] = [], src: number[] = [], dst: number[] = [];
  c.shape.forEach((d, i) => {
    if (d === 1) return;
    const k = shape.length - 1;
    if (k >= 0 && src[k] === c.src[i]! * d && dst[k] === c.dst[i]! * d) {
      shape[k]! *= d;
      src[k] = c.src[i]!;
      dst[k] = c.dst[i]!;
    } else {
      shape.push(d);
      src.push(c.src[i]!);
      dst.push(c.dst[i]!);
    }
  });
  return { ...c, shape, src, dst };
}

/** Records the strided copy `c` from `from` into `to`. */
export function copyStrided(op: string, from: Tensor, to: Tensor, copy: Copy): void {
  const c = coalesce(copy);
  const n = numel(c.shape);
  if (n === 0) return;
  if (c.shape.length > MAX_RANK) throw new GpuError(`${op}: ${from.describe()} needs ${c.shape.length} axes after merging, more than ${MAX_RANK}`);
  const last = c.shape.length - 1;
  const vec =
    last >= 0 && c.src[last] === 1 && c.dst[last] === 1 && c.shape[last]! % 4 === 0 &&
    [...c.src.slice(0, last), ...c.dst.slice(0, last), c.srcBase, c.dstBase].every((v) => v % 4 === 0);
  const q = (v: number) => (vec ? v / 4 : v);
  const shape = c.shape.map((d, i) => (i === last ? q(d) : d));
  launch(vec ? COPY4 : COPY, {
    inputs: [from],
    outputs: [to],
    params: {
      n: n / (vec ? 4 : 1), rank: shape.length, src_base: q(c.srcBase), dst_base: q(c.dstBase),
      shape: padTo(shape, MAX_RANK, 1),
      src_strides: c.src.map((v, i) => (i === last ? v : q(v))),
      dst_strides: c.dst.map((v, i) => (i === last ? v : q(v))),
    },
    overrides: { WG },
    workgroups: grid(Math.ceil(n / (vec ? 4 : 1) / WG)),
    label: `${describeOp(op, from)} -> ${fmtShape(to.shape)}`,
  });
}
