// Kernel family `matmul`: host src/ops/matmul.ts (+ src/gpu/tune.ts), float64 reference
// test/ref/matmul.ts, test test/ops/matmul.test.ts, benchmark bench/matmul.ts
// (`npm run bench -- matmul`, which checks every variant against the reference before timing it).
//
// Variants (entry points; the host picks one per shape class and adapter, or the tuner does):
// mm_tiled, splitk (mm_tiled over z = batch x split, then mm_splitk_sum), mm_shared, mm_subgroup,
// mm_uniform (with mm_pack), dual (mm_dual / mm_dual4 with mm_pack_a / mm_pack_a4 / mm_pack_at4
// and mm_pack / mm_pack4). Described below.
//
// Measured (lavapipe, 2 cores, 2026-11-25 11:25, load 4.0 -> 5.1, matmul-2026-11-25T11-25-31.json;
// the variant the tuner chose, against tfjs-webgpu on the same device and OpenBLAS through NumPy):
//   shape                         chosen    gpu GFLOP/s  vs tfjs (wall)  vs NumPy (wall)
//   1024 x 1024 x 1024            uniform   15.3         4.45x faster    0.26x
//   [1824,512] x [512,512]        uniform   14.6         4.78x           0.23x
//   [1824,512] x [512,2048]       uniform   19.6         5.22x           0.23x
//   [1824,2048] x [512,2048]^T    uniform   15.1         6.39x           0.20x
//   [1824,512]^T x [1824,2048]    uniform   13.1         5.33x           0.19x
//   [8,512] x [512,512]           subgroup   5.8         8.72x           0.05x
// On 1024^3 in the --quick run of 2026-12-07 (heavier load): uniform 488 ms GPU, tiled 1 009,
// splitk 1 307, subgroup 1 183, shared 3 034 (workgroup memory is slow on lavapipe).
//
// Version ladder (T5 prompt tuning, docs/BENCHMARKS.md):
//   batch folding: the decoder's [8, 8, 512] x [512, n] products and the vocabulary head's gradient
//   [8, 8, 32128] x [32128, 512] ran as 8 products of 8 rows; as one [64, ...] product the latter
//   went from 387 to 287 ms (same run, 2026-11-25 12:43).
//   uniform windows: one dispatch per 64 KiB window of panels (grid z over its column blocks)
//   instead of one per 16-column panel. At K = 128 a window holds 8 panels: the pretraining step's
//   lm_head [512,128] x [128,8192] went from 513 dispatches to 65 (CPU time 265-273 -> 183-187 ms,
//   load 9-10), the whole step from 2284 to 1521 dispatches (bench/pretrain.ts, docs/BENCHMARKS.md).
//   where mm_uniform's time goes (2026-12-07, load 2.5-4; a copy with one part cut, timed in turns
//   with mm_uniform in one process, 5 rounds, median GPU GFLOP/s, copy / mm_uniform): a quarter of
//   the k loop 17.6 / 6.7 at [2048,128]x[128,384] (the loop is ~80% of the time even at K = 128);
//   six of an iteration's eight A gathers gone 12.4 / 8.7 ([1824,512]x[512,512]: 15.9 / 10.5);
//   no stores 9.7 / 8.1 (at K = 512: 8.9 / 9.0); the broadcasts gone 8.6 / 9.1 (free); an empty
//   kernel 123 / 5.3. A's gathers dominate; K is no factor as such (paired K sweep at 2048 rows x
//   384: K 128, 512, 1024 -> 5.0, 4.7, 5.7). Tried, not kept: four rows a lane (same gathers per
//   FMA) 7.55 / 7.92; two panels (32 columns) a lane, half the gathers per FMA, 1.0-1.25x on
//   isolated products but not proven on the pretraining step (docs/BENCHMARKS.md, issue 15).
//   dual windows (issue 15, 2026-12-08): what the JIT makes of mm_uniform (perf on the process,
//   the hot code disassembled through gdb): its 4-k loop is ~3,000 instructions for 128 vector
//   multiplies and 128 adds (no FMA contraction). A storage load is a loop over the 8 lanes
//   (exec-mask test, the descriptor's base and size reloaded, bounds compare and branch, load,
//   insert), ~190 instructions per 8-lane gather; a uniform-buffer gather is branch-free (extract,
//   load, insert), ~25. mm_dual reads A through uniform windows as well: ~1,200 instructions a
//   4-k loop (9.5 per vector FMA against 23), the rest mostly spills of the 32 accumulators.
//   Paired in one process on the pretraining step (bench/pretrain.ts, replayed, 9 rounds, load
//   4.3 -> 3.3): main's choices 2,603 ms, dual 2,071 ms, 0.796 wall / 0.806 CPU (1.26x); alone at
//   the step's shapes (GPU GFLOP/s, uniform / dual, load 3.3 -> 2.3): [2048,128]x[128,384] 9.06 /
//   10.41, lm_head [512,128]x[128,8192] 7.09 / 9.43, its dW [512,128]^T x [512,8192] 5.44 / 10.77;
//   1024^3 252 / 214 GPU ms once the chunk length weighs the passes that add into C (16 passes
//   before: 376 / 401).
//   Tried, not kept: lanes over columns with A at a lane-uniform address (Mesa 25.0 has no scalar
//   load inside a loop: every such load is a full gather; 0.3-0.9 GFLOP/s); A as vec4 in
//   mm_uniform (1.0-1.5x, superseded); dual with 2 rows x 8 columns a lane (16 accumulators, no
//   spills but twice the gathers per FMA: 13.4 instructions per vector FMA); fma() in dual's
//   update (paired 0.876 / 0.874 on the step, within the runs' spread).
//
// Batched matrix multiplication C[z] = op(A)[z] x op(B)[z] in f32, in several variants chosen per
// shape and per adapter by src/ops/matmul.ts (and src/gpu/tune.ts). op() is a transpose or not:
// the host passes element strides of op(A) along (m, k) and of op(B) along (k, n), so no variant
// materialises a transpose. C is contiguous [batch, M, N] (split-K: [split, batch, M, N]).
//
// Epilogue (every variant, specialised by overrides, so a plain product compiles without it):
// C = act(op(A) op(B) + bias[n]) or op(A) op(B) + bias[n] + R[m, n] (BIAS, RESIDUAL, ACT from
// shaders/activation.wgsl); `accumulate` makes it C = C + op(A) op(B) (ACCUMULATE in the one-pass
// kernels, p.accum in mm_uniform and mm_dual, whose later K passes add into C anyway): each output
// is read and written by the invocation that computed it, so no atomics. The variants that write C
// in several dispatches (split-K's reduction mm_splitk_sum; mm_uniform's and mm_dual's K passes)
// run the epilogue only in the dispatch that writes the final value (p.last).
//
// Variants:
//   mm_tiled     portable register tiling: each invocation computes a 4x4 block straight from
//                storage; also the split-K variant (z = batch x split, partial sums reduced after
//                by mm_splitk_sum, which runs the epilogue).
//   mm_shared    workgroup-memory tiling (64x64 tile, 16x16 invocations of 4x4) for real GPUs,
//                where coalesced tile loads and on-chip reuse win.
//   mm_pack      packs op(B) into 16-column panels for mm_uniform (below the subgroup marker).
//   mm_subgroup  lanes over columns; A values are loaded once per 8 k and handed out with
//                subgroupBroadcast, so a lane's only per-k load is its own B vector.
//   mm_uniform   software adapters (lavapipe): B comes through a 64 KiB uniform-buffer panel, each
//                lane of an 8-lane subgroup loads a quarter row of it and subgroupBroadcast hands
//                it to the others; every lane owns two rows of A and 16 columns.
//   mm_dual      mm_uniform's tile with A through uniform windows too: op(A) packed into windows of
//                [rb][kp] (mm_pack_a; mm_pack_a4 for contiguous rows, mm_pack_at4 for a transposed
//                A in 4 x 4 blocks), op(B) into panels of [kp][16] (mm_pack, mm_pack4 row-major),
//                four K chunks of both per dispatch (8 of the 12 uniform bindings), so that a
//                short K fills a dispatch; mm_dual4 stores vec4s where N % 4 == 0.
// On lavapipe every storage load is a per-lane loop with a bounds branch (~190 instructions for
// 8 lanes, the costliest thing a kernel does there), a uniform-buffer gather is branch-free (~25),
// a broadcast is a shuffle, and every loop-carried variable is blended with the loop mask once per
// iteration: the lavapipe kernels read through uniform buffers, load as little per FMA as they
// can and fold several k into each accumulator update.

