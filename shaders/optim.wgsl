// Kernel family `optim`: hosts src/optim/{sgd,adamw,adafactor}.ts, float64 references
// test/ref/optim.ts, tests test/optim/*.test.ts (through test/optim/harness.ts), benchmark
// bench/optim.ts.
//
// Variants: sgd; sgd_momentum with NESTEROV off and on; adamw; Adafactor's adafactor_cols (SQUARE
// on, or after adafactor_col_chunks for tall matrices), adafactor_rows, adafactor_vector
// (unfactored), adafactor_scalars (FACTORED, SCALE_PARAMETER), adafactor_apply and
// adafactor_apply_momentum; over an arena group (SGD and AdamW use their kernels over the whole
// arena): adafactor_group_chunks, _cols, _rows, _vector, _scalars, _apply and _apply_momentum,
// float64-checked through test/optim/harness.ts's arena trials and equal to the per-parameter
// kernels to the bit (test/optim/arena.test.ts).
//
// Measured, --quick run of 2026-12-07
// (bench/results/optim-2026-12-07T*.json; lavapipe on 2 cores shared with other jobs, so
// sub-millisecond times sit near the timestamps' 65.5 us resolution):
// one step on [128, 512]: sgd, sgd_momentum and adamw 0.8-2.9 ms GPU in one dispatch; Adafactor
// 4.8-7.8 ms in 3-5 dispatches.
// adafactor_rows runs 16 lanes per row on software adapters (64 or 256 elsewhere): each barrier of
// its tree reduction switches the whole workgroup on lavapipe; a step over [8192,128], [384,128],
// [128,384] and [128,128] took 67-78 ms of CPU against 113-115 with 64 lanes (load 9).
//
// Optimizer updates, written into the parameter's own storage. Each entry point has its own
// uniform struct at binding 0. Anything that changes from step to step (learning rate, bias
// corrections, beta2 schedules) is a uniform, so schedules never compile a new pipeline; option
// switches that are fixed for a training run (momentum, nesterov, beta1, factored) are overrides.
// Scalars such as 1 - beta are computed on the host in float64: 1 - f32(0.999) is off by 1e-5.

override WG: u32 = 256;

fn flat_index(gid: vec3u, nwg: vec3u) -> u32 { return gid.x + gid.y * nwg.x * WG; }
fn group_index(wid: vec3u, nwg: vec3u) -> u32 { return wid.x + wid.y * nwg.x; }

// ---------------------------------------------------------------------------------------------
// SGD as torch.optim.SGD: g += wd p; buf = momentum buf + (1 - dampening) g (buf = g at the first
// step); g = nesterov ? g + momentum buf : buf; p -= lr g.

// SgdParams: declared in src/optim/kernels.ts, appended when the pipeline is created.

override NESTEROV: bool = false;

@group(0) @binding(0) var<uniform> sp: SgdParams;
@group(0) @binding(1) var<storage, read> sgd_g: array<f32>;
@group(0) @binding(2) var<storage, read_write> sgd_p: array<f32>;
@group(0) @binding(3) var<storage, read_write> sgd_buf: array<f32>;

@compute @workgroup_size(WG)
fn sgd(@builtin(global_invocation_id) gid: vec3u, @builtin(num_workgroups) nwg: vec3u) {
  let i = flat_index(gid, nwg);
  if (i >= sp.n) { return; }
  let p = sgd_p[i];
  sgd_p[i] = p - sp.lr * (sgd_g[i] + sp.weight_decay * p);
}

@compute @workgroup_size(WG)
fn sgd_momentum(@builtin(global_invocation_id) gid: vec3u, @builtin(num_workgroups) nwg: vec3u) {
  let i = flat_index(gid, nwg);
  if (i >= sp.n) { return; }
  let p = sgd_p[i];
  let g = sgd_g[i] + sp.weight_decay * p;
  let buf = select(sp.momentum * sgd_buf[i] + sp.one_minus_dampening * g, g, sp.first != 0u);
  sgd_buf[i] = buf;
  let d = select(buf, g + sp.momentum * buf, NESTEROV);
  sgd_p[i] = p - sp.lr * d;
}

