// Counts the NaN and the infinite values of up to 7 tensors in one dispatch: the training loop's
// finiteness check of a step's loss, gradients and updated parameters. Each workgroup scans one
// chunk of WG * ITEMS elements of one tensor (workgroups [start[k], start[k+1]) belong to tensor
// k) and adds its counts to counts[2 * (slot + k)] (NaN) and counts[2 * (slot + k) + 1] (+-Inf).
// Values are classified by their bits, which no compiler may assume away as it may a `v != v`.
// Unused bindings repeat a used tensor with size 0.
// Params: declared in src/ops/finite.ts (FINITE_PARAMS), appended when the pipeline is created.
@group(0) @binding(0) var<uniform> p: Params;
@group(0) @binding(1) var<storage, read> x0: array<u32>;
@group(0) @binding(2) var<storage, read> x1: array<u32>;
@group(0) @binding(3) var<storage, read> x2: array<u32>;
@group(0) @binding(4) var<storage, read> x3: array<u32>;
@group(0) @binding(5) var<storage, read> x4: array<u32>;
@group(0) @binding(6) var<storage, read> x5: array<u32>;
@group(0) @binding(7) var<storage, read> x6: array<u32>;
@group(0) @binding(8) var<storage, read_write> counts: array<atomic<u32>>;

override WG: u32 = 256;
override ITEMS: u32 = 16;

fn bits_of(k: u32, i: u32) -> u32 {
  switch k {
    case 0u: { return x0[i]; }
    case 1u: { return x1[i]; }
    case 2u: { return x2[i]; }
    case 3u: { return x3[i]; }
    case 4u: { return x4[i]; }
    case 5u: { return x5[i]; }
    default: { return x6[i]; }
  }
}

fn start(k: u32) -> u32 { return p.start[k / 4u][k % 4u]; }
fn size(k: u32) -> u32 { return p.size[k / 4u][k % 4u]; }

var<workgroup> nans: atomic<u32>;
var<workgroup> infs: atomic<u32>;

@compute @workgroup_size(WG)
fn main(@builtin(local_invocation_id) lid: vec3u, @builtin(workgroup_id) wid: vec3u, @builtin(num_workgroups) nwg: vec3u) {
  let w = wid.x + wid.y * nwg.x;
  if (w >= start(7u)) { return; }
  var k = 0u;
  while (k < 6u && w >= start(k + 1u)) { k++; }
  if (lid.x == 0u) {
    atomicStore(&nans, 0u);
    atomicStore(&infs, 0u);
  }
  workgroupBarrier();
  let n = size(k);
  let begin = (w - start(k)) * WG * ITEMS;
  var nan = 0u;
  var inf = 0u;
  for (var j = 0u; j < ITEMS; j++) {
    let i = begin + j * WG + lid.x;
    if (i < n) {
      let b = bits_of(k, i);
      if ((b & 0x7f800000u) == 0x7f800000u) {
        if ((b & 0x7fffffu) != 0u) { nan++; } else { inf++; }
      }
    }
  }
  if (nan > 0u) { atomicAdd(&nans, nan); }
  if (inf > 0u) { atomicAdd(&infs, inf); }
  workgroupBarrier();
  if (lid.x == 0u) {
    let a = atomicLoad(&nans);
    let b = atomicLoad(&infs);
    if (a > 0u) { atomicAdd(&counts[2u * (p.slot + k)], a); }
    if (b > 0u) { atomicAdd(&counts[2u * (p.slot + k) + 1u], b); }
  }
}
