// Kernel family `softmax`: host src/ops/softmax.ts (launchRows, shared with rmsnorm and
// cross_entropy), float64 reference test/ref/softmax.ts, test test/ops/softmax.test.ts, benchmark
// bench/softmax.ts.
//
// Variants: softmax_forward and softmax_backward with LOG off and on and HAS_MASK off and on, each
// under LANES (rows.wgsl) = the fewest lanes per row that give each lane at most the adapter's
// elements (512 on software adapters, 8 on GPUs; setRowElementsPerLane overrides it).
//
// Measured: lanes per row on lavapipe, softmax forward over [8192,128] took 6 ms with 4 lanes per
// row and 190 ms with 256, over [2048,2048] 17 ms with 4 lanes and 98 ms with 256 (best of 7,
// see launchRows). --quick run of 2026-12-07
// (bench/results/softmax-2026-12-07T*.json; lavapipe on 2 cores shared with other jobs, so
// sub-millisecond times sit near the timestamps' 65.5 us resolution):
// attention-score rows [4, 64, 228] forward 0.8 ms GPU at the adapter's lanes, 0.85 at 8 elements
// a lane, 8.6 at 1 (a whole workgroup a row).
//
// Softmax and log-softmax over the last axis of a tensor viewed as [rows, n], with an optional
// additive mask broadcast to it, and their VJPs: row kernels on rows.wgsl (LANES, slot, the
// reductions), which the op prepends.
//
// The forward pass is "online" (see online_add), so x is read twice (statistics, then output), not
// three times.
// Params: declared in src/ops/softmax.ts (SOFTMAX_PARAMS), appended when the pipeline is created.
@group(0) @binding(0) var<uniform> p: Params;

override LOG: bool = false;
override HAS_MASK: bool = false;

fn dim(v: array<vec4u, 2>, i: u32) -> u32 { return v[i / 4u][i % 4u]; }

fn mask_row(row: u32) -> u32 {
  var rem = row;
  var off = 0u;
  for (var d = i32(p.lead) - 1; d >= 0; d--) {
    let size = dim(p.shape, u32(d));
    off += (rem % size) * dim(p.mask_strides, u32(d));
    rem = rem / size;
  }
  return off;
}

@group(0) @binding(1) var<storage, read> x: array<f32>;
@group(0) @binding(2) var<storage, read> mask: array<f32>;
@group(0) @binding(3) var<storage, read_write> y: array<f32>;

fn masked(base: u32, moff: u32, j: u32) -> f32 {
  if (HAS_MASK) { return x[base + j] + mask[moff + j * p.mask_last]; }
  return x[base + j];
}

@compute @workgroup_size(WG)
fn softmax_forward(@builtin(local_invocation_index) lid: u32, @builtin(workgroup_id) wid: vec3u, @builtin(num_workgroups) nwg: vec3u) {
  let t = slot(lid, wid, nwg);
  let base = t.row * p.n;
  var moff = 0u;
  if (HAS_MASK && t.live) { moff = mask_row(t.row); }
  var ms = ONLINE_EMPTY;
  if (t.live) {
    for (var j = t.lane; j < p.n; j += LANES) { ms = online_add(ms, masked(base, moff, j)); }
  }
  let r = reduce_online(lid, t.head, t.lane, ms);
  if (!t.live) { return; }
  let m = r.x;
  let s = r.y;
  // s == 0 only when every entry is -inf (a fully masked row): softmax gives zeros there and
  // log-softmax passes the -inf entries through, where v - m - log(s) would be NaN.
  let empty = s == 0.0;
  let inv = select(1.0 / s, 0.0, empty);
  // (v - m) - log(s), not v - (m + log(s)): m + log(s) rounds log(s) away when |m| is huge.
  let ls = log(s);
  for (var j = t.lane; j < p.n; j += LANES) {
    let v = masked(base, moff, j);
    if (LOG) { y[base + j] = select((v - m) - ls, v, empty); } else { y[base + j] = exp(v - m) * inv; }
  }
}

// VJP from the output y and its gradient g: softmax dx = y (g - sum(g y)); log-softmax
// dx = g - exp(y) sum(g).
@group(0) @binding(1) var<storage, read> b_y: array<f32>;
@group(0) @binding(2) var<storage, read> b_g: array<f32>;
@group(0) @binding(3) var<storage, read_write> b_dx: array<f32>;

@compute @workgroup_size(WG)
fn softmax_backward(@builtin(local_invocation_index) lid: u32, @builtin(workgroup_id) wid: vec3u, @builtin(num_workgroups) nwg: vec3u) {
  let t = slot(lid, wid, nwg);
  let base = t.row * p.n;
  var acc = 0.0;
  if (t.live) {
    for (var j = t.lane; j < p.n; j += LANES) {
      if (LOG) { acc += b_g[base + j]; } else { acc += b_g[base + j] * b_y[base + j]; }
    }
  }
  let total = reduce_sum(lid, t.head, t.lane, acc);
  if (!t.live) { return; }
  for (var j = t.lane; j < p.n; j += LANES) {
    let yj = b_y[base + j];
    let gj = b_g[base + j];
    if (LOG) { b_dx[base + j] = gj - exp(yj) * total; } else { b_dx[base + j] = yj * (gj - total); }
  }
}