// ---------------------------------------------------------------------------------------------
// AdamW as torch.optim.AdamW: p *= 1 - lr wd; m = b1 m + (1 - b1) g; v = b2 v + (1 - b2) g^2;
// p -= (lr / bc1) m / (sqrt(v) / sqrt(bc2) + eps).

// AdamParams: declared in src/optim/kernels.ts, appended when the pipeline is created.

@group(0) @binding(0) var<uniform> ap: AdamParams;
@group(0) @binding(1) var<storage, read> adam_g: array<f32>;
@group(0) @binding(2) var<storage, read_write> adam_p: array<f32>;
@group(0) @binding(3) var<storage, read_write> adam_m: array<f32>;
@group(0) @binding(4) var<storage, read_write> adam_v: array<f32>;

@compute @workgroup_size(WG)
fn adamw(@builtin(global_invocation_id) gid: vec3u, @builtin(num_workgroups) nwg: vec3u) {
  let i = flat_index(gid, nwg);
  if (i >= ap.n) { return; }
  let g = adam_g[i];
  let m = ap.beta1 * adam_m[i] + ap.one_minus_beta1 * g;
  let v = ap.beta2 * adam_v[i] + ap.one_minus_beta2 * g * g;
  adam_m[i] = m;
  adam_v[i] = v;
  let denom = sqrt(v) / ap.bc2_sqrt + ap.eps;
  adam_p[i] = adam_p[i] * ap.decay - ap.step_size * m / denom;
}

// ---------------------------------------------------------------------------------------------
// Adafactor as Hugging Face transformers' Adafactor. A parameter of rank >= 2 is viewed as
// [B, R, C] and keeps row statistics [B, R] and column statistics [B, C] of g^2 + eps1; vectors
// keep a full second moment. The update u = g / sqrt(v_hat) is clipped by its RMS and scaled by a
// learning rate that may depend on the parameter's RMS: both are whole-tensor reductions, so a
// step is a statistics pass that also leaves partial sums, a one-workgroup pass that turns the
// partials into scalars in a small storage buffer, and an elementwise apply that reads them.
// Nothing goes back to the host.

override FACTORED: bool = true;
override SCALE_PARAMETER: bool = true;
override SQUARE: bool = true;

// StatParams: declared in src/optim/kernels.ts, appended when the pipeline is created.

@group(0) @binding(0) var<uniform> stp: StatParams;

// Column statistics: one invocation per (b, c) sums `span` rows of a [B, span, C] input, so
// neighbouring lanes read neighbouring addresses. With SQUARE the input is g itself (span = R);
// tall matrices first reduce chunks of rows in adafactor_col_chunks and sum the chunks here
// (span = the chunk count), since R serial loads per lane would leave a real GPU nearly idle.
@group(0) @binding(1) var<storage, read> col_g: array<f32>;
@group(0) @binding(2) var<storage, read_write> col_sq: array<f32>;

@compute @workgroup_size(WG)
fn adafactor_cols(@builtin(global_invocation_id) gid: vec3u, @builtin(num_workgroups) nwg: vec3u) {
  let j = flat_index(gid, nwg);
  if (j >= (stp.rows / stp.r) * stp.c) { return; }
  let base = (j / stp.c) * stp.span * stp.c + j % stp.c;
  var acc = 0.0;
  for (var k = 0u; k < stp.span; k++) {
    let x = col_g[base + k * stp.c];
    acc += select(x, x * x + stp.eps1, SQUARE);
  }
  col_sq[j] = stp.beta2t * col_sq[j] + stp.one_minus_beta2t * (acc / f32(stp.r));
}

// Sums of g^2 + eps1 over chunks of `span` rows of a tall matrix: [B, chunks, C].
@group(0) @binding(1) var<storage, read> chunk_g: array<f32>;
@group(0) @binding(2) var<storage, read_write> chunk_sum: array<f32>;

