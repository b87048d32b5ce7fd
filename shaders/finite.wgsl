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

// NaN and infinity counts of this invocation's elements of chunk `begin` of src (n elements).
fn count(src: ptr<storage, array<u32>, read>, begin: u32, n: u32, lane: u32) -> vec2u {
  var c = vec2u(0u);
  for (var j = 0u; j < ITEMS; j++) {
    let i = begin + j * WG + lane;
    if (i < n) {
      let b = (*src)[i];
      if ((b & 0x7f800000u) == 0x7f800000u) {
        if ((b & 0x7fffffu) != 0u) { c.x++; } else { c.y++; }
      }
    }
  }
  return c;
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
  // One switch per invocation, outside the loop: a binding cannot be indexed.
  var c: vec2u;
  switch k {
    case 0u: { c = count(&x0, begin, n, lid.x); }
    case 1u: { c = count(&x1, begin, n, lid.x); }
    case 2u: { c = count(&x2, begin, n, lid.x); }
    case 3u: { c = count(&x3, begin, n, lid.x); }
    case 4u: { c = count(&x4, begin, n, lid.x); }
    case 5u: { c = count(&x5, begin, n, lid.x); }
    default: { c = count(&x6, begin, n, lid.x); }
  }
  let nan = c.x;
  let inf = c.y;
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