// Params: declared in src/ops/matmul.ts (MATMUL_PARAMS), appended when the pipeline is created.

@group(0) @binding(0) var<uniform> p: Params;

override WG: u32 = 64;

// ---- epilogue: bindings 1 and 2 of every product kernel (the host binds a dummy when unused) ----
override EPILOGUE: bool = false;
override BIAS: bool = false;
override RESIDUAL: bool = false;
override ACT: u32 = ACT_NONE;
override ACCUMULATE: bool = false;
const ACT_NONE: u32 = 4294967295u;

@group(0) @binding(1) var<storage, read> ep_bias: array<f32>;
@group(0) @binding(2) var<storage, read> ep_res: array<f32>;
@group(0) @binding(1) var<storage, read> ep_bias4: array<vec4f>;
@group(0) @binding(2) var<storage, read> ep_res4: array<vec4f>;

// The final value of output element `at` (column n) from its sum v: bias, residual, activation.
fn epilogue(v: f32, at: u32, n: u32) -> f32 {
  if (!EPILOGUE) { return v; }
  var x = v;
  if (BIAS) { x += ep_bias[n]; }
  if (RESIDUAL) { x += ep_res[at]; }
  return activate(ACT, x);
}

// The same for four columns: vec4 `at4` of the output, columns 4 n4 .. 4 n4 + 3.
fn epilogue4(v: vec4f, at4: u32, n4: u32) -> vec4f {
  if (!EPILOGUE) { return v; }
  var x = v;
  if (BIAS) { x += ep_bias4[n4]; }
  if (RESIDUAL) { x += ep_res4[at4]; }
  return vec4f(activate(ACT, x.x), activate(ACT, x.y), activate(ACT, x.z), activate(ACT, x.w));
}