@compute @workgroup_size(WG)
fn adafactor_col_chunks(@builtin(global_invocation_id) gid: vec3u, @builtin(num_workgroups) nwg: vec3u) {
  let j = flat_index(gid, nwg);
  let chunks = (stp.r + stp.span - 1u) / stp.span;
  let b = j / (chunks * stp.c);
  if (b >= stp.rows / stp.r) { return; }
  let start = ((j / stp.c) % chunks) * stp.span;
  let end = min(start + stp.span, stp.r);
  var acc = 0.0;
  for (var k = start; k < end; k++) {
    let x = chunk_g[(b * stp.r + k) * stp.c + j % stp.c];
    acc += x * x + stp.eps1;
  }
  chunk_sum[j] = acc;
}

// Row statistics, after the columns: one workgroup per row updates the row average and leaves
// that row's partial sums of u^2 (without the per-matrix row mean, which the scalar pass applies)
// and of p^2. u^2 is formed as (g^2 / col) / row: row * col can underflow to 0 when g is 0.
@group(0) @binding(1) var<storage, read> row_g: array<f32>;
@group(0) @binding(2) var<storage, read> row_p: array<f32>;
@group(0) @binding(3) var<storage, read> row_col: array<f32>;
@group(0) @binding(4) var<storage, read_write> row_sq: array<f32>;
@group(0) @binding(5) var<storage, read_write> row_pp: array<f32>;
@group(0) @binding(6) var<storage, read_write> row_pu: array<f32>;

var<workgroup> partial: array<vec3f, WG>;

fn reduce_partial(lid: u32) {
  workgroupBarrier();
  for (var s = WG / 2u; s > 0u; s >>= 1u) {
    if (lid < s) { partial[lid] += partial[lid + s]; }
    workgroupBarrier();
  }
}

@compute @workgroup_size(WG)
fn adafactor_rows(@builtin(local_invocation_id) lid: vec3u, @builtin(workgroup_id) wid: vec3u, @builtin(num_workgroups) nwg: vec3u) {
  let q = group_index(wid, nwg);
  var acc = vec3f(0.0);
  if (q < stp.rows) {
    let base = q * stp.c;
    let cbase = (q / stp.r) * stp.c;
    for (var k = lid.x; k < stp.c; k += WG) {
      let x = row_g[base + k];
      acc.x += x * x + stp.eps1;
      acc.y += x * x / row_col[cbase + k];
      if (SCALE_PARAMETER) {
        let y = row_p[base + k];
        acc.z += y * y;
      }
    }
  }
  partial[lid.x] = acc;
  reduce_partial(lid.x);
  if (lid.x == 0u && q < stp.rows) {
    let total = partial[0];
    let sq = stp.beta2t * row_sq[q] + stp.one_minus_beta2t * (total.x / f32(stp.c));
    row_sq[q] = sq;
    row_pu[q] = total.y / sq;
    row_pp[q] = total.z;
  }
}

// Unfactored second moment: elementwise, with one partial sum per workgroup.
@group(0) @binding(1) var<storage, read> vec_g: array<f32>;
@group(0) @binding(2) var<storage, read> vec_p: array<f32>;
@group(0) @binding(3) var<storage, read_write> vec_sq: array<f32>;
@group(0) @binding(4) var<storage, read_write> vec_pp: array<f32>;
@group(0) @binding(5) var<storage, read_write> vec_pu: array<f32>;

