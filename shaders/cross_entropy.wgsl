// Kernel family `cross_entropy`: host src/ops/cross_entropy.ts, float64 reference
// test/ref/cross_entropy.ts, test test/ops/cross_entropy.test.ts, benchmark bench/cross_entropy.ts.
//
// Variants: ce_forward, ce_reduce (MODE 1 sum, 2 mean; none for MODE 0) and ce_backward by MODE,
// the row kernels under the lanes-per-row settings of launchRows.
//
// Measured, --quick run of 2026-12-07
// (bench/results/cross_entropy-2026-12-07T*.json; lavapipe on 2 cores shared with other jobs, so
// sub-millisecond times sit near the timestamps' 65.5 us resolution):
// logits [8, 32128] (T5's vocabulary) forward 1.3-4.4 ms GPU, forward + backward 2.5-5.1 ms, with
// no consistent order between lane settings at this size.
//
// Cross-entropy of logits [rows, vocab] against integer labels: fused log-softmax + NLL, the
// reduction over rows, and the VJP w.r.t. the logits.
//
// `ce_forward` gives each row LANES invocations (one workgroup for a T5 vocabulary of 32128; see
// rows.wgsl, which the op prepends) that stride over the vocabulary keeping an online max and
// rescaled sum; it writes the row's log-sum-exp, which the backward pass reuses instead of reducing
// the row again, and the NLL lse - logit[label]. Labels equal to `ignore` give 0; any other label
// outside [0, vocab) is never used as an index: it gives `invalid` (NaN, set by the host) so the
// loss shows it.
// Params: declared in src/ops/cross_entropy.ts (CE_PARAMS), appended when the pipeline is created.
@group(0) @binding(0) var<uniform> p: Params;

// Reduction: 0 none (per-row NLL), 1 sum, 2 mean over non-ignored rows.
override MODE: u32 = 2;

fn label_ok(label: i32) -> bool { return label >= 0 && label < i32(p.vocab); }

@group(0) @binding(1) var<storage, read> logits: array<f32>;
@group(0) @binding(2) var<storage, read> labels: array<i32>;
@group(0) @binding(3) var<storage, read_write> nll: array<f32>;
@group(0) @binding(4) var<storage, read_write> lse: array<f32>;

@compute @workgroup_size(WG)
fn ce_forward(@builtin(local_invocation_index) lid: u32, @builtin(workgroup_id) wid: vec3u, @builtin(num_workgroups) nwg: vec3u) {
  let t = slot(lid, wid, nwg);
  let base = t.row * p.vocab;
  var ms = ONLINE_EMPTY;
  if (t.live) {
    for (var j = t.lane; j < p.vocab; j += LANES) { ms = online_add(ms, logits[base + j]); }
  }
  let r = reduce_online(lid, t.head, t.lane, ms);
  if (!t.live || t.lane != 0u) { return; }
  let row_lse = r.x + log(r.y);
  lse[t.row] = row_lse;
  let label = labels[t.row];
  var v = 0.0;
  if (label != p.ignore) {
    v = p.invalid;
    if (label_ok(label)) { v = row_lse - logits[base + u32(label)]; }
  }
  nll[t.row] = v;
}

// One workgroup sums the NLL and counts the non-ignored rows, as one row of WG lanes (the host sets
// LANES = WG); the mean over zero rows is 0.
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
  let sums = reduce2(lid, 0u, lid, acc, f32(count));
  if (lid == 0u) {
    r_loss[0] = select(sums.x, sums.x / max(sums.y, 1.0), MODE == 2u);
    r_count[0] = sums.y;
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
