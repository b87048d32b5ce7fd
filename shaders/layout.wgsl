// Kernel family `layout`: host src/ops/layout.ts, float64 reference test/ref/layout.ts, test
// test/ops/layout.test.ts, benchmark bench/layout.ts.
//
// Variants: copy_strided (scalar runs), copy_strided4 (vec4 runs), transpose_tiled (TILE),
// cast_f32_i32, cast_i32_f32, where_select with MASK_F32 on (f32 mask) and off (i32 mask).
//
// Measured, --quick run of 2026-12-07
// (bench/results/layout-2026-12-07T*.json; lavapipe on 2 cores shared with other jobs, so
// sub-millisecond times sit near the timestamps' 65.5 us resolution):
// on [2, 8, 57, 64] the head split (copy_strided4) 1.2 ms GPU, the key transpose (transpose_tiled)
// 0.9 ms; casts 1.3-2.0 ms and where_select 7-10 ms over [2, 157, 512].
//
// Data movement: strided copies (permute, slice, concat pieces, pad, expand), a tiled 2-D
// transpose, dtype casts and a broadcasting select. Copies move 32-bit words, so f32 and i32
// tensors share every kernel. The host merges axes that stay contiguous before launching, so the
// index arithmetic usually runs over two or three axes.

// CopyParams: declared in src/ops/layout.ts, appended when the pipeline is created.
@group(0) @binding(0) var<uniform> pc: CopyParams;

override WG: u32 = 256;
override TILE: u32 = 16;

fn flat_index(gid: vec3u, nwg: vec3u) -> u32 { return gid.x + gid.y * nwg.x * WG; }

// Source and destination offsets of the i-th element of the iteration shape.
fn copy_offsets(i: u32) -> vec2u {
  var rem = i;
  var o = vec2u(pc.src_base, pc.dst_base);
  for (var k = i32(pc.rank) - 1; k >= 0; k--) {
    let a = u32(k);
    let size = pc.shape[a / 4u][a % 4u];
    let c = rem % size;
    rem = rem / size;
    o += c * vec2u(pc.src_strides[a / 4u][a % 4u], pc.dst_strides[a / 4u][a % 4u]);
  }
  return o;
}

@group(0) @binding(1) var<storage, read> c_src: array<u32>;
@group(0) @binding(2) var<storage, read_write> c_dst: array<u32>;

@compute @workgroup_size(WG)
fn copy_strided(@builtin(global_invocation_id) gid: vec3u, @builtin(num_workgroups) nwg: vec3u) {
  let i = flat_index(gid, nwg);
  if (i >= pc.n) { return; }
  let o = copy_offsets(i);
  c_dst[o.y] = c_src[o.x];
}

// The same copy four words at a time, when the innermost axis is contiguous on both sides and
// every stride and base is a multiple of 4 (the host divides them by 4).
@group(0) @binding(1) var<storage, read> c4_src: array<vec4u>;
@group(0) @binding(2) var<storage, read_write> c4_dst: array<vec4u>;

@compute @workgroup_size(WG)
fn copy_strided4(@builtin(global_invocation_id) gid: vec3u, @builtin(num_workgroups) nwg: vec3u) {
  let i = flat_index(gid, nwg);
  if (i >= pc.n) { return; }
  let o = copy_offsets(i);
  c4_dst[o.y] = c4_src[o.x];
}

// [batch, rows, cols] -> [batch, cols, rows] through a TILE x TILE workgroup tile, so that both
// the reads and the writes of neighbouring lanes touch neighbouring addresses. The extra column
// keeps the transposed reads of the tile off a single memory bank.
// TransposeParams: declared in src/ops/layout.ts, appended when the pipeline is created.
@group(0) @binding(0) var<uniform> pt: TransposeParams;
@group(0) @binding(1) var<storage, read> t_src: array<u32>;
@group(0) @binding(2) var<storage, read_write> t_dst: array<u32>;

var<workgroup> tile: array<u32, TILE * (TILE + 1u)>;

@compute @workgroup_size(TILE, TILE)
fn transpose_tiled(@builtin(local_invocation_id) lid: vec3u, @builtin(workgroup_id) wid: vec3u) {
  let base = wid.z * pt.rows * pt.cols;
  let r = wid.y * TILE + lid.y;
  let c = wid.x * TILE + lid.x;
  if (r < pt.rows && c < pt.cols) { tile[lid.y * (TILE + 1u) + lid.x] = t_src[base + r * pt.cols + c]; }
  workgroupBarrier();
  let orow = wid.x * TILE + lid.y;
  let ocol = wid.y * TILE + lid.x;
  if (orow < pt.cols && ocol < pt.rows) { t_dst[base + orow * pt.rows + ocol] = tile[lid.x * (TILE + 1u) + lid.y]; }
}

// Casts reuse CopyParams for the element count. f32 -> i32 rounds toward zero and saturates at
// -2^31 and 2^31 - 128 (WGSL's conversion); NaN has no defined result.
@group(0) @binding(1) var<storage, read> cf_src: array<f32>;
@group(0) @binding(2) var<storage, read_write> cf_dst: array<i32>;

@compute @workgroup_size(WG)
fn cast_f32_i32(@builtin(global_invocation_id) gid: vec3u, @builtin(num_workgroups) nwg: vec3u) {
  let i = flat_index(gid, nwg);
  if (i < pc.n) { cf_dst[i] = i32(cf_src[i]); }
}

@group(0) @binding(1) var<storage, read> ci_src: array<i32>;
@group(0) @binding(2) var<storage, read_write> ci_dst: array<f32>;

@compute @workgroup_size(WG)
fn cast_i32_f32(@builtin(global_invocation_id) gid: vec3u, @builtin(num_workgroups) nwg: vec3u) {
  let i = flat_index(gid, nwg);
  if (i < pc.n) { ci_dst[i] = f32(ci_src[i]); }
}

// out = mask != 0 ? a : b with NumPy broadcasting (strides of 0 repeat an input). The mask is read
// as bits: an f32 mask is true unless it is +0 or -0, an i32 mask unless it is 0.
// WhereParams: declared in src/ops/layout.ts, appended when the pipeline is created.
@group(0) @binding(0) var<uniform> pw: WhereParams;
@group(0) @binding(1) var<storage, read> w_mask: array<u32>;
@group(0) @binding(2) var<storage, read> w_a: array<u32>;
@group(0) @binding(3) var<storage, read> w_b: array<u32>;
@group(0) @binding(4) var<storage, read_write> w_out: array<u32>;

override MASK_F32: bool = true;

@compute @workgroup_size(WG)
fn where_select(@builtin(global_invocation_id) gid: vec3u, @builtin(num_workgroups) nwg: vec3u) {
  let i = flat_index(gid, nwg);
  if (i >= pw.n) { return; }
  var rem = i;
  var o = vec3u(0u);
  for (var k = i32(pw.rank) - 1; k >= 0; k--) {
    let a = u32(k);
    let size = pw.shape[a / 4u][a % 4u];
    let c = rem % size;
    rem = rem / size;
    o += c * vec3u(pw.m_strides[a / 4u][a % 4u], pw.a_strides[a / 4u][a % 4u], pw.b_strides[a / 4u][a % 4u]);
  }
  let bits = w_mask[o.x];
  let on = select(bits != 0u, (bits & 0x7fffffffu) != 0u, MASK_F32);
  w_out[i] = select(w_b[o.z], w_a[o.y], on);
}