// Element offsets of A and B for output matrix z (NumPy broadcasting over the batch dims).
fn batch_offsets(z: u32) -> vec2u {
  var rem = z;
  var off = vec2u(0u);
  for (var d = 3; d >= 4 - i32(p.rank); d--) {
    let size = p.bshape[d];
    let c = rem % size;
    rem = rem / size;
    off += c * vec2u(p.abatch[d], p.bbatch[d]);
  }
  return off;
}

// ---- mm_tiled (and split-K) --------------------------------------------------------------------
@group(0) @binding(3) var<storage, read> ta: array<f32>;
@group(0) @binding(4) var<storage, read> tb: array<f32>;
@group(0) @binding(5) var<storage, read_write> tc: array<f32>;

// 8x8 invocations of 4x4: a workgroup covers 32x32 outputs. Out-of-range rows and columns load a
// clamped (valid) element and are never stored, so the inner loop has no branches.
@compute @workgroup_size(8, 8)
fn mm_tiled(@builtin(workgroup_id) wid: vec3u, @builtin(local_invocation_id) lid: vec3u) {
  let zb = wid.z / p.split;
  let s = wid.z % p.split;
  let m0 = (wid.y * 8u + lid.y) * 4u;
  let n0 = (wid.x * 8u + lid.x) * 4u;
  let off = batch_offsets(zb);
  let kb = s * p.kchunk;
  let ke = min(p.k, kb + p.kchunk);
  var ar: vec4u;
  var bc: vec4u;
  for (var i = 0u; i < 4u; i++) {
    ar[i] = off.x + min(m0 + i, p.m - 1u) * p.sam;
    bc[i] = off.y + min(n0 + i, p.n - 1u) * p.sbn;
  }
  var acc: array<vec4f, 4>;
  for (var k = kb; k < ke; k++) {
    let ka = k * p.sak;
    let kbb = k * p.sbk;
    let b = vec4f(tb[bc.x + kbb], tb[bc.y + kbb], tb[bc.z + kbb], tb[bc.w + kbb]);
    acc[0] += ta[ar.x + ka] * b;
    acc[1] += ta[ar.y + ka] * b;
    acc[2] += ta[ar.z + ka] * b;
    acc[3] += ta[ar.w + ka] * b;
  }
  let cbase = (s * p.batch + zb) * p.m * p.n;
  for (var i = 0u; i < 4u; i++) {
    for (var j = 0u; j < 4u; j++) {
      if (m0 + i < p.m && n0 + j < p.n) {
        let at = cbase + (m0 + i) * p.n + n0 + j;
        var v = acc[i][j];
        if (ACCUMULATE) { v += tc[at]; }
        tc[at] = epilogue(v, at, n0 + j);
      }
    }
  }
}

// ---- mm_splitk_sum: split-K's partial sums [split, batch, M, N] -> C, with the epilogue.
@group(0) @binding(3) var<storage, read> sk_part: array<f32>;
@group(0) @binding(4) var<storage, read_write> sk_out: array<f32>;

@compute @workgroup_size(256)
fn mm_splitk_sum(@builtin(global_invocation_id) gid: vec3u, @builtin(num_workgroups) nwg: vec3u) {
  let i = gid.x + gid.y * nwg.x * 256u;
  let total = p.batch * p.m * p.n;
  if (i >= total) { return; }
  var v = 0.0;
  for (var s = 0u; s < p.split; s++) { v += sk_part[s * total + i]; }
  if (ACCUMULATE) { v += sk_out[i]; }
  sk_out[i] = epilogue(v, i, i % p.n);
}

