// Softmax and log-softmax over the last axis of a tensor viewed as [rows, n], with an optional
// additive mask broadcast to it, and their VJPs.
//
// Each row is handled by LANES invocations (a power of two dividing WG): LANES == WG is the classic
// row-per-workgroup kernel for long rows; smaller LANES packs WG / LANES short rows into one
// workgroup so that attention scores with a few dozen keys do not idle most of it. The lanes of a
// row reduce in their own segment of workgroup memory.
//
// The forward pass is "online": one read of the row keeps a running max m and a sum s of
// exp(v - m) rescaled whenever m grows, so x is read twice (statistics, then output), not three
// times. m starts at the most negative finite float rather than -inf so that -inf entries (masked
// positions) add exp(-inf) = 0 instead of NaN; a row whose every entry is -inf ends with s == 0.
struct Params {
  rows: u32,
  n: u32,
  // Leading axes of x (rank - 1), their sizes, and the mask's strides on them (0 where it broadcasts).
  lead: u32,
  // The mask's stride along the last axis: 1, or 0 when the mask broadcasts along it.
  mask_last: u32,
  shape: array<vec4u, 2>,
  mask_strides: array<vec4u, 2>,
}
@group(0) @binding(0) var<uniform> p: Params;

override LOG: bool = false;
override HAS_MASK: bool = false;
override LANES: u32 = 256;
override WG: u32 = 256;

const NEG_MAX: f32 = -3.4028234663852886e38;

var<workgroup> red_m: array<f32, WG>;
var<workgroup> red_s: array<f32, WG>;

struct Slot {
  row: u32,
  lane: u32,
  // First invocation of this row's segment of workgroup memory.
  head: u32,
  live: bool,
}

fn slot(lid: u32, wid: vec3u, nwg: vec3u) -> Slot {
  let row = (wid.x + wid.y * nwg.x) * (WG / LANES) + lid / LANES;
  return Slot(row, lid % LANES, lid - lid % LANES, row < p.rows);
}

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

// Combines the lanes' (max, scaled sum) pairs of each row segment; every lane gets its row's pair.
fn reduce_online(lid: u32, head: u32, lane: u32, m: f32, s: f32) -> vec2f {
  red_m[lid] = m;
  red_s[lid] = s;
  workgroupBarrier();
  for (var k = LANES / 2u; k > 0u; k >>= 1u) {
    if (lane < k) {
      let m1 = red_m[lid];
      let m2 = red_m[lid + k];
      let mm = max(m1, m2);
      red_s[lid] = red_s[lid] * exp(m1 - mm) + red_s[lid + k] * exp(m2 - mm);
      red_m[lid] = mm;
    }
    workgroupBarrier();
  }
  return vec2f(red_m[head], red_s[head]);
}

fn reduce_sum(lid: u32, head: u32, lane: u32, v: f32) -> f32 {
  red_s[lid] = v;
  workgroupBarrier();
  for (var k = LANES / 2u; k > 0u; k >>= 1u) {
    if (lane < k) { red_s[lid] += red_s[lid + k]; }
    workgroupBarrier();
  }
  return red_s[head];
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
  var m = NEG_MAX;
  var s = 0.0;
  if (t.live) {
    for (var j = t.lane; j < p.n; j += LANES) {
      let v = masked(base, moff, j);
      // One exp per element: exp(-|v - m|) rescales s when v is the new max, else weighs v.
      let d = v - m;
      let e = exp(-abs(d));
      s = select(s + e, s * e + 1.0, d > 0.0);
      m = max(m, v);
    }
  }
  let r = reduce_online(lid, t.head, t.lane, m, s);
  if (!t.live) { return; }
  m = r.x;
  s = r.y;
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
