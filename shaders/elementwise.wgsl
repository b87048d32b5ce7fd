// Kernel family `elementwise`: host src/ops/elementwise.ts, float64 reference
// test/ref/elementwise.ts, test test/ops/elementwise.test.ts, benchmark bench/elementwise.ts.
//
// Variants: unary_main and unary_backward, each specialised by OP (15 unary ops: a pipeline
// each); binary_main by OP (7 arithmetic ops and the comparisons equal, greater, less) with
// BROADCAST off (equal shapes) or on; gated_main and gated_backward (f(a) * b, T5 v1.1's gated
// feed-forward) by the OP of f.
//
// Measured, --quick run of 2026-12-07
// (bench/results/elementwise-2026-12-07T*.json; lavapipe on 2 cores shared with other jobs, so
// sub-millisecond times sit near the timestamps' 65.5 us resolution):
// over 65 536 elements a unary op is 0.3-1.6 ms GPU (about 1 GB/s), binary on equal shapes
// 0.4-1.6 ms, binary with BROADCAST 3.7-7.0 ms: the broadcast index arithmetic over 8 axes costs
// several times the plain one on lavapipe.
//
// Elementwise kernels. The operation is an override constant, so each op compiles to its own
// straight-line pipeline with the switch folded away. The UNARY_* and BINARY_* op codes are
// generated from the table in src/ops/elementwise.ts and appended to this source, with
// shaders/activation.wgsl (relu, gelu, tanh, sigmoid, which the matmul epilogue shares).

// Params: declared in src/ops/elementwise.ts (ELEMENTWISE_PARAMS), appended when the pipeline is created.

@group(0) @binding(0) var<uniform> p: Params;

override OP: u32 = 0;
override BROADCAST: bool = false;
override WG: u32 = 256;

// WGSL leaves max/min of a NaN unspecified (the GPU may return the other operand); the float64
// reference and torch return NaN. The bits decide, which no compiler may fold away.
fn is_nan(x: f32) -> bool { return (bitcast<u32>(x) & 0x7fffffffu) > 0x7f800000u; }

fn unary(x: f32) -> f32 {
  switch OP {
    case UNARY_NEG: { return -x; }
    case UNARY_EXP: { return exp(x); }
    case UNARY_LOG: { return log(x); }
    case UNARY_SQRT: { return sqrt(x); }
    case UNARY_RSQRT: { return inverseSqrt(x); }
    case UNARY_RELU, UNARY_GELU, UNARY_TANH, UNARY_SIGMOID: { return activate(OP, x); }
    case UNARY_ABS: { return abs(x); }
    case UNARY_SQUARE: { return x * x; }
    case UNARY_SCALE: { return x * p.alpha; }
    case UNARY_SHIFT: { return x + p.alpha; }
    case UNARY_POW_SCALAR: { return pow(x, p.alpha); }
    case UNARY_RECIPROCAL: { return 1.0 / x; }
    default: { return x; }
  }
}

// d unary / dx, given the input x and the output y.
fn unary_grad(x: f32, y: f32) -> f32 {
  switch OP {
    case UNARY_NEG: { return -1.0; }
    case UNARY_EXP: { return y; }
    case UNARY_LOG: { return 1.0 / x; }
    case UNARY_SQRT: { return 0.5 / y; }
    case UNARY_RSQRT: { return -0.5 * y * y * y; }
    case UNARY_RELU: { return select(0.0, 1.0, x > 0.0); }
    case UNARY_GELU: {
      let t = safe_tanh(SQRT_2_OVER_PI * (x + GELU_C * x * x * x));
      return 0.5 * (1.0 + t) + 0.5 * x * (1.0 - t * t) * SQRT_2_OVER_PI * (1.0 + 3.0 * GELU_C * x * x);
    }
    case UNARY_TANH: { return 1.0 - y * y; }
    case UNARY_SIGMOID: { return y * (1.0 - y); }
    case UNARY_ABS: { return sign(x); }
    case UNARY_SQUARE: { return 2.0 * x; }
    case UNARY_SCALE: { return p.alpha; }
    case UNARY_SHIFT: { return 1.0; }
    case UNARY_POW_SCALAR: { return p.alpha * pow(x, p.alpha - 1.0); }
    case UNARY_RECIPROCAL: { return -y * y; }
    default: { return 1.0; }
  }
}