@compute @workgroup_size(WG)
fn adafactor_vector(@builtin(local_invocation_id) lid: vec3u, @builtin(workgroup_id) wid: vec3u, @builtin(num_workgroups) nwg: vec3u) {
  let w = group_index(wid, nwg);
  let i = w * WG + lid.x;
  var acc = vec3f(0.0);
  if (i < stp.rows) {
    let x = vec_g[i];
    let sq = stp.beta2t * vec_sq[i] + stp.one_minus_beta2t * (x * x + stp.eps1);
    vec_sq[i] = sq;
    acc.y = x * x / sq;
    if (SCALE_PARAMETER) {
      let y = vec_p[i];
      acc.z = y * y;
    }
  }
  partial[lid.x] = acc;
  reduce_partial(lid.x);
  // Grids that spill into y may hold a few workgroups past the end.
  if (lid.x == 0u && w < (stp.rows + WG - 1u) / WG) {
    vec_pu[w] = partial[0].y;
    vec_pp[w] = partial[0].z;
  }
}

fn nan_max(a: f32, b: f32) -> f32 { return select(max(a, b), a + b, a != a || b != b); }

// The per-parameter scalars, in one workgroup: sc[0] = lr / max(RMS(u) / clip, 1) (the factor on
// u), sc[1] = lr (for weight decay), sc[2 + b] = mean of row statistics of matrix b (factored).
// ScalarParams: declared in src/optim/kernels.ts, appended when the pipeline is created.

@group(0) @binding(0) var<uniform> scp: ScalarParams;
@group(0) @binding(1) var<storage, read> sc_pp: array<f32>;
@group(0) @binding(2) var<storage, read> sc_pu: array<f32>;
@group(0) @binding(3) var<storage, read> sc_row: array<f32>;
@group(0) @binding(4) var<storage, read_write> sc_out: array<f32>;

@compute @workgroup_size(WG)
fn adafactor_scalars(@builtin(local_invocation_id) lid: vec3u) {
  var rms_u = 0.0;
  var sum_p = 0.0;
  for (var b = 0u; b < scp.groups; b++) {
    var acc = vec3f(0.0);
    let base = b * scp.per;
    for (var k = lid.x; k < scp.per; k += WG) {
      acc.x += select(0.0, sc_row[base + k], FACTORED);
      acc.y += sc_pu[base + k];
      acc.z += sc_pp[base + k];
    }
    partial[lid.x] = acc;
    reduce_partial(lid.x);
    let total = partial[0];
    let row_mean = select(1.0, total.x / f32(scp.per), FACTORED);
    rms_u += row_mean * total.y;
    sum_p += total.z;
    if (FACTORED && lid.x == 0u) { sc_out[2u + b] = row_mean; }
    // Lane 0 of the next round writes partial[0] before everyone has read this round's total.
    workgroupBarrier();
  }
  if (lid.x == 0u) {
    let n = f32(scp.numel);
    var lr = scp.rel_step;
    // nan_max, not max: WGSL's max may drop a NaN (from a NaN gradient or parameter), which the
    // reference (torch) carries into every element's update.
    if (SCALE_PARAMETER) { lr *= nan_max(scp.eps2, sqrt(sum_p / n)); }
    sc_out[0] = lr / nan_max(sqrt(rms_u / n) / scp.clip, 1.0);
    sc_out[1] = lr;
  }
}

// The update: u = g * rsqrt(row / row_mean) * rsqrt(col) (or g * rsqrt(v)), times sc[0]; with
// beta1, m = beta1 m + (1 - beta1) u replaces u; p += -wd lr p, then p -= u.
// ApplyParams: declared in src/optim/kernels.ts, appended when the pipeline is created.

@group(0) @binding(0) var<uniform> app: ApplyParams;
@group(0) @binding(1) var<storage, read> ap_g: array<f32>;
@group(0) @binding(2) var<storage, read> ap_sq: array<f32>;
@group(0) @binding(3) var<storage, read> ap_col: array<f32>;
@group(0) @binding(4) var<storage, read> ap_sc: array<f32>;
@group(0) @binding(5) var<storage, read_write> ap_p: array<f32>;
@group(0) @binding(6) var<storage, read_write> ap_m: array<f32>;