// ---- mm_shared ---------------------------------------------------------------------------------
const TILE: u32 = 64u;
const BK: u32 = 16u;
// [BK][TILE] with rows padded by one: k-major tile loads then write to different banks.
const SROW: u32 = 65u;
var<workgroup> sa: array<f32, 1040>; // sa[k * SROW + m]
var<workgroup> sb: array<f32, 1040>; // sb[k * SROW + n]

// 256 invocations load a 64x16 tile of each operand per step, four elements each, in the order
// that makes neighbouring invocations read neighbouring addresses for either transpose.
@compute @workgroup_size(16, 16)
fn mm_shared(@builtin(workgroup_id) wid: vec3u, @builtin(local_invocation_id) lid: vec3u,
             @builtin(local_invocation_index) li: u32) {
  let zb = wid.z;
  let m0 = wid.y * TILE;
  let n0 = wid.x * TILE;
  let off = batch_offsets(zb);
  let a_kmajor = p.sak == 1u;
  let b_nmajor = p.sbn == 1u;
  var acc: array<vec4f, 4>;
  for (var kt = 0u; kt < p.k; kt += BK) {
    for (var e = 0u; e < 4u; e++) {
      let i = li + e * 256u;
      // (row or column within the tile, k within the tile)
      let am = select(i % TILE, i / BK, a_kmajor);
      let ak = select(i / TILE, i % BK, a_kmajor);
      let bn = select(i % TILE, i / BK, !b_nmajor);
      let bk = select(i / TILE, i % BK, !b_nmajor);
      let gm = m0 + am;
      let gka = kt + ak;
      let gn = n0 + bn;
      let gkb = kt + bk;
      var av = 0.0;
      if (gm < p.m && gka < p.k) { av = ta[off.x + gm * p.sam + gka * p.sak]; }
      var bv = 0.0;
      if (gn < p.n && gkb < p.k) { bv = tb[off.y + gkb * p.sbk + gn * p.sbn]; }
      sa[ak * SROW + am] = av;
      sb[bk * SROW + bn] = bv;
    }
    workgroupBarrier();
    for (var k = 0u; k < BK; k++) {
      let bo = k * SROW + lid.x * 4u;
      let b = vec4f(sb[bo], sb[bo + 1u], sb[bo + 2u], sb[bo + 3u]);
      for (var i = 0u; i < 4u; i++) { acc[i] += sa[k * SROW + lid.y * 4u + i] * b; }
    }
    workgroupBarrier();
  }
  let cbase = zb * p.m * p.n;
  for (var i = 0u; i < 4u; i++) {
    for (var j = 0u; j < 4u; j++) {
      let gm = m0 + lid.y * 4u + i;
      let gn = n0 + lid.x * 4u + j;
      if (gm < p.m && gn < p.n) {
        let at = cbase + gm * p.n + gn;
        var v = acc[i][j];
        if (ACCUMULATE) { v += tc[at]; }
        tc[at] = epilogue(v, at, gn);
      }
    }
  }
}

//!subgroups: everything below needs the `subgroups` feature; the host prepends `enable subgroups;`.

// ---- mm_pack: op(B) -> panels of [kp][16] (row k, 16 columns), panel (kc, jb) at
// (kc * njb + jb) * kp * 16; rows past K and columns past N are zero. Grid: x over a panel's
// elements, y = jb, z = kc.
@group(0) @binding(1) var<storage, read> pk_b: array<f32>;
@group(0) @binding(2) var<storage, read_write> pk_out: array<f32>;

@compute @workgroup_size(256)
fn mm_pack(@builtin(global_invocation_id) gid: vec3u, @builtin(workgroup_id) wid: vec3u,
           @builtin(num_workgroups) nwg: vec3u) {
  let e = gid.x;
  let per = p.panel * 16u;
  if (e >= per) { return; }
  let k = wid.z * p.panel + e / 16u;
  let n = wid.y * 16u + e % 16u;
  var v = 0.0;
  if (k < p.k && n < p.n) { v = pk_b[k * p.sbk + n * p.sbn]; }
  pk_out[(wid.z * nwg.y + wid.y) * per + e] = v;
}

// ---- mm_uniform --------------------------------------------------------------------------------
@group(0) @binding(3) var<storage, read> ua: array<f32>;
@group(0) @binding(4) var<uniform> ub: array<vec4f, 4096>;
@group(0) @binding(5) var<storage, read_write> uc: array<f32>;

fn a_row(r: u32) -> u32 {
  let z = r / p.m;
  return batch_offsets(z).x + (r % p.m) * p.sam + p.k0 * p.sak;
}