fn binary(a: f32, b: f32) -> f32 {
  switch OP {
    case BINARY_ADD: { return a + b; }
    case BINARY_SUB: { return a - b; }
    case BINARY_MUL: { return a * b; }
    case BINARY_DIV: { return a / b; }
    case BINARY_POW: { return pow(a, b); }
    case BINARY_MAXIMUM: { return select(max(a, b), a + b, is_nan(a) || is_nan(b)); }
    case BINARY_MINIMUM: { return select(min(a, b), a + b, is_nan(a) || is_nan(b)); }
    case BINARY_EQUAL: { return select(0.0, 1.0, a == b); }
    case BINARY_GREATER: { return select(0.0, 1.0, a > b); }
    case BINARY_LESS: { return select(0.0, 1.0, a < b); }
    default: { return a; }
  }
}

fn dim(v: array<vec4u, 2>, i: u32) -> u32 { return v[i / 4u][i % 4u]; }

fn flat_index(gid: vec3u, nwg: vec3u) -> u32 { return gid.x + gid.y * nwg.x * WG; }

@group(0) @binding(1) var<storage, read> x_in: array<f32>;
@group(0) @binding(2) var<storage, read_write> y_out: array<f32>;

@compute @workgroup_size(WG)
fn unary_main(@builtin(global_invocation_id) gid: vec3u, @builtin(num_workgroups) nwg: vec3u) {
  let i = flat_index(gid, nwg);
  if (i < p.n) { y_out[i] = unary(x_in[i]); }
}

// Unary backward: dx = g * f'(x, y).
@group(0) @binding(1) var<storage, read> ub_x: array<f32>;
@group(0) @binding(2) var<storage, read> ub_y: array<f32>;
@group(0) @binding(3) var<storage, read> ub_g: array<f32>;
@group(0) @binding(4) var<storage, read_write> ub_dx: array<f32>;

@compute @workgroup_size(WG)
fn unary_backward(@builtin(global_invocation_id) gid: vec3u, @builtin(num_workgroups) nwg: vec3u) {
  let i = flat_index(gid, nwg);
  if (i < p.n) { ub_dx[i] = ub_g[i] * unary_grad(ub_x[i], ub_y[i]); }
}

// Binary with NumPy broadcasting: strides of 0 repeat an input along an axis.
@group(0) @binding(1) var<storage, read> b_a: array<f32>;
@group(0) @binding(2) var<storage, read> b_b: array<f32>;
@group(0) @binding(3) var<storage, read_write> b_out: array<f32>;

@compute @workgroup_size(WG)
fn binary_main(@builtin(global_invocation_id) gid: vec3u, @builtin(num_workgroups) nwg: vec3u) {
  let i = flat_index(gid, nwg);
  if (i >= p.n) { return; }
  if (!BROADCAST) {
    b_out[i] = binary(b_a[i], b_b[i]);
    return;
  }
  var rem = i;
  var ia = 0u;
  var ib = 0u;
  for (var d = i32(p.rank) - 1; d >= 0; d--) {
    let size = dim(p.shape, u32(d));
    let c = rem % size;
    rem = rem / size;
    ia += c * dim(p.a_strides, u32(d));
    ib += c * dim(p.b_strides, u32(d));
  }
  b_out[i] = binary(b_a[ia], b_b[ib]);
}

// Gated unary, y = f(a) * b over equal shapes, and its backward da = (g * b) * f'(a, f(a)),
// db = g * f(a): the float operations of unary_main, binary_main (mul) and their backwards in one
// pass each, so the results are those of the composite bit for bit.
@group(0) @binding(1) var<storage, read> gt_a: array<f32>;
@group(0) @binding(2) var<storage, read> gt_b: array<f32>;
@group(0) @binding(3) var<storage, read_write> gt_out: array<f32>;

@compute @workgroup_size(WG)
fn gated_main(@builtin(global_invocation_id) gid: vec3u, @builtin(num_workgroups) nwg: vec3u) {
  let i = flat_index(gid, nwg);
  if (i < p.n) { gt_out[i] = unary(gt_a[i]) * gt_b[i]; }
}

@group(0) @binding(3) var<storage, read> gb_g: array<f32>;
@group(0) @binding(4) var<storage, read_write> gb_da: array<f32>;
@group(0) @binding(5) var<storage, read_write> gb_db: array<f32>;

@compute @workgroup_size(WG)
fn gated_backward(@builtin(global_invocation_id) gid: vec3u, @builtin(num_workgroups) nwg: vec3u) {
  let i = flat_index(gid, nwg);
  if (i >= p.n) { return; }
  let x = gt_a[i];
  let y = unary(x);
  let g = gb_g[i];
  gb_da[i] = (g * gt_b[i]) * unary_grad(x, y);
  gb_db[i] = g * y;
}
