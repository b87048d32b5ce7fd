// Kernel family `dropout`: host src/ops/dropout.ts, reference test/ref/dropout.ts (host Philox),
// test test/ops/dropout.test.ts, benchmark bench/dropout.ts.
//
// Variants: main, for the forward and (on the gradient) the backward; add_main, residual +
// dropout(x) in one pass (a pre-norm block's residual update while training), whose backward is
// main on the gradient.
//
// Measured, --quick run of 2026-12-07
// (bench/results/dropout-2026-12-07T*.json; lavapipe on 2 cores shared with other jobs, so
// sub-millisecond times sit near the timestamps' 65.5 us resolution):
// 65 536 elements in 0.5 ms GPU (1 GB/s) at p 0.1 and 0.5.
//
// Dropout with a counter-based RNG: Philox4x32-10 (Salmon et al., "Parallel random numbers: as
// easy as 1, 2, 3", SC'11; the generator of cuRAND and PyTorch's CUDA dropout). The mask is a pure
// function of (seed, offset, element index), so nothing is stored on the GPU and the VJP
// regenerates the mask by running this same kernel on the gradient.
//
// Element i uses word i % 4 of Philox(counter = (i / 4, offset, 0, 0), key = seed); each
// invocation computes one block and handles its four elements. An element is kept when its word
// is >= threshold = round(p * 2^32), i.e. with probability 1 - p, and scaled by 1 / (1 - p).
// Params: declared in src/ops/dropout.ts (DROPOUT_PARAMS), appended when the pipeline is created.
@group(0) @binding(0) var<uniform> p: Params;
@group(0) @binding(1) var<storage, read> x: array<f32>;
@group(0) @binding(2) var<storage, read_write> y: array<f32>;

override WG: u32 = 256;

const M0: u32 = 0xD2511F53u;
const M1: u32 = 0xCD9E8D57u;
const W0: u32 = 0x9E3779B9u;
const W1: u32 = 0xBB67AE85u;

// The high 32 bits of the 64-bit product a * b, from 16-bit halves (WGSL has no 64-bit integers).
fn mul_hi(a: u32, b: u32) -> u32 {
  let a0 = a & 0xFFFFu;
  let a1 = a >> 16u;
  let b0 = b & 0xFFFFu;
  let b1 = b >> 16u;
  let lo_lo = a0 * b0;
  let lo_hi = a0 * b1;
  let hi_lo = a1 * b0;
  let mid = (lo_lo >> 16u) + (lo_hi & 0xFFFFu) + (hi_lo & 0xFFFFu);
  return a1 * b1 + (lo_hi >> 16u) + (hi_lo >> 16u) + (mid >> 16u);
}

fn philox(counter: vec4u, key: vec2u) -> vec4u {
  var c = counter;
  var k = key;
  for (var round = 0u; round < 10u; round++) {
    let hi0 = mul_hi(M0, c.x);
    let hi1 = mul_hi(M1, c.z);
    c = vec4u(hi1 ^ c.y ^ k.x, M1 * c.z, hi0 ^ c.w ^ k.y, M0 * c.x);
    k += vec2u(W0, W1);
  }
  return c;
}

// The four words of an invocation's block: element first + e uses word e.
fn block_words(block: u32) -> vec4u { return philox(vec4u(block, p.offset, 0u, 0u), vec2u(p.seed_lo, p.seed_hi)); }

fn dropped(v: f32, word: u32) -> f32 { return select(0.0, v * p.scale, word >= p.threshold); }

@compute @workgroup_size(WG)
fn main(@builtin(global_invocation_id) gid: vec3u, @builtin(num_workgroups) nwg: vec3u) {
  let block = gid.x + gid.y * nwg.x * WG;
  let first = block * 4u;
  if (first >= p.n) { return; }
  let words = block_words(block);
  for (var e = 0u; e < 4u; e++) {
    let i = first + e;
    if (i < p.n) { y[i] = dropped(x[i], words[e]); }
  }
}

// residual + dropout(x): the sum binary_main's add computes from dropout's output, bit for bit.
@group(0) @binding(2) var<storage, read> residual: array<f32>;
@group(0) @binding(3) var<storage, read_write> sum_out: array<f32>;

@compute @workgroup_size(WG)
fn add_main(@builtin(global_invocation_id) gid: vec3u, @builtin(num_workgroups) nwg: vec3u) {
  let block = gid.x + gid.y * nwg.x * WG;
  let first = block * 4u;
  if (first >= p.n) { return; }
  let words = block_words(block);
  for (var e = 0u; e < 4u; e++) {
    let i = first + e;
    if (i < p.n) { sum_out[i] = residual[i] + dropped(x[i], words[e]); }
  }
}