// Rows are the flattened (batch, m) of the output (B has no batch here). Needs 8-lane subgroups:
// per 4 k, lane l reads vec4 l and l + 8 of the panel's 4x16 block, i.e. 4 columns of one k.
// Grid z: the panels of the binding's window (column blocks jb + z), so that a short K puts many
// column blocks into one dispatch.
@compute @workgroup_size(WG)
fn mm_uniform(@builtin(workgroup_id) wid: vec3u, @builtin(local_invocation_id) lid: vec3u,
              @builtin(num_workgroups) nwg: vec3u, @builtin(subgroup_invocation_id) sl: u32) {
  let rows = p.batch * p.m;
  let r = ((wid.x + wid.y * nwg.x) * WG + lid.x) * 2u;
  let o0 = a_row(min(r, rows - 1u));
  let o1 = a_row(min(r + 1u, rows - 1u));
  let s = p.sak;
  let pb = wid.z * p.panel * 4u;
  var c0 = vec4f(0.0); var c1 = vec4f(0.0); var c2 = vec4f(0.0); var c3 = vec4f(0.0);
  var d0 = vec4f(0.0); var d1 = vec4f(0.0); var d2 = vec4f(0.0); var d3 = vec4f(0.0);
  for (var k = 0u; k < p.kn; k += 4u) {
    let u = ub[pb + k * 4u + sl];
    let w = ub[pb + k * 4u + 8u + sl];
    let ka = k * s;
    // Panel rows past K are zero, but A there is another row's data (or garbage): mask it.
    let a0 = ua[o0 + ka];
    let a1 = select(0.0, ua[o0 + ka + s], k + 1u < p.kn);
    let a2 = select(0.0, ua[o0 + ka + 2u * s], k + 2u < p.kn);
    let a3 = select(0.0, ua[o0 + ka + 3u * s], k + 3u < p.kn);
    let b0 = ua[o1 + ka];
    let b1 = select(0.0, ua[o1 + ka + s], k + 1u < p.kn);
    let b2 = select(0.0, ua[o1 + ka + 2u * s], k + 2u < p.kn);
    let b3 = select(0.0, ua[o1 + ka + 3u * s], k + 3u < p.kn);
    // Column group j of rows k..k+3 sits in lanes j, j + 4 of u (k, k+1) and of w (k+2, k+3).
    var x0 = subgroupBroadcast(u, 0u); var x1 = subgroupBroadcast(u, 4u);
    var x2 = subgroupBroadcast(w, 0u); var x3 = subgroupBroadcast(w, 4u);
    c0 += a0 * x0 + a1 * x1 + a2 * x2 + a3 * x3;
    d0 += b0 * x0 + b1 * x1 + b2 * x2 + b3 * x3;
    x0 = subgroupBroadcast(u, 1u); x1 = subgroupBroadcast(u, 5u);
    x2 = subgroupBroadcast(w, 1u); x3 = subgroupBroadcast(w, 5u);
    c1 += a0 * x0 + a1 * x1 + a2 * x2 + a3 * x3;
    d1 += b0 * x0 + b1 * x1 + b2 * x2 + b3 * x3;
    x0 = subgroupBroadcast(u, 2u); x1 = subgroupBroadcast(u, 6u);
    x2 = subgroupBroadcast(w, 2u); x3 = subgroupBroadcast(w, 6u);
    c2 += a0 * x0 + a1 * x1 + a2 * x2 + a3 * x3;
    d2 += b0 * x0 + b1 * x1 + b2 * x2 + b3 * x3;
    x0 = subgroupBroadcast(u, 3u); x1 = subgroupBroadcast(u, 7u);
    x2 = subgroupBroadcast(w, 3u); x3 = subgroupBroadcast(w, 7u);
    c3 += a0 * x0 + a1 * x1 + a2 * x2 + a3 * x3;
    d3 += b0 * x0 + b1 * x1 + b2 * x2 + b3 * x3;
  }
  let acc = array<vec4f, 8>(c0, c1, c2, c3, d0, d1, d2, d3);
  for (var h = 0u; h < 2u; h++) {
    if (r + h < rows) {
      for (var j = 0u; j < 16u; j++) {
        let n = (p.jb + wid.z) * 16u + j;
        if (n < p.n) {
          let at = (r + h) * p.n + n;
          var v = acc[h * 4u + j / 4u][j % 4u];
          if (p.accum != 0u) { v += uc[at]; }
          if (p.last != 0u) { v = epilogue(v, at, n); }
          uc[at] = v;
        }
      }
    }
  }
}

