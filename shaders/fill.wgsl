// Kernel family `fill`: host src/ops/fill.ts, reference test/ref/fill.ts, test
// test/ops/fill.test.ts, benchmark bench/fill.ts.
//
// Variants: main, the one kernel, for f32 and i32 alike.
//
// Measured, --quick run of 2026-12-07
// (bench/results/fill-2026-12-07T*.json; lavapipe on 2 cores shared with other jobs, so
// sub-millisecond times sit near the timestamps' 65.5 us resolution):
// 262 144 elements in 1.1-1.6 ms GPU.
//
// Fills a buffer with one value (its bit pattern, so f32 and i32 share the kernel).
// Params: declared in src/ops/fill.ts (FILL_PARAMS), appended when the pipeline is created.
@group(0) @binding(0) var<uniform> p: Params;
@group(0) @binding(1) var<storage, read_write> out: array<u32>;

override WG: u32 = 256;

@compute @workgroup_size(WG)
fn main(@builtin(global_invocation_id) gid: vec3u, @builtin(num_workgroups) nwg: vec3u) {
  let i = gid.x + gid.y * nwg.x * WG;
  if (i < p.n) { out[i] = p.bits; }
}