fn adafactor_update(i: u32) -> f32 {
  let x = ap_g[i];
  if (FACTORED) {
    let q = i / app.c;
    let b = q / app.r;
    let r_factor = inverseSqrt(ap_sq[q] / ap_sc[2u + b]);
    let c_factor = inverseSqrt(ap_col[b * app.c + i % app.c]);
    return r_factor * c_factor * x * ap_sc[0];
  }
  return inverseSqrt(ap_sq[i]) * x * ap_sc[0];
}

fn adafactor_write(i: u32, u: f32) {
  let p = ap_p[i];
  ap_p[i] = p + (-app.weight_decay * ap_sc[1]) * p - u;
}

@compute @workgroup_size(WG)
fn adafactor_apply(@builtin(global_invocation_id) gid: vec3u, @builtin(num_workgroups) nwg: vec3u) {
  let i = flat_index(gid, nwg);
  if (i >= app.n) { return; }
  adafactor_write(i, adafactor_update(i));
}

@compute @workgroup_size(WG)
fn adafactor_apply_momentum(@builtin(global_invocation_id) gid: vec3u, @builtin(num_workgroups) nwg: vec3u) {
  let i = flat_index(gid, nwg);
  if (i >= app.n) { return; }
  let m = app.beta1 * ap_m[i] + app.one_minus_beta1 * adafactor_update(i);
  ap_m[i] = m;
  adafactor_write(i, m);
}

// ---------------------------------------------------------------------------------------------
// Adafactor over an arena group (src/optim/adafactor_group.ts): the passes above for every
// parameter of a group at once, each a segment of one dispatch. Parameters, gradients and each
// state live in arenas (one buffer each), so a per-parameter table in the `plan` buffer gives
// each segment's offsets; the arithmetic of every element is the per-parameter kernels' own, in
// the same order, so the two paths agree to the bit. A pass's workgroups are listed in `plan` from
// `map_base` as (entry, workgroup within the entry) pairs: a workgroup never spans two parameters.

// Table entry fields (u32), TABLE_STRIDE per parameter; see adafactor_group.ts.
const T_P = 0u;      // offset in the parameter, gradient and exp_avg arenas
const T_N = 1u;      // elements
const T_FACT = 2u;   // 1: factored ([B, R, C] with row and column statistics), 0: full second moment
const T_B = 3u;
const T_R = 4u;
const T_C = 5u;
const T_SQ = 6u;     // offset of its row statistics [B·R] (factored) or second moment (full)
const T_COL = 7u;    // offset of its column statistics [B·C]
const T_PART = 8u;   // offset of its partial sums (B·R, or one per workgroup of the full pass)
const T_PER = 9u;    // partial sums per matrix of the B
const T_SC = 10u;    // offset of its scalars (2 + B)
const T_CHUNK = 11u; // offset of its column chunk sums (tall matrices)
const T_TALL = 12u;  // 1: its column sums go through chunks of `span` rows
const TABLE_STRIDE = 16u;

// GroupParams: declared in src/optim/kernels.ts, appended when the pipeline is created.
@group(0) @binding(0) var<uniform> gp: GroupParams;
// The table and the workgroup lists, binding 1 of every group pass.
@group(0) @binding(1) var<storage, read> plan: array<u32>;

// This pass's workgroup w: its table entry (the index of its first field) and its workgroup within that entry.
fn segment(w: u32) -> vec2u {
  let m = gp.map_base + 2u * w;
  return vec2u(plan[m] * TABLE_STRIDE, plan[m + 1u]);
}

@group(0) @binding(2) var<storage, read> gch_g: array<f32>;
@group(0) @binding(3) var<storage, read_write> gch_sum: array<f32>;

