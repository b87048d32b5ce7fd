// Cross-entropy of logits [rows, vocab] against integer labels: fused log-softmax + NLL, the
// reduction over rows, and the VJP w.r.t. the logits.
//
// `ce_forward` gives each row LANES invocations (one workgroup for a T5 vocabulary of 32128; see
// softmax.wgsl) that stride over the vocabulary keeping an online max and rescaled sum; it writes
// the row's log-sum-exp, which the backward pass reuses instead of reducing the row again, and the
// NLL lse - logit[label]. Labels equal to `ignore` give 0; any other label outside [0, vocab) is
// never used as an index: it gives `invalid` (NaN, set by the host) so the loss shows it.
struct Params {
  rows: u32,
  vocab: u32,
  ignore: i32,
  invalid: f32,
}
@group(0) @binding(0) var<uniform> p: Params;

override LANES: u32 = 256;
override WG: u32 = 256;
// Reduction: 0 none (per-row NLL), 1 sum, 2 mean over non-ignored rows.
override MODE: u32 = 2;

const NEG_MAX: f32 = -3.4028234663852886e38;

var<workgroup> red_a: array<f32, WG>;
var<workgroup> red_b: array<f32, WG>;

struct Slot {
  row: u32,
  lane: u32,
  head: u32,
  live: bool,
}

fn slot(lid: u32, wid: vec3u, nwg: vec3u) -> Slot {
  let row = (wid.x + wid.y * nwg.x) * (WG / LANES) + lid / LANES;
  return Slot(row, lid % LANES, lid - lid % LANES, row < p.rows);
}

fn label_ok(label: i32) -> bool { return label >= 0 && label < i32(p.vocab); }

@group(0) @binding(1) var<storage, read> logits: array<f32>;
@group(0) @binding(2) var<storage, read> labels: array<i32>;
@group(0) @binding(3) var<storage, read_write> nll: array<f32>;
@group(0) @binding(4) var<storage, read_write> lse: array<f32>;

@compute @workgroup_size(WG)
fn ce_forward(@builtin(local_invocation_index) lid: u32, @builtin(workgroup_id) wid: vec3u, @builtin(num_workgroups) nwg: vec3u) {
  let t = slot(lid, wid, nwg);
  let base = t.row * p.vocab;
  var m = NEG_MAX;
  var s = 0.0;
  if (t.live) {
    for (var j = t.lane; j < p.vocab; j += LANES) {
      let v = logits[base + j];
      let d = v - m;
      let e = exp(-abs(d));
      s = select(s + e, s * e + 1.0, d > 0.0);
      m = max(m, v);
    }
  }
  red_a[lid] = m;
  red_b[lid] = s;
  workgroupBarrier();
  for (var k = LANES / 2u; k > 0u; k >>= 1u) {
    if (t.lane < k) {
      let m1 = red_a[lid];
      let m2 = red_a[lid + k];
      let mm = max(m1, m2);
      red_b[lid] = red_b[lid] * exp(m1 - mm) + red_b[lid + k] * exp(m2 - mm);
      red_a[lid] = mm;
    }
    workgroupBarrier();
  }
  if (!t.live || t.lane != 0u) { return; }
  let row_lse = red_a[lid] + log(red_b[lid]);
  lse[t.row] = row_lse;
  let label = labels[t.row];
  var v = 0.0;
  if (label != p.ignore) {
    v = p.invalid;
    if (label_ok(label)) { v = row_lse - logits[base + u32(label)]; }
  }
  nll[t.row] = v;
}

// One workgroup sums the NLL and counts the non-ignored rows; the mean over zero rows is 0.
@group(0) @binding(1) var<storage, read> r_nll: array<f32>;
@group(0) @binding(2) var<storage, read> r_labels: array<i32>;
@group(0) @binding(3) var<storage, read_write> r_loss: array<f32>;
@group(0) @binding(4) var<storage, read_write> r_count: array<f32>;

@compute @workgroup_size(WG)
fn ce_reduce(@builtin(local_invocation_index) lid: u32) {
  var acc = 0.0;
  var count = 0u;
  for (var i = lid; i < p.rows; i += WG) {
    acc += r_nll[i];
    count += select(1u, 0u, r_labels[i] == p.ignore);
  }
  red_a[lid] = acc;
  red_b[lid] = f32(count);
  workgroupBarrier();
  for (var k = WG / 2u; k > 0u; k >>= 1u) {
    if (lid < k) {
      red_a[lid] += red_a[lid + k];
      red_b[lid] += red_b[lid + k];
    }
    workgroupBarrier();
  }
  if (lid == 0u) {
    let n = red_b[0];
    r_loss[0] = select(red_a[0], red_a[0] / max(n, 1.0), MODE == 2u);
    r_count[0] = n;
  }
}

// dlogits = (softmax - onehot(label)) * scale, zero on ignored rows (which read no logits), with
// scale g[row] (none), g (sum) or g / count (mean). `count` is only read for the mean.
@group(0) @binding(1) var<storage, read> b_logits: array<f32>;
@group(0) @binding(2) var<storage, read> b_labels: array<i32>;
@group(0) @binding(3) var<storage, read> b_lse: array<f32>;
@group(0) @binding(4) var<storage, read> b_g: array<f32>;
@group(0) @binding(5) var<storage, read> b_count: array<f32>;
@group(0) @binding(6) var<storage, read_write> b_dlogits: array<f32>;

@compute @workgroup_size(WG)
fn ce_backward(@builtin(local_invocation_index) lid: u32, @builtin(workgroup_id) wid: vec3u, @builtin(num_workgroups) nwg: vec3u) {
  let t = slot(lid, wid, nwg);
  if (!t.live) { return; }
  let base = t.row * p.vocab;
  let label = b_labels[t.row];
  if (label == p.ignore) {
    for (var j = t.lane; j < p.vocab; j += LANES) { b_dlogits[base + j] = 0.0; }
    return;
  }
  var scale: f32;
  switch MODE {
    case 0u: { scale = b_g[t.row]; }
    case 1u: { scale = b_g[0]; }
    default: { scale = b_g[0] / max(b_count[0], 1.0); }
  }
  // An invalid label's row is NaN throughout, like its NLL (lse + invalid is NaN).
  let shift = select(b_lse[t.row] + p.invalid, b_lse[t.row], label_ok(label));
  for (var j = t.lane; j < p.vocab; j += LANES) {
    let onehot = select(0.0, 1.0, i32(j) == label);
    b_dlogits[base + j] = (exp(b_logits[base + j] - shift) - onehot) * scale;
  }
}