// ---- mm_pack_a: op(A)'s rows (flattened over the batch) -> windows of [rb][kp] (row r, k), window
// (kc, w) at (kc * nwg.y + w) * 16384, kp and rb powers of two (kp = 1 << kps); rows past the last
// and k past K are zero. Grid: x over a window's elements, y = w, z = kc.
@group(0) @binding(1) var<storage, read> pa4: array<vec4f>;
@group(0) @binding(2) var<storage, read_write> po4: array<vec4f>;

// (row, k) of a lane's first element when every lane moves 1 << w consecutive k of a window.
fn window_rk(e: u32, wid: vec3u, w: u32) -> vec2u {
  return vec2u(wid.y * p.rb + (e >> (p.kps - w)), wid.z * p.panel + ((e << w) & (p.panel - 1u)));
}

@compute @workgroup_size(256)
fn mm_pack_a(@builtin(global_invocation_id) gid: vec3u, @builtin(workgroup_id) wid: vec3u,
             @builtin(num_workgroups) nwg: vec3u) {
  let e = gid.x;
  if (e >= p.rb * p.panel) { return; }
  let rk = window_rk(e, wid, 0u);
  let r = rk.x;
  let k = rk.y;
  var v = 0.0;
  if (r < p.batch * p.m && k < p.k) { v = pk_b[a_row(r) + k * p.sak]; }
  pk_out[(wid.z * nwg.y + wid.y) * 16384u + e] = v;
}

// The same for contiguous rows (A[r, k] at r * K + k, K % 4 == 0), a vec4 of k per lane.
@compute @workgroup_size(256)
fn mm_pack_a4(@builtin(global_invocation_id) gid: vec3u, @builtin(workgroup_id) wid: vec3u,
              @builtin(num_workgroups) nwg: vec3u) {
  let e = gid.x;
  if (e >= p.rb * p.panel / 4u) { return; }
  let rk = window_rk(e, wid, 2u);
  let r = rk.x;
  let k = rk.y;
  var v = vec4f(0.0);
  if (r < p.batch * p.m && k < p.k) { v = pa4[(r * p.k + k) / 4u]; }
  po4[(wid.z * nwg.y + wid.y) * 4096u + e] = v;
}

// The same for a transposed A read in place (op(A)[m, k] at k * M + m, M % 4 == 0, no batch): a
// lane moves a 4 x 4 block, reading four vec4 along m and writing four along k.
@compute @workgroup_size(256)
fn mm_pack_at4(@builtin(global_invocation_id) gid: vec3u, @builtin(workgroup_id) wid: vec3u,
               @builtin(num_workgroups) nwg: vec3u) {
  let e = gid.x;
  if (e >= p.rb * p.panel / 16u) { return; }
  let br = e >> (p.kps - 2u);
  let bk = e & (p.panel / 4u - 1u);
  let r = wid.y * p.rb + br * 4u;
  let k = wid.z * p.panel + bk * 4u;
  var v: array<vec4f, 4>;
  for (var i = 0u; i < 4u; i++) {
    if (r < p.m && k + i < p.k) { v[i] = pa4[((k + i) * p.m + r) / 4u]; }
  }
  let o = (wid.z * nwg.y + wid.y) * 4096u + br * p.panel + bk;
  for (var j = 0u; j < 4u; j++) {
    po4[o + j * p.panel / 4u] = vec4f(v[0][j], v[1][j], v[2][j], v[3][j]);
  }
}

// mm_pack for a row-major op(B) with N % 4 == 0: a vec4 of a panel row per lane.
@compute @workgroup_size(256)
fn mm_pack4(@builtin(global_invocation_id) gid: vec3u, @builtin(workgroup_id) wid: vec3u,
            @builtin(num_workgroups) nwg: vec3u) {
  let e = gid.x;
  let per = p.panel * 4u;
  if (e >= per) { return; }
  let k = wid.z * p.panel + e / 4u;
  let n = wid.y * 16u + (e % 4u) * 4u;
  var v = vec4f(0.0);
  if (k < p.k && n < p.n) { v = pa4[(k * p.n + n) / 4u]; }
  po4[(wid.z * nwg.y + wid.y) * per + e] = v;
}

// ---- mm_dual ------------------------------------------------------------------------------------
// Up to four K chunks per dispatch, each an A window (rows x kp) and a B window (panels of kp x 16)
// of its own: a chunk past K has kn 0.
@group(0) @binding(3) var<uniform> da0: array<vec4f, 4096>;
@group(0) @binding(4) var<uniform> da1: array<vec4f, 4096>;
@group(0) @binding(5) var<uniform> da2: array<vec4f, 4096>;
@group(0) @binding(6) var<uniform> da3: array<vec4f, 4096>;
@group(0) @binding(7) var<uniform> db0: array<vec4f, 4096>;
@group(0) @binding(8) var<uniform> db1: array<vec4f, 4096>;
@group(0) @binding(9) var<uniform> db2: array<vec4f, 4096>;
@group(0) @binding(10) var<uniform> db3: array<vec4f, 4096>;
@group(0) @binding(11) var<storage, read_write> dc: array<f32>;
@group(0) @binding(11) var<storage, read_write> dc4: array<vec4f>;