@compute @workgroup_size(WG)
fn adafactor_group_chunks(@builtin(local_invocation_id) lid: vec3u, @builtin(workgroup_id) wid: vec3u, @builtin(num_workgroups) nwg: vec3u) {
  let w = group_index(wid, nwg);
  if (w >= gp.count) { return; }
  let sg = segment(w);
  let e = sg.x;
  let j = sg.y * WG + lid.x;
  let r = plan[e + T_R];
  let c = plan[e + T_C];
  let chunks = (r + gp.span - 1u) / gp.span;
  if (j >= plan[e + T_B] * chunks * c) { return; }
  let b = j / (chunks * c);
  let start = ((j / c) % chunks) * gp.span;
  let end = min(start + gp.span, r);
  let p = plan[e + T_P];
  var acc = 0.0;
  for (var k = start; k < end; k++) {
    let x = gch_g[p + (b * r + k) * c + j % c];
    acc += x * x + gp.eps1;
  }
  gch_sum[plan[e + T_CHUNK] + j] = acc;
}

@group(0) @binding(2) var<storage, read> gcol_g: array<f32>;
@group(0) @binding(3) var<storage, read> gcol_chunks: array<f32>;
@group(0) @binding(4) var<storage, read_write> gcol_sq: array<f32>;

@compute @workgroup_size(WG)
fn adafactor_group_cols(@builtin(local_invocation_id) lid: vec3u, @builtin(workgroup_id) wid: vec3u, @builtin(num_workgroups) nwg: vec3u) {
  let w = group_index(wid, nwg);
  if (w >= gp.count) { return; }
  let sg = segment(w);
  let e = sg.x;
  let j = sg.y * WG + lid.x;
  let r = plan[e + T_R];
  let c = plan[e + T_C];
  if (j >= plan[e + T_B] * c) { return; }
  var acc = 0.0;
  if (plan[e + T_TALL] != 0u) {
    let chunks = (r + gp.span - 1u) / gp.span;
    let base = plan[e + T_CHUNK] + (j / c) * chunks * c + j % c;
    for (var k = 0u; k < chunks; k++) { acc += gcol_chunks[base + k * c]; }
  } else {
    let base = plan[e + T_P] + (j / c) * r * c + j % c;
    for (var k = 0u; k < r; k++) {
      let x = gcol_g[base + k * c];
      acc += x * x + gp.eps1;
    }
  }
  let q = plan[e + T_COL] + j;
  gcol_sq[q] = gp.beta2t * gcol_sq[q] + gp.one_minus_beta2t * (acc / f32(r));
}

@group(0) @binding(2) var<storage, read> grow_g: array<f32>;
@group(0) @binding(3) var<storage, read> grow_p: array<f32>;
@group(0) @binding(4) var<storage, read> grow_col: array<f32>;
@group(0) @binding(5) var<storage, read_write> grow_sq: array<f32>;
@group(0) @binding(6) var<storage, read_write> grow_pp: array<f32>;
@group(0) @binding(7) var<storage, read_write> grow_pu: array<f32>;

@compute @workgroup_size(WG)
fn adafactor_group_rows(@builtin(local_invocation_id) lid: vec3u, @builtin(workgroup_id) wid: vec3u, @builtin(num_workgroups) nwg: vec3u) {
  let w = group_index(wid, nwg);
  let valid = w < gp.count;
  let sg = select(vec2u(0u), segment(min(w, gp.count - 1u)), valid);
  let e = sg.x;
  let q = sg.y;
  let c = plan[e + T_C];
  var acc = vec3f(0.0);
  if (valid) {
    let base = plan[e + T_P] + q * c;
    let cbase = plan[e + T_COL] + (q / plan[e + T_R]) * c;
    for (var k = lid.x; k < c; k += WG) {
      let x = grow_g[base + k];
      acc.x += x * x + gp.eps1;
      acc.y += x * x / grow_col[cbase + k];
      if (SCALE_PARAMETER) {
        let y = grow_p[base + k];
        acc.z += y * y;
      }
    }
  }
  partial[lid.x] = acc;
  reduce_partial(lid.x);
  if (lid.x == 0u && valid) {
    let total = partial[0];
    let i = plan[e + T_SQ] + q;
    let sq = gp.beta2t * grow_sq[i] + gp.one_minus_beta2t * (total.x / f32(c));
    grow_sq[i] = sq;
    grow_pu[plan[e + T_PART] + q] = total.y / sq;
    grow_pp[plan[e + T_PART] + q] = total.z;
  }
}

