// Kernel family `optim`: hosts src/optim/{sgd,adamw,adafactor}.ts, float64 references
// test/ref/optim.ts, tests test/optim/*.test.ts (through test/optim/harness.ts), benchmark
// bench/optim.ts.
//
// Variants: sgd; sgd_momentum with NESTEROV off and on; adamw; Adafactor's adafactor_cols (SQUARE
// on, or after adafactor_col_chunks for tall matrices), adafactor_rows, adafactor_vector
// (unfactored), adafactor_scalars (FACTORED, SCALE_PARAMETER), adafactor_apply and
// adafactor_apply_momentum.
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
