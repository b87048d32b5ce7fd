// Row-kernel machinery shared by softmax.wgsl, rmsnorm.wgsl and cross_entropy.wgsl. WGSL has no
// includes, so their ops prepend this file to the shader (`rowKernels` in src/ops/rows.ts);
// module-scope declarations may come in any order, so it reads the including shader's `p`, whose
// Params must have a `rows: u32` field (launchRows' type requires it).
//
// A row kernel views its tensor as [p.rows, n] and gives each row LANES invocations (a power of two
// dividing WG, chosen from n by launchRows in src/ops/rows.ts): LANES == WG is the classic
// row-per-workgroup kernel for long rows; smaller LANES packs WG / LANES short rows into one
// workgroup so that attention scores with a few dozen keys do not idle most of it. The lanes of a
// row reduce in their own segment of workgroup memory. Every kernel sums in the same pairwise tree,
// so a row's result depends on LANES and not on which kernel reduced it.
override LANES: u32 = 256;
override WG: u32 = 256;

var<workgroup> red_a: array<f32, WG>;
var<workgroup> red_b: array<f32, WG>;

struct Slot {
  row: u32,
  lane: u32,
  // First invocation of this row's segment of workgroup memory.
  head: u32,
  // False past the last row: such invocations skip the row's data but must still reach every
  // barrier of the reductions.
  live: bool,
}

fn slot(lid: u32, wid: vec3u, nwg: vec3u) -> Slot {
  let row = (wid.x + wid.y * nwg.x) * (WG / LANES) + lid / LANES;
  return Slot(row, lid % LANES, lid - lid % LANES, row < p.rows);
}

// "Online" max and sum of exp: one read of a row keeps a running max m and a sum s of exp(v - m),
// rescaled whenever m grows, as (m, s). m starts at the most negative finite float rather than
// -inf so that -inf entries (masked positions) add exp(-inf) = 0 instead of NaN; a row whose every
// entry is -inf ends with s == 0.
const NEG_MAX: f32 = -3.4028234663852886e38;
const ONLINE_EMPTY = vec2f(NEG_MAX, 0.0);

// One exp per element: exp(-|v - m|) rescales s when v is the new max, else weighs v.
fn online_add(ms: vec2f, v: f32) -> vec2f {
  let d = v - ms.x;
  let e = exp(-abs(d));
  return vec2f(max(ms.x, v), select(ms.y + e, ms.y * e + 1.0, d > 0.0));
}

// Combines the lanes' (max, scaled sum) pairs of each row segment; every lane gets its row's pair.
fn reduce_online(lid: u32, head: u32, lane: u32, ms: vec2f) -> vec2f {
  red_a[lid] = ms.x;
  red_b[lid] = ms.y;
  workgroupBarrier();
  for (var k = LANES / 2u; k > 0u; k >>= 1u) {
    if (lane < k) {
      let m1 = red_a[lid];
      let m2 = red_a[lid + k];
      let mm = max(m1, m2);
      red_b[lid] = red_b[lid] * exp(m1 - mm) + red_b[lid + k] * exp(m2 - mm);
      red_a[lid] = mm;
    }
    workgroupBarrier();
  }
  // A +inf max makes exp(v - m) NaN for that entry (inf - inf), as in the float64 reference, but
  // the online sum counted it as exp(0) = 1. Bits, not float tests, which WGSL may assume NaN-free:
  // setting the quiet bit of +inf's bits makes a NaN.
  let m = red_a[head];
  let mb = bitcast<u32>(m);
  return vec2f(m, select(red_b[head], bitcast<f32>(mb | 0x400000u), mb == 0x7f800000u));
}

// Sums v over the lanes of each row segment; every lane gets its row's sum. One array, not
// reduce2's two: half the workgroup-memory traffic, which is slow on software adapters.
fn reduce_sum(lid: u32, head: u32, lane: u32, v: f32) -> f32 {
  red_a[lid] = v;
  workgroupBarrier();
  for (var k = LANES / 2u; k > 0u; k >>= 1u) {
    if (lane < k) { red_a[lid] += red_a[lid + k]; }
    workgroupBarrier();
  }
  return red_a[head];
}

// Sums (a, b) over the lanes of each row segment; every lane gets its row's sums.
fn reduce2(lid: u32, head: u32, lane: u32, a: f32, b: f32) -> vec2f {
  red_a[lid] = a;
  red_b[lid] = b;
  workgroupBarrier();
  for (var k = LANES / 2u; k > 0u; k >>= 1u) {
    if (lane < k) {
      red_a[lid] += red_a[lid + k];
      red_b[lid] += red_b[lid + k];
    }
    workgroupBarrier();
  }
  // A +inf max makes exp(v - m) NaN for that entry (inf - inf), as in the float64 reference, but
  // the online sum counted it as exp(0) = 1. Bits, not float tests, which WGSL may assume NaN-free:
  // setting the quiet bit of +inf's bits makes a NaN.
  let m = red_a[head];
  let mb = bitcast<u32>(m);
  return vec2f(m, select(red_b[head], bitcast<f32>(mb | 0x400000u), mb == 0x7f800000u));
}