// 4 k of rows a, b (a lane's two rows) against the 16 columns in u, w (as mm_uniform's panel).
fn dual_step(acc: ptr<function, array<vec4f, 8>>, u: vec4f, w: vec4f, a: vec4f, b: vec4f) {
  var x0 = subgroupBroadcast(u, 0u); var x1 = subgroupBroadcast(u, 4u);
  var x2 = subgroupBroadcast(w, 0u); var x3 = subgroupBroadcast(w, 4u);
  (*acc)[0] += a.x * x0 + a.y * x1 + a.z * x2 + a.w * x3;
  (*acc)[4] += b.x * x0 + b.y * x1 + b.z * x2 + b.w * x3;
  x0 = subgroupBroadcast(u, 1u); x1 = subgroupBroadcast(u, 5u);
  x2 = subgroupBroadcast(w, 1u); x3 = subgroupBroadcast(w, 5u);
  (*acc)[1] += a.x * x0 + a.y * x1 + a.z * x2 + a.w * x3;
  (*acc)[5] += b.x * x0 + b.y * x1 + b.z * x2 + b.w * x3;
  x0 = subgroupBroadcast(u, 2u); x1 = subgroupBroadcast(u, 6u);
  x2 = subgroupBroadcast(w, 2u); x3 = subgroupBroadcast(w, 6u);
  (*acc)[2] += a.x * x0 + a.y * x1 + a.z * x2 + a.w * x3;
  (*acc)[6] += b.x * x0 + b.y * x1 + b.z * x2 + b.w * x3;
  x0 = subgroupBroadcast(u, 3u); x1 = subgroupBroadcast(u, 7u);
  x2 = subgroupBroadcast(w, 3u); x3 = subgroupBroadcast(w, 7u);
  (*acc)[3] += a.x * x0 + a.y * x1 + a.z * x2 + a.w * x3;
  (*acc)[7] += b.x * x0 + b.y * x1 + b.z * x2 + b.w * x3;
}

// Rows rl, rl + 1 of the A windows against the 16 columns of panel z of the B windows.
fn dual_tile(rl: u32, z: u32, sl: u32) -> array<vec4f, 8> {
  let q = min(rl, p.rb - 2u) * (p.panel / 4u);
  let q1 = q + p.panel / 4u;
  let pb = z * p.panel * 4u;
  var acc: array<vec4f, 8>;
  for (var k = 0u; k < p.kns.x; k += 4u) {
    dual_step(&acc, db0[pb + k * 4u + sl], db0[pb + k * 4u + 8u + sl], da0[q + k / 4u], da0[q1 + k / 4u]);
  }
  for (var k = 0u; k < p.kns.y; k += 4u) {
    dual_step(&acc, db1[pb + k * 4u + sl], db1[pb + k * 4u + 8u + sl], da1[q + k / 4u], da1[q1 + k / 4u]);
  }
  for (var k = 0u; k < p.kns.z; k += 4u) {
    dual_step(&acc, db2[pb + k * 4u + sl], db2[pb + k * 4u + 8u + sl], da2[q + k / 4u], da2[q1 + k / 4u]);
  }
  for (var k = 0u; k < p.kns.w; k += 4u) {
    dual_step(&acc, db3[pb + k * 4u + sl], db3[pb + k * 4u + 8u + sl], da3[q + k / 4u], da3[q1 + k / 4u]);
  }
  return acc;
}

@compute @workgroup_size(WG)
fn mm_dual(@builtin(workgroup_id) wid: vec3u, @builtin(local_invocation_id) lid: vec3u,
           @builtin(subgroup_invocation_id) sl: u32) {
  let rl = (wid.x * WG + lid.x) * 2u;
  let acc = dual_tile(rl, wid.z, sl);
  let rows = p.batch * p.m;
  let r = p.r0 + rl;
  for (var h = 0u; h < 2u; h++) {
    if (rl + h < p.rb && r + h < rows) {
      for (var j = 0u; j < 16u; j++) {
        let n = (p.jb + wid.z) * 16u + j;
        if (n < p.n) {
          let at = (r + h) * p.n + n;
          var v = acc[h * 4u + j / 4u][j % 4u];
          if (p.accum != 0u) { v += dc[at]; }
          if (p.last != 0u) { v = epilogue(v, at, n); }
          dc[at] = v;
        }
      }
    }
  }
}

