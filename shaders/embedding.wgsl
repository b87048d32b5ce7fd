// Kernel family `embedding`: host src/ops/embedding.ts (also layout's gatherRows), float64
// reference test/ref/embedding.ts, test test/ops/embedding.test.ts, benchmark bench/embedding.ts.
//
// Variants: gather (rows of any width) and gather4 (widths a multiple of 4); the backward's
// histogram, scan, rank_scatter, then accumulate or accumulate4.
//
// Measured, --quick run of 2026-12-07
// (bench/results/embedding-2026-12-07T*.json; lavapipe on 2 cores shared with other jobs, so
// sub-millisecond times sit near the timestamps' 65.5 us resolution):
// 228 ids into [4096, 512]: gather4 2.0 ms GPU, gather at width 509 2.4 ms; the deterministic
// backward (forward and loss ops included) 41 ms (accumulate4) and 66 ms (accumulate).
//
// Row gather (embedding lookup) and its scatter-add backward.
//
// The backward pass must be deterministic, so it uses no float atomics: a stable counting sort of
// the positions by row, then one invocation per table element that sums its row's positions in
// ascending order. The sort is four steps:
//   histogram     counts[row] += 1 per position (u32 atomics: the counts do not depend on order)
//   scan          starts = exclusive prefix sum of counts, by one workgroup
//   rank_scatter  one workgroup walks the positions in blocks of WG, in order: each position's rank
//                 among equal rows of its block comes from comparing with the earlier lanes, and
//                 the block's first occurrence of a row advances that row's cursor. Positions of a
//                 row thus land in ascending order, and the cursors end as the rows' ends.
//   accumulate    table_grad[row, d] = sum of grad[pos, d] over the row's positions (every element
//                 of the table is written, so no zero fill is needed)
// Ids outside [0, vocab) are clamped to the nearest row on the GPU: nothing reads or writes out of
// bounds. Hosts that hold the ids check them first (checkIds in src/ops/embedding.ts).
// Params: declared in src/ops/embedding.ts (EMBEDDING_PARAMS), appended when the pipeline is created.
@group(0) @binding(0) var<uniform> p: Params;

override WG: u32 = 256;

fn row_of(id: i32) -> u32 { return u32(clamp(id, 0, i32(p.vocab) - 1)); }

fn flat_index(gid: vec3u, nwg: vec3u) -> u32 { return gid.x + gid.y * nwg.x * WG; }

// Gather: out[pos, d] = table[row(ids[pos]), d], copying 32-bit words (f32 or i32 tables).
// `dim` counts words of the element type: gather4 moves vec4s when the row length allows.
@group(0) @binding(1) var<storage, read> g_table: array<u32>;
@group(0) @binding(2) var<storage, read> g_ids: array<i32>;
@group(0) @binding(3) var<storage, read_write> g_out: array<u32>;

@compute @workgroup_size(WG)
fn gather(@builtin(global_invocation_id) gid: vec3u, @builtin(num_workgroups) nwg: vec3u) {
  let i = flat_index(gid, nwg);
  if (i >= p.n * p.dim) { return; }
  g_out[i] = g_table[row_of(g_ids[i / p.dim]) * p.dim + i % p.dim];
}

@group(0) @binding(1) var<storage, read> g4_table: array<vec4u>;
@group(0) @binding(2) var<storage, read> g4_ids: array<i32>;
@group(0) @binding(3) var<storage, read_write> g4_out: array<vec4u>;

@compute @workgroup_size(WG)
fn gather4(@builtin(global_invocation_id) gid: vec3u, @builtin(num_workgroups) nwg: vec3u) {
  let i = flat_index(gid, nwg);
  if (i >= p.n * p.dim) { return; }
  g4_out[i] = g4_table[row_of(g4_ids[i / p.dim]) * p.dim + i % p.dim];
}

@group(0) @binding(1) var<storage, read> h_ids: array<i32>;
@group(0) @binding(2) var<storage, read_write> h_counts: array<atomic<u32>>;

@compute @workgroup_size(WG)
fn histogram(@builtin(global_invocation_id) gid: vec3u, @builtin(num_workgroups) nwg: vec3u) {
  let i = flat_index(gid, nwg);
  if (i < p.n) { atomicAdd(&h_counts[row_of(h_ids[i])], 1u); }
}

var<workgroup> partial: array<u32, WG>;

