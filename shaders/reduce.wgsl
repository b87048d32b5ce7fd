// Kernel family `reduce`: host src/ops/reduce.ts, float64 reference test/ref/reduce.ts, test
// test/ops/reduce.test.ts, benchmark bench/reduce.ts.
//
// Variants: reduce_rows and reduce_cols, each with OP 0 (sum; mean is sum with a scale) and
// OP 1 (max); argmax_rows. The host takes rows for an axis of 64 or more (or under 4096 outputs).
//
// Measured, --quick run of 2026-12-07
// (bench/results/reduce-2026-12-07T*.json; lavapipe on 2 cores shared with other jobs, so
// sub-millisecond times sit near the timestamps' 65.5 us resolution):
// over [16, 4096] every variant runs in 0.4-1.3 ms GPU.
//
// Reduction along one axis of a tensor viewed as [outer, n, inner]; the output is [outer, inner].
// Two variants: `reduce_rows` gives each output a workgroup that strides over n and combines in
// workgroup memory (long axes); `reduce_cols` gives each output one invocation that loops over n
// (short axes with many outputs, where a workgroup per output would idle most lanes).
// Params: declared in src/ops/reduce.ts (REDUCE_PARAMS), appended when the pipeline is created.
@group(0) @binding(0) var<uniform> p: Params;
@group(0) @binding(1) var<storage, read> x: array<f32>;
@group(0) @binding(2) var<storage, read_write> y: array<f32>;

override OP: u32 = 0;   // 0 sum (times scale), 1 max
override WG: u32 = 256;

// The max of an all -inf axis is -inf, and a NaN wins (as in torch and the float64 reference,
// where WGSL's max may return the other operand): the identity is p.init (-inf, from the host).
fn is_nan(x: f32) -> bool { return (bitcast<u32>(x) & 0x7fffffffu) > 0x7f800000u; }
fn identity() -> f32 { return select(0.0, p.init, OP == 1u); }
fn combine(a: f32, b: f32) -> f32 { return select(a + b, select(max(a, b), a + b, is_nan(a) || is_nan(b)), OP == 1u); }
fn finish(v: f32) -> f32 { return select(v * p.scale, v, OP == 1u); }

var<workgroup> partial: array<f32, WG>;

@compute @workgroup_size(WG)
fn reduce_rows(@builtin(local_invocation_id) lid: vec3u, @builtin(workgroup_id) wid: vec3u, @builtin(num_workgroups) nwg: vec3u) {
  let out = wid.x + wid.y * nwg.x;
  let total = p.outer * p.inner;
  let o = out / p.inner;
  let i = out % p.inner;
  var acc = identity();
  if (out < total) {
    let base = o * p.n * p.inner + i;
    for (var k = lid.x; k < p.n; k += WG) { acc = combine(acc, x[base + k * p.inner]); }
  }
  partial[lid.x] = acc;
  workgroupBarrier();
  for (var s = WG / 2u; s > 0u; s >>= 1u) {
    if (lid.x < s) { partial[lid.x] = combine(partial[lid.x], partial[lid.x + s]); }
    workgroupBarrier();
  }
  if (lid.x == 0u && out < total) { y[out] = finish(partial[0]); }
}

@compute @workgroup_size(WG)
fn reduce_cols(@builtin(global_invocation_id) gid: vec3u, @builtin(num_workgroups) nwg: vec3u) {
  let out = gid.x + gid.y * nwg.x * WG;
  if (out >= p.outer * p.inner) { return; }
  let o = out / p.inner;
  let i = out % p.inner;
  let base = o * p.n * p.inner + i;
  var acc = identity();
  for (var k = 0u; k < p.n; k++) { acc = combine(acc, x[base + k * p.inner]); }
  y[out] = finish(acc);
}

// Index of the maximum along the axis (the first one on ties, as torch.argmax and numpy do; a NaN
// is the maximum, as there).
fn beats(v: f32, best: f32) -> bool { return select(v > best, !is_nan(best), is_nan(v)); }
@group(0) @binding(1) var<storage, read> ax: array<f32>;
@group(0) @binding(2) var<storage, read_write> ay: array<i32>;
var<workgroup> best_v: array<f32, WG>;
var<workgroup> best_i: array<u32, WG>;

@compute @workgroup_size(WG)
fn argmax_rows(@builtin(local_invocation_id) lid: vec3u, @builtin(workgroup_id) wid: vec3u, @builtin(num_workgroups) nwg: vec3u) {
  let out = wid.x + wid.y * nwg.x;
  let total = p.outer * p.inner;
  let o = out / p.inner;
  let i = out % p.inner;
  var bv = -3.4028234663852886e38;
  var bi = 0xffffffffu;
  if (out < total) {
    let base = o * p.n * p.inner + i;
    for (var k = lid.x; k < p.n; k += WG) {
      let v = ax[base + k * p.inner];
      if (beats(v, bv) || bi == 0xffffffffu) { bv = v; bi = k; }
    }
  }
  best_v[lid.x] = bv;
  best_i[lid.x] = bi;
  workgroupBarrier();
  for (var s = WG / 2u; s > 0u; s >>= 1u) {
    if (lid.x < s) {
      let ov = best_v[lid.x + s];
      let oi = best_i[lid.x + s];
      let mine = best_i[lid.x];
      let bvx = best_v[lid.x];
      let tie = ov == bvx || (is_nan(ov) && is_nan(bvx));
      if (oi != 0xffffffffu && (mine == 0xffffffffu || beats(ov, bvx) || (tie && oi < mine))) {
        best_v[lid.x] = ov;
        best_i[lid.x] = oi;
      }
    }
    workgroupBarrier();
  }
  if (lid.x == 0u && out < total) { ay[out] = i32(best_i[0]); }
}