// N % 4 == 0: a lane stores its 2 x 16 outputs as 8 vec4s.
@compute @workgroup_size(WG)
fn mm_dual4(@builtin(workgroup_id) wid: vec3u, @builtin(local_invocation_id) lid: vec3u,
            @builtin(subgroup_invocation_id) sl: u32) {
  let rl = (wid.x * WG + lid.x) * 2u;
  let acc = dual_tile(rl, wid.z, sl);
  let rows = p.batch * p.m;
  let r = p.r0 + rl;
  let n4 = p.n / 4u;
  for (var h = 0u; h < 2u; h++) {
    if (rl + h < p.rb && r + h < rows) {
      for (var j = 0u; j < 4u; j++) {
        let n = (p.jb + wid.z) * 4u + j;
        if (n < n4) {
          let at = (r + h) * n4 + n;
          var v = acc[h * 4u + j];
          if (p.accum != 0u) { v += dc4[at]; }
          if (p.last != 0u) { v = epilogue4(v, at, n); }
          dc4[at] = v;
        }
      }
    }
  }
}

// ---- mm_subgroup -------------------------------------------------------------------------------
@group(0) @binding(3) var<storage, read> sga: array<f32>;
@group(0) @binding(4) var<storage, read> sgb: array<f32>;
@group(0) @binding(5) var<storage, read_write> sgc: array<f32>;

const SG_ROWS: u32 = 8u;

// A workgroup owns 8 rows and WG x 4 columns (lane = 4 columns). Every 8 k, lane l loads
// A[row, k + l % 8] for the 8 rows; the 8 broadcasts of each hand every lane all 64 values.
// Needs subgroups of at least 8 lanes; all lanes of a workgroup share its rows, so any
// subgroup layout works.
@compute @workgroup_size(WG)
fn mm_subgroup(@builtin(workgroup_id) wid: vec3u, @builtin(local_invocation_id) lid: vec3u,
               @builtin(subgroup_invocation_id) sl: u32) {
  let zb = wid.z;
  let off = batch_offsets(zb);
  let m0 = wid.y * SG_ROWS;
  let n0 = (wid.x * WG + lid.x) * 4u;
  var bcol: vec4u;
  for (var j = 0u; j < 4u; j++) { bcol[j] = off.y + min(n0 + j, p.n - 1u) * p.sbn; }
  var arow: array<u32, 8>;
  for (var i = 0u; i < SG_ROWS; i++) { arow[i] = off.x + min(m0 + i, p.m - 1u) * p.sam; }
  let l8 = sl % 8u;
  var acc: array<vec4f, 8>;
  for (var k0 = 0u; k0 < p.k; k0 += 8u) {
    let kl = k0 + l8;
    let live = kl < p.k;
    let kla = min(kl, p.k - 1u) * p.sak;
    var av: array<f32, 8>;
    for (var i = 0u; i < SG_ROWS; i++) { av[i] = select(0.0, sga[arow[i] + kla], live); }
    let kn = min(8u, p.k - k0);
    var bv: array<vec4f, 8>;
    for (var q = 0u; q < 8u; q++) {
      let kb = min(k0 + q, p.k - 1u) * p.sbk;
      bv[q] = select(vec4f(0.0), vec4f(sgb[bcol.x + kb], sgb[bcol.y + kb], sgb[bcol.z + kb], sgb[bcol.w + kb]), q < kn);
    }
    for (var i = 0u; i < SG_ROWS; i++) {
      let a = av[i];
      acc[i] += subgroupBroadcast(a, 0u) * bv[0] + subgroupBroadcast(a, 1u) * bv[1]
              + subgroupBroadcast(a, 2u) * bv[2] + subgroupBroadcast(a, 3u) * bv[3]
              + subgroupBroadcast(a, 4u) * bv[4] + subgroupBroadcast(a, 5u) * bv[5]
              + subgroupBroadcast(a, 6u) * bv[6] + subgroupBroadcast(a, 7u) * bv[7];
    }
  }
  let cbase = zb * p.m * p.n;
  for (var i = 0u; i < SG_ROWS; i++) {
    for (var j = 0u; j < 4u; j++) {
      if (m0 + i < p.m && n0 + j < p.n) {
        let at = cbase + (m0 + i) * p.n + n0 + j;
        var v = acc[i][j];
        if (ACCUMULATE) { v += sgc[at]; }
        sgc[at] = epilogue(v, at, n0 + j);
      }
    }
  }
}