// One workgroup: each lane sums a contiguous run of counts, the lanes' totals are scanned in
// workgroup memory, then each lane writes its run's exclusive prefix.
@group(0) @binding(1) var<storage, read> s_counts: array<u32>;
@group(0) @binding(2) var<storage, read_write> s_starts: array<u32>;

@compute @workgroup_size(WG)
fn scan(@builtin(local_invocation_id) lid: vec3u) {
  let per = (p.vocab + WG - 1u) / WG;
  let lo = min(lid.x * per, p.vocab);
  let hi = min(lo + per, p.vocab);
  var total = 0u;
  for (var k = lo; k < hi; k++) { total += s_counts[k]; }
  partial[lid.x] = total;
  workgroupBarrier();
  for (var off = 1u; off < WG; off <<= 1u) {
    var v = 0u;
    if (lid.x >= off) { v = partial[lid.x - off]; }
    workgroupBarrier();
    partial[lid.x] += v;
    workgroupBarrier();
  }
  var run = partial[lid.x] - total;
  for (var k = lo; k < hi; k++) {
    s_starts[k] = run;
    run += s_counts[k];
  }
}

@group(0) @binding(1) var<storage, read> r_ids: array<i32>;
@group(0) @binding(2) var<storage, read_write> r_cursor: array<u32>;
@group(0) @binding(3) var<storage, read_write> r_sorted: array<u32>;

// One workgroup; `partial` holds the rows of the current block.
@compute @workgroup_size(WG)
fn rank_scatter(@builtin(local_invocation_id) lid: vec3u) {
  for (var base = 0u; base < p.n; base += WG) {
    let pos = base + lid.x;
    let valid = pos < p.n;
    // Lanes past the end get a row no real position has (vocab < 2^31).
    var row = 0xffffffffu;
    if (valid) { row = row_of(r_ids[pos]); }
    partial[lid.x] = row;
    workgroupBarrier();
    let lanes = min(WG, p.n - base);
    var before = 0u;
    var total = 0u;
    for (var q = 0u; q < lanes; q++) {
      let same = u32(partial[q] == row);
      total += same;
      before += select(0u, same, q < lid.x);
    }
    var start = 0u;
    if (valid) { start = r_cursor[row]; }
    // Every lane of a row reads its cursor before the row's first lane advances it.
    storageBarrier();
    if (valid) {
      r_sorted[start + before] = pos;
      if (before == 0u) { r_cursor[row] = start + total; }
    }
    storageBarrier();
    workgroupBarrier();
  }
}

// Each invocation owns one table element (accumulate) or one vec4 of a row (accumulate4) and sums
// the gradient rows of its row's positions in ascending position order.
@group(0) @binding(1) var<storage, read> a_grad: array<f32>;
@group(0) @binding(2) var<storage, read> a_sorted: array<u32>;
@group(0) @binding(3) var<storage, read> a_ends: array<u32>;
@group(0) @binding(4) var<storage, read> a_counts: array<u32>;
@group(0) @binding(5) var<storage, read_write> a_table: array<f32>;

@compute @workgroup_size(WG)
fn accumulate(@builtin(global_invocation_id) gid: vec3u, @builtin(num_workgroups) nwg: vec3u) {
  let i = flat_index(gid, nwg);
  if (i >= p.vocab * p.dim) { return; }
  let row = i / p.dim;
  let d = i % p.dim;
  let end = a_ends[row];
  var acc = 0.0;
  for (var k = end - a_counts[row]; k < end; k++) { acc += a_grad[a_sorted[k] * p.dim + d]; }
  a_table[i] = acc;
}

@group(0) @binding(1) var<storage, read> a4_grad: array<vec4f>;
@group(0) @binding(2) var<storage, read> a4_sorted: array<u32>;
@group(0) @binding(3) var<storage, read> a4_ends: array<u32>;
@group(0) @binding(4) var<storage, read> a4_counts: array<u32>;
@group(0) @binding(5) var<storage, read_write> a4_table: array<vec4f>;

@compute @workgroup_size(WG)
fn accumulate4(@builtin(global_invocation_id) gid: vec3u, @builtin(num_workgroups) nwg: vec3u) {
  let i = flat_index(gid, nwg);
  if (i >= p.vocab * p.dim) { return; }
  let row = i / p.dim;
  let d = i % p.dim;
  let end = a4_ends[row];
  var acc = vec4f(0.0);
  for (var k = end - a4_counts[row]; k < end; k++) { acc += a4_grad[a4_sorted[k] * p.dim + d]; }
  a4_table[i] = acc;
}