@group(0) @binding(2) var<storage, read> gvec_g: array<f32>;
@group(0) @binding(3) var<storage, read> gvec_p: array<f32>;
@group(0) @binding(4) var<storage, read_write> gvec_sq: array<f32>;
@group(0) @binding(5) var<storage, read_write> gvec_pp: array<f32>;
@group(0) @binding(6) var<storage, read_write> gvec_pu: array<f32>;

@compute @workgroup_size(WG)
fn adafactor_group_vector(@builtin(local_invocation_id) lid: vec3u, @builtin(workgroup_id) wid: vec3u, @builtin(num_workgroups) nwg: vec3u) {
  let w = group_index(wid, nwg);
  let valid = w < gp.count;
  let sg = select(vec2u(0u), segment(min(w, gp.count - 1u)), valid);
  let e = sg.x;
  let lw = sg.y;
  let i = lw * WG + lid.x;
  var acc = vec3f(0.0);
  if (valid && i < plan[e + T_N]) {
    let x = gvec_g[plan[e + T_P] + i];
    let s = plan[e + T_SQ] + i;
    let sq = gp.beta2t * gvec_sq[s] + gp.one_minus_beta2t * (x * x + gp.eps1);
    gvec_sq[s] = sq;
    acc.y = x * x / sq;
    if (SCALE_PARAMETER) {
      let y = gvec_p[plan[e + T_P] + i];
      acc.z = y * y;
    }
  }
  partial[lid.x] = acc;
  reduce_partial(lid.x);
  if (lid.x == 0u && valid) {
    gvec_pu[plan[e + T_PART] + lw] = partial[0].y;
    gvec_pp[plan[e + T_PART] + lw] = partial[0].z;
  }
}

// One workgroup per parameter: adafactor_scalars over each table entry's partial sums.
@group(0) @binding(2) var<storage, read> gsc_pp: array<f32>;
@group(0) @binding(3) var<storage, read> gsc_pu: array<f32>;
@group(0) @binding(4) var<storage, read> gsc_row: array<f32>;
@group(0) @binding(5) var<storage, read_write> gsc_out: array<f32>;

@compute @workgroup_size(WG)
fn adafactor_group_scalars(@builtin(local_invocation_id) lid: vec3u, @builtin(workgroup_id) wid: vec3u, @builtin(num_workgroups) nwg: vec3u) {
  let w = group_index(wid, nwg);
  if (w >= gp.count) { return; }
  let e = w * TABLE_STRIDE;
  let factored = plan[e + T_FACT] != 0u;
  let groups = select(1u, plan[e + T_B], factored);
  let per = plan[e + T_PER];
  let part = plan[e + T_PART];
  let rows = plan[e + T_SQ];
  let out = plan[e + T_SC];
  var rms_u = 0.0;
  var sum_p = 0.0;
  for (var b = 0u; b < groups; b++) {
    var acc = vec3f(0.0);
    let base = b * per;
    for (var k = lid.x; k < per; k += WG) {
      if (factored) { acc.x += gsc_row[rows + base + k]; }
      acc.y += gsc_pu[part + base + k];
      acc.z += gsc_pp[part + base + k];
    }
    partial[lid.x] = acc;
    reduce_partial(lid.x);
    let total = partial[0];
    let row_mean = select(1.0, total.x / f32(per), factored);
    rms_u += row_mean * total.y;
    sum_p += total.z;
    if (factored && lid.x == 0u) { gsc_out[out + 2u + b] = row_mean; }
    workgroupBarrier();
  }
  if (lid.x == 0u) {
    let n = f32(plan[e + T_N]);
    var lr = gp.rel_step;
    if (SCALE_PARAMETER) { lr *= nan_max(gp.eps2, sqrt(sum_p / n)); }
    gsc_out[out] = lr / nan_max(sqrt(rms_u / n) / gp.clip, 1.0);
    gsc_out[out + 1u] = lr;
  }
}

