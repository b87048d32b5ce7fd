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
