// Kernel family `rmsnorm`: host src/ops/rmsnorm.ts, float64 reference test/ref/rmsnorm.ts, test
// test/ops/rmsnorm.test.ts, benchmark bench/rmsnorm.ts.
//
// Variants: rmsnorm_forward; rmsnorm_backward with NEED_DX (x's gradient) and NEED_RSTD (keep
// 1/rms for the weight gradient) as the gradients asked for set them; rmsnorm_weight_grad (chunked
// column sums, then a reduce); each row kernel under the lanes-per-row settings of launchRows.
//
// Measured, --quick run of 2026-12-07
// (bench/results/rmsnorm-2026-12-07T*.json; lavapipe on 2 cores shared with other jobs, so
// sub-millisecond times sit near the timestamps' 65.5 us resolution):
// T5's [228, 512] forward 3.1 ms GPU at the adapter's lanes, 3.0 at 8 elements a lane, 7.7 at 1;
// forward + both gradients (with the loss ops) 19-31 ms.
//
// T5's layer norm over the last axis of x viewed as [rows, n]: y = x * rsqrt(mean(x^2) + eps) * w,
// with no mean subtraction and no bias, and its VJPs.
//
// The row kernels use rows.wgsl (LANES, slot, reduce2), which the op prepends. The weight gradient
// sums over rows, which a row kernel cannot do without atomics; `rmsnorm_weight_grad` instead gives
// each column a lane that sums a chunk of rows, and the host sums the chunks with a deterministic
// reduction.
// Params: declared in src/ops/rmsnorm.ts (RMSNORM_PARAMS), appended when the pipeline is created.
@group(0) @binding(0) var<uniform> p: Params;

override NEED_DX: bool = true;
override NEED_RSTD: bool = false;

fn rstd_of(sum_sq: f32) -> f32 { return inverseSqrt(sum_sq / f32(p.n) + p.eps); }

@group(0) @binding(1) var<storage, read> x: array<f32>;
@group(0) @binding(2) var<storage, read> w: array<f32>;
@group(0) @binding(3) var<storage, read_write> y: array<f32>;

@compute @workgroup_size(WG)
fn rmsnorm_forward(@builtin(local_invocation_index) lid: u32, @builtin(workgroup_id) wid: vec3u, @builtin(num_workgroups) nwg: vec3u) {
  let t = slot(lid, wid, nwg);
  let base = t.row * p.n;
  var ss = 0.0;
  if (t.live) {
    for (var j = t.lane; j < p.n; j += LANES) {
      let v = x[base + j];
      ss += v * v;
    }
  }
  let r = rstd_of(reduce2(lid, t.head, t.lane, ss, 0.0).x);
  if (!t.live) { return; }
  for (var j = t.lane; j < p.n; j += LANES) { y[base + j] = x[base + j] * r * w[j]; }
}

// dx = r (g w) - x r^3 mean(g w x), with r = rsqrt(mean(x^2) + eps). The row's r goes to `rstd`
// for the weight gradient when NEED_RSTD; dx is skipped unless NEED_DX (each unused output is bound
// to a one-element placeholder).
@group(0) @binding(1) var<storage, read> b_x: array<f32>;
@group(0) @binding(2) var<storage, read> b_w: array<f32>;
@group(0) @binding(3) var<storage, read> b_g: array<f32>;
@group(0) @binding(4) var<storage, read_write> b_dx: array<f32>;
@group(0) @binding(5) var<storage, read_write> b_rstd: array<f32>;

@compute @workgroup_size(WG)
fn rmsnorm_backward(@builtin(local_invocation_index) lid: u32, @builtin(workgroup_id) wid: vec3u, @builtin(num_workgroups) nwg: vec3u) {
  let t = slot(lid, wid, nwg);
  let base = t.row * p.n;
  var ss = 0.0;
  var dot = 0.0;
  if (t.live) {
    for (var j = t.lane; j < p.n; j += LANES) {
      let v = b_x[base + j];
      ss += v * v;
      if (NEED_DX) { dot += b_g[base + j] * b_w[j] * v; }
    }
  }
  let sums = reduce2(lid, t.head, t.lane, ss, dot);
  if (!t.live) { return; }
  let r = rstd_of(sums.x);
  if (NEED_RSTD && t.lane == 0u) { b_rstd[t.row] = r; }
  if (NEED_DX) {
    let c = r * r * r * sums.y / f32(p.n);
    for (var j = t.lane; j < p.n; j += LANES) {
      b_dx[base + j] = r * b_g[base + j] * b_w[j] - b_x[base + j] * c;
    }
  }
}

// partial[c, j] = sum over the rows of chunk c of g * x * rstd: one lane per (column, chunk).
@group(0) @binding(1) var<storage, read> wg_x: array<f32>;
@group(0) @binding(2) var<storage, read> wg_g: array<f32>;
@group(0) @binding(3) var<storage, read> wg_rstd: array<f32>;
@group(0) @binding(4) var<storage, read_write> wg_partial: array<f32>;

@compute @workgroup_size(WG)
fn rmsnorm_weight_grad(@builtin(global_invocation_id) gid: vec3u) {
  let j = gid.x;
  let c = gid.y;
  if (j >= p.n) { return; }
  let end = min(p.rows, (c + 1u) * p.chunk);
  var acc = 0.0;
  for (var r = c * p.chunk; r < end; r++) { acc += wg_g[r * p.n + j] * wg_x[r * p.n + j] * wg_rstd[r]; }
  wg_partial[c * p.n + j] = acc;
}