@group(0) @binding(2) var<storage, read> gap_g: array<f32>;
@group(0) @binding(3) var<storage, read> gap_row: array<f32>;
@group(0) @binding(4) var<storage, read> gap_col: array<f32>;
@group(0) @binding(5) var<storage, read> gap_vec: array<f32>;
@group(0) @binding(6) var<storage, read> gap_sc: array<f32>;
@group(0) @binding(7) var<storage, read_write> gap_p: array<f32>;
@group(0) @binding(8) var<storage, read_write> gap_m: array<f32>;

// This workgroup's table entry (fields T_P .. T_TALL) and, last, its workgroup within that entry,
// read once into workgroup memory: lavapipe makes every per-lane read of the table a gather; read
// per lane, the apply pass took 4.4x the per-parameter applies' GPU time in the same run.
var<workgroup> seg: array<u32, 14>;

fn stage_segment(lid: u32, w: u32) {
  if (lid < 14u) {
    let sg = segment(w);
    seg[lid] = select(plan[sg.x + lid], sg.y, lid == 13u);
  }
  workgroupBarrier();
}

// adafactor_update for element i of the staged parameter, whose gradient is x (one exit).
fn group_update(i: u32, x: f32) -> f32 {
  let sc = seg[T_SC];
  var u: f32;
  if (seg[T_FACT] != 0u) {
    let c = seg[T_C];
    let q = i / c;
    let b = q / seg[T_R];
    let r_factor = inverseSqrt(gap_row[seg[T_SQ] + q] / gap_sc[sc + 2u + b]);
    let c_factor = inverseSqrt(gap_col[seg[T_COL] + b * c + i % c]);
    u = r_factor * c_factor * x * gap_sc[sc];
  } else {
    u = inverseSqrt(gap_vec[seg[T_SQ] + i]) * x * gap_sc[sc];
  }
  return u;
}

// adafactor_write at `at` in the parameter arena.
fn group_write(at: u32, u: f32) {
  let p = gap_p[at];
  gap_p[at] = p + (-gp.weight_decay * gap_sc[seg[T_SC] + 1u]) * p - u;
}

const NONE = 0xffffffffu;

// Elements per lane of the apply pass: the segment is staged once per APPLY_PER_LANE * WG elements.
override APPLY_PER_LANE: u32 = 8u;

@compute @workgroup_size(WG)
fn adafactor_group_apply(@builtin(local_invocation_id) lid: vec3u, @builtin(workgroup_id) wid: vec3u, @builtin(num_workgroups) nwg: vec3u) {
  let w = group_index(wid, nwg);
  if (w >= gp.count) { return; }
  stage_segment(lid.x, w);
  let first = seg[13] * WG * APPLY_PER_LANE + lid.x;
  let end = min(first + APPLY_PER_LANE * WG, seg[T_N]);
  for (var i = first; i < end; i += WG) {
    group_write(seg[T_P] + i, group_update(i, gap_g[seg[T_P] + i]));
  }
}

@compute @workgroup_size(WG)
fn adafactor_group_apply_momentum(@builtin(local_invocation_id) lid: vec3u, @builtin(workgroup_id) wid: vec3u, @builtin(num_workgroups) nwg: vec3u) {
  let w = group_index(wid, nwg);
  if (w >= gp.count) { return; }
  stage_segment(lid.x, w);
  let first = seg[13] * WG * APPLY_PER_LANE + lid.x;
  let end = min(first + APPLY_PER_LANE * WG, seg[T_N]);
  for (var i = first; i < end; i += WG) {
    let at = seg[T_P] + i;
    let m = gp.beta1 * gap_m[at] + gp.one_minus_beta1 * group_update(i, gap_g[at]);
    gap_m[at] = m;
    group_write(at, m);
  }
}
