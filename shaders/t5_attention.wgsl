// Kernel family `t5_attention`: host src/nn/t5/attention.ts, float64 reference
// test/ref/t5_attention.ts, test test/nn/t5_attention.test.ts, benchmark bench/t5_attention.ts
// (`npm run bench -- t5_attention`: every layout and backward, checked before timing).
//
// Variants: two layouts (below) of the forward, dq, dk/dv, dq-from-dS and scores kernels: staged
// attention_forward, attention_backward_dq, attention_backward_dkdv, attention_backward_dq_ds,
// backward_scores; subgroup the same with _sg, and attention_backward_dkdv_pds_sg; three backwards
// (recompute, fused, matmul; below), which the flags select; and, for every layout, backward_prep
// (which backward_scores_sg does itself) and the bias gradient's bias_grad_diag, bias_grad_rel, bias_grad_table. Every kernel reads q, k,
// v and dO and writes the output and the gradients heads first ([B, H, L, dk]) or, with
// FLAG_TOKENS_FIRST, tokens first ([B, L, H, dk], the projections' own layout: T5 runs it, with no
// head split or merge copies). Overrides: DK, BQ, BK, TPR, WG.
//
// Measured (lavapipe, 2 cores, 2026-11-25 13:10-13:17, load ~1.3; B 8, H 8, T = S = 228, dk 64,
// bias + key mask), subgroup layout: forward 65-69 ms; forward + backward for q, k, v: 'matmul'
// 219-226 ms, 'fused' 293-295 ms, 'recompute' ~340 ms. The staged layout (for real GPUs; workgroup
// memory is slow on lavapipe) runs the same 'matmul' backward through the engine's matmul: 908 ms
// against 1 844 ('fused') in the 13:10 run.
//
// Version ladder (each step's effect on T5 prompt tuning's (forward + prompt gradient) / forward
// ratio is in docs/BENCHMARKS.md):
//   1. dq and dk/dv kernels each recomputing the scores ('recompute'): the backward did 7 products
//      over the T x S scores to the forward's 2, 3.2-3.6x the forward; T5 ratio 2.47-2.62.
//   2. dS stored by dk/dv, dq by one batched matmul ('fused'): 5 products; with matmul's batch
//      folding and dk/dv taking 8 rows a step, T5 ratio 2.25-2.31.
//   3. vec4 rows and subgroupBroadcast in the subgroup kernels (one bounds-checked gather per vec4
//      instead of per float, eight rows handed out by broadcast): forward 90 -> 65 ms, dk/dv
//      209 -> 182 ms.
//   4. 'matmul': the forward keeps its scores, written transposed so that neighbouring lanes write
//      neighbouring words (untransposed they had cost the forward 33 of 70 ms): 4 products
//      (dO v^T, and dq, dk, dv by matmul); T5 ratio 2.11-2.25.
//   5. dP and P/dS in one kernel (backward_scores_sg): T5 ratio 2.08-2.15.
//
// T5 attention, fused: scores q.k (T5 does not scale them by 1/sqrt(d)), the relative position bias
// table[bucket(k - q), head], the key padding mask and the causal mask, softmax and the value
// product in one pass, streaming over keys with an online softmax so that no T x S matrix needs to
// exist. The forward pass keeps each row's logsumexp (and, for the backward by matmuls, its scores).
//
// Bucket ids come from a host-built i32 lookup indexed by the relative position clamped to
// [-span, span]: Hugging Face computes the log-spaced buckets in float32 with PyTorch's log, whose
// rounding at bucket edges a WGSL log need not reproduce. Every bucket is constant beyond
// max_distance, so the clamp is exact.
//
// Two layouts of the forward, dq and dk/dv kernels:
//   staged    (portable; real GPUs) a workgroup owns BQ query rows (dk/dv: BK key rows) of one
//             (batch, head) with TPR invocations per row. Q/dO/K/V tiles are staged in workgroup
//             memory; scores of a BQ x BK tile go through `ts`, split among a row's invocations
//             by key, and each invocation then owns the output columns t, t + TPR, ... of its row.
//   subgroup  (below the subgroups marker; lavapipe) one lane per row and no workgroup memory:
//             the lanes of a subgroup load eight rows of the other operand as vec4s, one row each,
//             and hand them out with subgroupBroadcast. On lavapipe every storage load is a
//             per-lane gather with a bounds check, workgroup memory costs more still and barriers
//             are coroutine switches; this loads each vec4 once per subgroup, not per lane.
//
// Three backwards (T5AttentionBackward in src/nn/t5/attention.ts), by score-sized memory:
//   recompute  dk/dv and dq kernels, each recomputing P from q, k and the logsumexp.
//   fused      FLAG_STORE_DS: the dk/dv kernel also writes dS ([B, H, T, S], zero where masked)
//              and attention_backward_dq_ds gets dq = dS k from it.
//   matmul     FLAG_SAVE_S: the forward writes its scores transposed ([B, H, S, T]); the backward
//              turns them into P^T and dS^T (backward_scores after a dP matmul, or
//              backward_scores_sg computing dP itself); then dq, dk, dv are plain products: the
//              engine's matmul on the staged layout (heads first only), attention_backward_dq_ds_sg
//              (FLAG_DS_T) and attention_backward_dkdv_pds_sg on the subgroup one.
//
// Bias gradient without float atomics: the dk/dv kernel sums dS along each diagonal (fixed k - q)
// of its key block; `bias_grad_diag` adds those partial sums over batch and key blocks per
// (head, k - q) (`bias_grad_rel` takes them straight from dS^T), and `bias_grad_table` over the
// relative positions of each bucket.

// Params: declared in src/nn/t5/attention.ts (ATTENTION_PARAMS), appended when the pipeline is created.

@group(0) @binding(0) var<uniform> p: Params;

override DK: u32 = 64u;
override BQ: u32 = 16u;
override BK: u32 = 16u;
override TPR: u32 = 1u;
override WG: u32 = 64u;

const FLAG_BIAS: u32 = 1u;
const FLAG_MASK: u32 = 2u;
const FLAG_MASK_F32: u32 = 4u;
const FLAG_CAUSAL: u32 = 8u;
const FLAG_BIAS_GRAD: u32 = 16u;
const FLAG_STORE_DS: u32 = 32u;
const FLAG_SAVE_S: u32 = 64u;
const FLAG_TOKENS_FIRST: u32 = 128u;
const FLAG_DS_T: u32 = 256u;
fn flag(f: u32) -> bool { return (p.flags & f) != 0u; }

// Rows of q, k, v, dO, the output and the gradients: row i of (batch, head) `bh` in a sequence of
// `len` is row base + i * step, heads first ([B, H, L, dk]) or, with FLAG_TOKENS_FIRST, tokens
// first ([B, L, H, dk]: a projection's [B, L, H * dk] output as it is, so that no head split or
// merge copies it).
struct Rows { base: u32, step: u32 }

fn rows_of(bh: u32, len: u32) -> Rows {
  if (flag(FLAG_TOKENS_FIRST)) { return Rows((bh / p.heads) * len * p.heads + bh % p.heads, p.heads); }
  return Rows(bh * len, 1u);
}

fn row_at(r: Rows, i: u32) -> u32 { return r.base + i * r.step; }

// Output columns one invocation owns; MAXC bounds them (the host picks TPR >= dk / MAXC).
override NCOL: u32 = (DK + TPR - 1u) / TPR;
const MAXC: u32 = 128u;
// Row stride of staged tiles: one word of padding keeps a column's reads off a single bank.
override RS: u32 = DK + 1u;
override TLEN: u32 = max(BQ, BK) * RS;
// Score of a masked (query, key) pair; every real score is larger.
const NEG: f32 = -3.0e38;
// Whether a score is the mask sentinel, by its bits: WGSL lets a compiler assume no NaN, so a
// float comparison with a NaN score may come out either way.
fn is_masked(s: f32) -> bool { return bitcast<u32>(s) == bitcast<u32>(NEG); }
fn live4(s: vec4f) -> vec4<bool> { return bitcast<vec4<u32>>(s) != vec4(bitcast<u32>(NEG)); }

// Bindings 1..5 are the same in the attention kernels.
@group(0) @binding(1) var<storage, read> q_in: array<f32>;
@group(0) @binding(2) var<storage, read> k_in: array<f32>;
@group(0) @binding(3) var<storage, read> v_in: array<f32>;
@group(0) @binding(4) var<storage, read> table: array<f32>;
@group(0) @binding(5) var<storage, read> lookup: array<i32>;

alias Tile = array<f32, TLEN>;
var<workgroup> tq: Tile;
var<workgroup> tdo: Tile;
var<workgroup> tk: Tile;
var<workgroup> tv: Tile;
var<workgroup> ts: array<f32, BQ * BK>;
var<workgroup> tp: array<f32, BQ * BK>;

fn bias(h: u32, rel: i32) -> f32 {
  if (!flag(FLAG_BIAS)) { return 0.0; }
  let bucket = lookup[u32(clamp(rel, -p.span, p.span) + p.span)];
  return table[u32(bucket) * p.heads + h];
}

// Copies rows first .. first + n - 1 of `src` into a tile.
fn stage(tile: ptr<workgroup, Tile>, src: ptr<storage, array<f32>, read>, rows: Rows, first: u32, n: u32, lid: u32, nt: u32) {
  for (var e = lid; e < n * DK; e += nt) { (*tile)[(e / DK) * RS + e % DK] = (*src)[row_at(rows, first + e / DK) * DK + e % DK]; }
}

fn causal_ok(kj: u32, qpos: i32) -> bool { return !flag(FLAG_CAUSAL) || i32(kj) <= qpos; }

// Keys a block of queries can see: all, or with the causal mask up to its last query's position.
fn key_end(blk: Block) -> u32 {
  if (!flag(FLAG_CAUSAL)) { return p.sk; }
  return u32(clamp(i32(blk.first + blk.rows) + p.q_offset, 0, i32(p.sk)));
}

// With the causal mask, a tile of queries q0 .. q0 + qn - 1 that all precede key k0 adds nothing.
fn tile_live(k0: u32, q0: u32, qn: u32) -> bool {
  return !flag(FLAG_CAUSAL) || i32(k0) <= i32(q0 + qn - 1u) + p.q_offset;
}

// The rows a workgroup of the attention kernels owns: block `index` of `size` rows (BQ queries or
// BK keys) of one (batch, head), `rows` of them real.
struct Block { index: u32, bh: u32, b: u32, h: u32, first: u32, rows: u32, live: bool }

fn block_of(wid: vec3u, nwg: vec3u, nblocks: u32, size: u32, len: u32) -> Block {
  let index = wid.x + wid.y * nwg.x;
  let bh = index / nblocks;
  let first = (index % nblocks) * size;
  return Block(index, bh, bh / p.heads, bh % p.heads, first, min(size, len - first), index < p.batch * p.heads * nblocks);
}

// The row of `blk` that lane `lid` works on: lanes past its real rows repeat the last one (they
// load valid data, and their results are not stored).
fn lane_block_row(blk: Block, lid: u32) -> u32 { return blk.first + min(lid, blk.rows - 1u); }

// The key mask's raw bits: an f32 or an i32 that is nonzero where the key is kept.
fn mask_keep(m: u32) -> bool {
  if (flag(FLAG_MASK_F32)) { return bitcast<f32>(m) != 0.0; }
  return m != 0u;
}

// ---- forward --------------------------------------------------------------------------------

@group(0) @binding(6) var<storage, read> mask_in: array<u32>;
@group(0) @binding(7) var<storage, read_write> out: array<f32>;
@group(0) @binding(8) var<storage, read_write> lse_out: array<f32>;

// With FLAG_SAVE_S the forward keeps every score (bias included, NEG where masked) for the backward
// by matmuls, as S^T ([B, H, S, T]) after the logsumexps: the lanes of a block, one per query,
// write neighbouring words.
fn save_s(bh: u32, qi: u32, kj: u32, s: f32) { lse_out[p.s_off + (bh * p.sk + kj) * p.tq + qi] = s; }

// Keys from `kend` on are past every query of the block (causal): NEG in the saved scores.
fn save_s_tail(bh: u32, qi: u32, kend: u32, first: u32, step: u32) {
  for (var kj = kend + first; kj < p.sk; kj += step) { save_s(bh, qi, kj, NEG); }
}

fn allowed_fwd(b: u32, kj: u32, qpos: i32) -> bool {
  if (!causal_ok(kj, qpos)) { return false; }
  if (!flag(FLAG_MASK)) { return true; }
  return mask_keep(mask_in[b * p.sk + kj]);
}

@compute @workgroup_size(BQ * TPR)
fn attention_forward(@builtin(local_invocation_index) lid: u32, @builtin(workgroup_id) wid: vec3u, @builtin(num_workgroups) nwg: vec3u) {
  let blk = block_of(wid, nwg, p.nqb, BQ, p.tq);
  if (!blk.live) { return; }
  let r = lid / TPR;
  let t = lid % TPR;
  let qi = blk.first + r;
  let row_ok = r < blk.rows;
  let qpos = i32(qi) + p.q_offset;
  let qrows = rows_of(blk.bh, p.tq);
  let krows = rows_of(blk.bh, p.sk);
  stage(&tq, &q_in, qrows, blk.first, blk.rows, lid, BQ * TPR);
  let kend = key_end(blk);
  let save = flag(FLAG_SAVE_S);
  if (save && row_ok) { save_s_tail(blk.bh, qi, kend, t, TPR); }

  var m = NEG;
  var l = 0.0;
  var acc: array<f32, MAXC>;
  for (var k0 = 0u; k0 < kend; k0 += BK) {
    let kn = min(BK, kend - k0);
    // The first barrier also keeps this tile's writes of `ts` behind the last tile's reads.
    workgroupBarrier();
    stage(&tk, &k_in, krows, k0, kn, lid, BQ * TPR);
    stage(&tv, &v_in, krows, k0, kn, lid, BQ * TPR);
    workgroupBarrier();
    for (var c = t; c < kn; c += TPR) {
      let kj = k0 + c;
      var s = NEG;
      if (row_ok && allowed_fwd(blk.b, kj, qpos)) {
        var d = 0.0;
        for (var x = 0u; x < DK; x++) { d += tq[r * RS + x] * tk[c * RS + x]; }
        s = d + bias(blk.h, i32(kj) - qpos);
      }
      ts[r * BK + c] = s;
      if (save && row_ok) { save_s(blk.bh, qi, kj, s); }
    }
    if (TPR > 1u) { workgroupBarrier(); }
    var mt = m;
    for (var c = 0u; c < kn; c++) { mt = max(mt, ts[r * BK + c]); }
    let alpha = exp(m - mt);
    l *= alpha;
    for (var j = 0u; j < NCOL; j++) { acc[j] *= alpha; }
    for (var c = 0u; c < kn; c++) {
      let s = ts[r * BK + c];
      // Masked scores are exactly NEG and skipped (their v may be anything, inf included: 0 * inf
      // is NaN); any other score counts, a NaN one included.
      if (!is_masked(s)) {
        let pk = exp(s - mt);
        l += pk;
        for (var j = 0u; j < NCOL; j++) {
          let x = t + j * TPR;
          if (x < DK) { acc[j] += pk * tv[c * RS + x]; }
        }
      }
    }
    m = mt;
  }
  if (row_ok) {
    let qg = row_at(qrows, qi) * DK;
    for (var j = 0u; j < NCOL; j++) {
      let x = t + j * TPR;
      if (x < DK) { out[qg + x] = finish(acc[j], l); }
    }
    if (t == 0u) { lse_out[blk.bh * p.tq + qi] = logsumexp(m, l); }
  }
}

// The output of a row from its accumulator: a row that sees no key at all (l == 0) gets 0; a NaN
// l (a NaN score) stays NaN.
fn finish(acc: f32, l: f32) -> f32 { return select(acc / l, 0.0, l == 0.0); }
fn logsumexp(m: f32, l: f32) -> f32 { return select(m + log(l), NEG, l == 0.0); }

// ---- backward -------------------------------------------------------------------------------
// stats = [logsumexp (B*H*T) | D = rowsum(dO * O) (B*H*T) | key keep mask as 0/1 (B*S, if masked)]

@group(0) @binding(6) var<storage, read> do_in: array<f32>;
@group(0) @binding(7) var<storage, read> stats: array<f32>;
@group(0) @binding(8) var<storage, read_write> grad_out: array<f32>;

fn key_kept(b: u32, kj: u32) -> bool {
  if (!flag(FLAG_MASK)) { return true; }
  return stats[2u * p.batch * p.heads * p.tq + b * p.sk + kj] != 0.0;
}

fn allowed_bwd(b: u32, kj: u32, qpos: i32) -> bool { return causal_ok(kj, qpos) && key_kept(b, kj); }

// P and dS = P * (dO.v - D) of a pair from its score s and dO.v, with P recomputed from the
// logsumexp of the query's row (index `row` of stats).
struct Pair { p: f32, ds: f32 }

fn pair(s: f32, dp: f32, row: u32) -> Pair {
  let pr = exp(s - stats[row]);
  return Pair(pr, pr * (dp - stats[p.batch * p.heads * p.tq + row]));
}

// The pair of staged query row qr and key row kr.
fn pair_staged(qr: u32, kr: u32, h: u32, rel: i32, row: u32) -> Pair {
  var s = 0.0;
  var dp = 0.0;
  for (var x = 0u; x < DK; x++) {
    s += tq[qr * RS + x] * tk[kr * RS + x];
    dp += tdo[qr * RS + x] * tv[kr * RS + x];
  }
  return pair(s + bias(h, rel), dp, row);
}

// dq = sum_k dS[q, k] k: one workgroup per block of BQ queries, streaming over keys.
@compute @workgroup_size(BQ * TPR)
fn attention_backward_dq(@builtin(local_invocation_index) lid: u32, @builtin(workgroup_id) wid: vec3u, @builtin(num_workgroups) nwg: vec3u) {
  let blk = block_of(wid, nwg, p.nqb, BQ, p.tq);
  if (!blk.live) { return; }
  let r = lid / TPR;
  let t = lid % TPR;
  let qi = blk.first + r;
  let row_ok = r < blk.rows;
  let qpos = i32(qi) + p.q_offset;
  let qrows = rows_of(blk.bh, p.tq);
  let krows = rows_of(blk.bh, p.sk);
  stage(&tq, &q_in, qrows, blk.first, blk.rows, lid, BQ * TPR);
  stage(&tdo, &do_in, qrows, blk.first, blk.rows, lid, BQ * TPR);
  let kend = key_end(blk);

  var acc: array<f32, MAXC>;
  for (var k0 = 0u; k0 < kend; k0 += BK) {
    let kn = min(BK, kend - k0);
    workgroupBarrier();
    stage(&tk, &k_in, krows, k0, kn, lid, BQ * TPR);
    stage(&tv, &v_in, krows, k0, kn, lid, BQ * TPR);
    workgroupBarrier();
    for (var c = t; c < kn; c += TPR) {
      let kj = k0 + c;
      // NEG marks a masked pair, which adds nothing whatever its key row holds (0 * inf is NaN).
      var ds = NEG;
      if (row_ok && allowed_bwd(blk.b, kj, qpos)) { ds = pair_staged(r, c, blk.h, i32(kj) - qpos, blk.bh * p.tq + qi).ds; }
      ts[r * BK + c] = ds;
    }
    if (TPR > 1u) { workgroupBarrier(); }
    for (var c = 0u; c < kn; c++) {
      let ds = ts[r * BK + c];
      if (is_masked(ds)) { continue; }
      for (var j = 0u; j < NCOL; j++) {
        let x = t + j * TPR;
        if (x < DK) { acc[j] += ds * tk[c * RS + x]; }
      }
    }
  }
  if (row_ok) {
    let qg = row_at(qrows, qi) * DK;
    for (var j = 0u; j < NCOL; j++) {
      let x = t + j * TPR;
      if (x < DK) { grad_out[qg + x] = acc[j]; }
    }
  }
}

// Sums of a BK x BK tile of dS (`ts`, key-major) along its diagonals t (lo) and t + BK (hi), for
// the bias gradient. A key block's query tiles are square, so every diagonal k - q of the block
// spans exactly two consecutive tiles: its sum is lo of tile j - 1 plus hi of tile j, written once
// to slot (nqt - j) * BK + t of the block's partials, which holds relative position
// k0 - q_offset + 1 - j * BK + t.
fn diagonal_sums(t: u32) -> vec2f {
  var lo = 0.0;
  var hi = 0.0;
  for (var kr = 0u; kr <= t; kr++) { lo += ts[kr * BK + kr + BK - 1u - t]; }
  for (var qr = 0u; qr + t + 1u < BK; qr++) { hi += ts[(qr + t + 1u) * BK + qr]; }
  return vec2(lo, hi);
}

// With FLAG_STORE_DS: dS of query qi and key kj, for dq = dS k. Every (query, key) pair belongs to
// exactly one dk/dv workgroup, which writes it (0 when masked or in a tile it skips).
fn store_ds(bh: u32, qi: u32, kj: u32, ds: f32) { grad_out[p.ds_off + (bh * p.tq + qi) * p.sk + kj] = ds; }

// dk = sum_q dS[q, k] q and dv = sum_q P[q, k] dO[q]: one workgroup per block of BK keys,
// streaming over query tiles of BK rows; with FLAG_BIAS_GRAD also the diagonal partial sums.
@compute @workgroup_size(BK * TPR)
fn attention_backward_dkdv(@builtin(local_invocation_index) lid: u32, @builtin(workgroup_id) wid: vec3u, @builtin(num_workgroups) nwg: vec3u) {
  let blk = block_of(wid, nwg, p.nkb, BK, p.sk);
  if (!blk.live) { return; }
  let r = lid / TPR;
  let t = lid % TPR;
  let kj = blk.first + r;
  let key_ok = r < blk.rows;
  // The key's own mask, read once: a masked key gets dS = 0 from every query.
  let key_live = key_ok && key_kept(blk.b, min(kj, p.sk - 1u));
  let qrows = rows_of(blk.bh, p.tq);
  let krows = rows_of(blk.bh, p.sk);
  stage(&tk, &k_in, krows, blk.first, blk.rows, lid, BK * TPR);
  stage(&tv, &v_in, krows, blk.first, blk.rows, lid, BK * TPR);
  let part = p.part_off + blk.index * (p.nqt + 1u) * BK;
  let bias_grad = flag(FLAG_BIAS_GRAD);
  let store = flag(FLAG_STORE_DS);

  var dk: array<f32, MAXC>;
  var dv: array<f32, MAXC>;
  var carry = 0.0;
  for (var j = 0u; j < p.nqt; j++) {
    let q0 = j * BK;
    let qn = min(BK, p.tq - q0);
    let live = tile_live(blk.first, q0, qn);
    if (live) {
      workgroupBarrier();
      stage(&tq, &q_in, qrows, q0, qn, lid, BK * TPR);
      stage(&tdo, &do_in, qrows, q0, qn, lid, BK * TPR);
      workgroupBarrier();
      // Every entry of the tile is written (0 outside it): the diagonal sums read them all.
      for (var c = t; c < BK; c += TPR) {
        let qi = q0 + c;
        let qpos = i32(qi) + p.q_offset;
        var pg = Pair(0.0, 0.0);
        // tp = NEG marks a masked pair: it adds nothing to dk and dv whatever its query row holds.
        var pm = NEG;
        if (key_live && c < qn && causal_ok(kj, qpos)) {
          pg = pair_staged(c, r, blk.h, i32(kj) - qpos, blk.bh * p.tq + qi);
          pm = pg.p;
        }
        tp[r * BK + c] = pm;
        ts[r * BK + c] = pg.ds;
        if (store && key_ok && c < qn) { store_ds(blk.bh, qi, kj, pg.ds); }
      }
      if (TPR > 1u || bias_grad) { workgroupBarrier(); }
      for (var c = 0u; c < qn; c++) {
        let pr = tp[r * BK + c];
        let ds = ts[r * BK + c];
        if (is_masked(pr)) { continue; }
        for (var jj = 0u; jj < NCOL; jj++) {
          let x = t + jj * TPR;
          if (x < DK) {
            dv[jj] += pr * tdo[c * RS + x];
            dk[jj] += ds * tq[c * RS + x];
          }
        }
      }
    } else if (store && key_ok) {
      for (var c = t; c < qn; c += TPR) { store_ds(blk.bh, q0 + c, kj, 0.0); }
    }
    if (bias_grad && lid < BK) {
      var sums = vec2(0.0);
      if (live) { sums = diagonal_sums(lid); }
      grad_out[part + (p.nqt - j) * BK + lid] = carry + sums.y;
      carry = sums.x;
    }
  }
  if (bias_grad && lid < BK) { grad_out[part + lid] = carry; }
  if (key_ok) {
    let kg = row_at(krows, kj) * DK;
    for (var jj = 0u; jj < NCOL; jj++) {
      let x = t + jj * TPR;
      if (x < DK) {
        grad_out[kg + x] = dk[jj];
        grad_out[p.dv_off + kg + x] = dv[jj];
      }
    }
  }
}

// dS of query qi and key kj as a backward stored it at ds_off: [B, H, T, S] (the fused dk/dv
// kernel) or, with FLAG_DS_T, [B, H, S, T] (backward_scores, backward_scores_sg). It is 0 at
// masked pairs.
fn ds_index(bh: u32, qi: u32, kj: u32) -> u32 {
  if (flag(FLAG_DS_T)) { return p.ds_off + (bh * p.sk + kj) * p.tq + qi; }
  return p.ds_off + (bh * p.tq + qi) * p.sk + kj;
}

// Elements between the dS of neighbouring keys of one query.
fn ds_key_stride() -> u32 { return select(1u, p.tq, flag(FLAG_DS_T)); }

@group(0) @binding(1) var<storage, read> ds_in: array<f32>;
@group(0) @binding(3) var<storage, read_write> dq_out: array<f32>;

// dq = dS k from a stored dS (the fused and matmul backwards), in the layout of the dq kernel
// without its recomputed scores: a matmul over k in either row layout. Keys past the causal end of
// the block are skipped (their dS is 0); every other pair adds dS times its key row, as a matmul
// would.
@compute @workgroup_size(BQ * TPR)
fn attention_backward_dq_ds(@builtin(local_invocation_index) lid: u32, @builtin(workgroup_id) wid: vec3u, @builtin(num_workgroups) nwg: vec3u) {
  let blk = block_of(wid, nwg, p.nqb, BQ, p.tq);
  if (!blk.live) { return; }
  let r = lid / TPR;
  let t = lid % TPR;
  let qi = blk.first + min(r, blk.rows - 1u);
  let krows = rows_of(blk.bh, p.sk);
  let kend = key_end(blk);
  var acc: array<f32, MAXC>;
  for (var k0 = 0u; k0 < kend; k0 += BK) {
    let kn = min(BK, kend - k0);
    workgroupBarrier();
    stage(&tk, &k_in, krows, k0, kn, lid, BQ * TPR);
    workgroupBarrier();
    for (var c = 0u; c < kn; c++) {
      let ds = ds_in[ds_index(blk.bh, qi, k0 + c)];
      for (var j = 0u; j < NCOL; j++) {
        let x = t + j * TPR;
        if (x < DK) { acc[j] += ds * tk[c * RS + x]; }
      }
    }
  }
  if (r < blk.rows) {
    let qg = row_at(rows_of(blk.bh, p.tq), qi) * DK;
    for (var j = 0u; j < NCOL; j++) {
      let x = t + j * TPR;
      if (x < DK) { dq_out[qg + x] = acc[j]; }
    }
  }
}

// ---- small kernels --------------------------------------------------------------------------

fn flat(gid: vec3u, nwg: vec3u) -> u32 { return gid.x + gid.y * nwg.x * WG; }

@group(0) @binding(1) var<storage, read> pr_do: array<f32>;
@group(0) @binding(2) var<storage, read> pr_o: array<f32>;
@group(0) @binding(3) var<storage, read> pr_lse: array<f32>;
@group(0) @binding(4) var<storage, read> pr_mask: array<u32>;
@group(0) @binding(5) var<storage, read_write> pr_stats: array<f32>;

// Fills `stats` for the backward kernels.
@compute @workgroup_size(WG)
fn backward_prep(@builtin(global_invocation_id) gid: vec3u, @builtin(num_workgroups) nwg: vec3u) {
  let i = flat(gid, nwg);
  let rows = p.batch * p.heads * p.tq;
  if (i < rows) {
    let at = row_at(rows_of(i / p.tq, p.tq), i % p.tq) * DK;
    var d = 0.0;
    for (var x = 0u; x < DK; x++) { d += pr_do[at + x] * pr_o[at + x]; }
    pr_stats[i] = pr_lse[i];
    pr_stats[rows + i] = d;
  }
  if (flag(FLAG_MASK) && i < p.batch * p.sk) {
    pr_stats[2u * rows + i] = select(0.0, 1.0, mask_keep(pr_mask[i]));
  }
}

// The backward by matmuls (backward_scores, backward_scores_sg) reads the forward's saved S^T at
// element s_off of binding 1 and writes P^T (at 0) and dS^T (at ds_off), [B, H, S, T]; stats and
// grad_out as above.
@group(0) @binding(1) var<storage, read> saved_st: array<f32>;
@group(0) @binding(2) var<storage, read> sc_dp: array<f32>;

// Element `at` of P^T and dS^T from its saved score, dP and its row's logsumexp and D (the
// callers read those from stats: per element, or once per lane). P = exp(S - logsumexp)
// reproduces the forward's probabilities exactly (the same scores, the same normaliser); a masked
// score (NEG) gives 0, also in a row that sees no key at all, whose logsumexp is NEG as well.
fn store_p_ds(at: u32, dp: f32, lse: f32, d: f32) {
  let s = saved_st[p.s_off + at];
  let pr = select(exp(s - lse), 0.0, is_masked(s));
  grad_out[at] = pr;
  grad_out[p.ds_off + at] = select(pr * (dp - d), 0.0, is_masked(s));
}

// Elementwise over [B, H, S, T], with dP^T = v dO^T from a matmul (the staged layout).
@compute @workgroup_size(WG)
fn backward_scores(@builtin(global_invocation_id) gid: vec3u, @builtin(num_workgroups) nwg: vec3u) {
  let i = flat(gid, nwg);
  let rows = p.batch * p.heads * p.tq;
  if (i >= rows * p.sk) { return; }
  let row = i / (p.sk * p.tq) * p.tq + i % p.tq;
  store_p_ds(i, sc_dp[i], stats[row], stats[rows + row]);
}

@group(0) @binding(1) var<storage, read> bg_part: array<f32>;
@group(0) @binding(2) var<storage, read_write> bg_diag: array<f32>;

// Per (head, relative position d): the sum over batch and key blocks of the diagonal partials.
@compute @workgroup_size(WG)
fn bias_grad_diag(@builtin(global_invocation_id) gid: vec3u, @builtin(num_workgroups) nwg: vec3u) {
  let i = flat(gid, nwg);
  if (i >= p.heads * p.n_diag) { return; }
  let h = i / p.n_diag;
  let d = p.d_min + i32(i % p.n_diag);
  let width = (p.nqt + 1u) * BK;
  var sum = 0.0;
  for (var b = 0u; b < p.batch; b++) {
    for (var kb = 0u; kb < p.nkb; kb++) {
      let l = d - (i32(kb * BK) - p.q_offset + 1 - i32(p.nqt * BK));
      if (l >= 0 && l < i32(width)) { sum += bg_part[p.part_off + ((b * p.heads + h) * p.nkb + kb) * width + u32(l)]; }
    }
  }
  bg_diag[i] = sum;
}

// bias_grad_diag's sums for the backward by matmuls, taken from dS^T (at ds_off, [B, H, S, T]).
@compute @workgroup_size(WG)
fn bias_grad_rel(@builtin(global_invocation_id) gid: vec3u, @builtin(num_workgroups) nwg: vec3u) {
  let i = flat(gid, nwg);
  if (i >= p.heads * p.n_diag) { return; }
  let h = i / p.n_diag;
  let d = p.d_min + i32(i % p.n_diag);
  var sum = 0.0;
  for (var b = 0u; b < p.batch; b++) {
    for (var qi = 0u; qi < p.tq; qi++) {
      let kj = i32(qi) + p.q_offset + d;
      if (kj >= 0 && kj < i32(p.sk)) { sum += bg_part[p.ds_off + ((b * p.heads + h) * p.sk + u32(kj)) * p.tq + qi]; }
    }
  }
  bg_diag[i] = sum;
}

@group(0) @binding(1) var<storage, read> bt_diag: array<f32>;
@group(0) @binding(2) var<storage, read> bt_lookup: array<i32>;
@group(0) @binding(3) var<storage, read_write> bt_grad: array<f32>;

// d table[bucket, h]: the sum over the relative positions that fall in the bucket.
@compute @workgroup_size(WG)
fn bias_grad_table(@builtin(global_invocation_id) gid: vec3u, @builtin(num_workgroups) nwg: vec3u) {
  let i = flat(gid, nwg);
  if (i >= p.n_buckets * p.heads) { return; }
  let bucket = i32(i / p.heads);
  let h = i % p.heads;
  var sum = 0.0;
  for (var e = 0u; e < p.n_diag; e++) {
    let d = p.d_min + i32(e);
    if (bt_lookup[u32(clamp(d, -p.span, p.span) + p.span)] == bucket) { sum += bt_diag[h * p.n_diag + e]; }
  }
  bt_grad[i] = sum;
}

//!subgroups: everything below needs the `subgroups` feature; the host prepends `enable subgroups;`.
// One lane per row (workgroups of BQ = BK lanes, whole subgroups of SG >= 8 lanes, dk a multiple
// of 4); the lane's own row (q and dO, or k and v) sits in private arrays of vec4s. The other
// operand comes eight rows at a time: lane l loads one vec4 of row l (a single bounds-checked
// gather on lavapipe, where four scalar loads cost four), and subgroupBroadcast hands it to all.
// Lanes past the last row mirror it (all lanes must take part in the broadcasts) and store nothing.

override SG: u32 = 8u;
override DK4: u32 = DK / 4u;
const MAXC4: u32 = MAXC / 4u;

@group(0) @binding(1) var<storage, read> q4: array<vec4f>;
@group(0) @binding(2) var<storage, read> k4: array<vec4f>;
@group(0) @binding(3) var<storage, read> v4: array<vec4f>;
@group(0) @binding(6) var<storage, read> do4: array<vec4f>;

alias Row = array<vec4f, MAXC4>;
var<private> ra: Row;
var<private> rb: Row;

fn load_row(regs: ptr<private, Row>, src: ptr<storage, array<vec4f>, read>, row: u32) {
  for (var x4 = 0u; x4 < DK4; x4++) { (*regs)[x4] = (*src)[row * DK4 + x4]; }
}

// A key row's dk (at 0) and dv (at dv_off), laid out like k.
fn store_key_grads(row: u32, dk: Row, dv: Row) {
  let kg = row * DK;
  for (var x = 0u; x < DK; x++) {
    grad_out[kg + x] = dk[x / 4u][x % 4u];
    grad_out[p.dv_off + kg + x] = dv[x / 4u][x % 4u];
  }
}

// Vec4 x4 of lane l's row among rows c .. c + 7 of `rows`, clamped to `last`.
fn lane_row(src: ptr<storage, array<vec4f>, read>, rows: Rows, c: u32, last: u32, x4: u32, sl: u32) -> vec4f {
  return (*src)[row_at(rows, min(c + sl % 8u, last)) * DK4 + x4];
}

// The dot products of the private row with rows c .. c + 7 of `src` (rows c..c+3, then c+4..c+7).
fn dot8(regs: ptr<private, Row>, src: ptr<storage, array<vec4f>, read>, rows: Rows, c: u32, last: u32, sl: u32) -> array<vec4f, 2> {
  var d0 = vec4(0.0);
  var d1 = vec4(0.0);
  for (var x4 = 0u; x4 < DK4; x4++) {
    let v = lane_row(src, rows, c, last, x4, sl);
    let r = (*regs)[x4];
    d0 += vec4(dot(r, subgroupBroadcast(v, 0u)), dot(r, subgroupBroadcast(v, 1u)), dot(r, subgroupBroadcast(v, 2u)), dot(r, subgroupBroadcast(v, 3u)));
    d1 += vec4(dot(r, subgroupBroadcast(v, 4u)), dot(r, subgroupBroadcast(v, 5u)), dot(r, subgroupBroadcast(v, 6u)), dot(r, subgroupBroadcast(v, 7u)));
  }
  return array(d0, d1);
}

// acc += w . rows c .. c + 7 of `src` (their sum weighted by w[0] for the first four, w[1] after).
// Keys whose `live` is false (masked) add nothing, whatever their rows hold (0 * inf would be NaN).
fn axpy8(acc: ptr<function, Row>, w: array<vec4f, 2>, live: array<vec4<bool>, 2>, src: ptr<storage, array<vec4f>, read>, rows: Rows, c: u32, last: u32, sl: u32) {
  let w0 = w[0];
  let w1 = w[1];
  let l0 = live[0];
  let l1 = live[1];
  let z = vec4(0.0);
  for (var x4 = 0u; x4 < DK4; x4++) {
    let v = lane_row(src, rows, c, last, x4, sl);
    (*acc)[x4] += select(z, w0.x * subgroupBroadcast(v, 0u), l0.x) + select(z, w0.y * subgroupBroadcast(v, 1u), l0.y)
                + select(z, w0.z * subgroupBroadcast(v, 2u), l0.z) + select(z, w0.w * subgroupBroadcast(v, 3u), l0.w)
                + select(z, w1.x * subgroupBroadcast(v, 4u), l1.x) + select(z, w1.y * subgroupBroadcast(v, 5u), l1.y)
                + select(z, w1.z * subgroupBroadcast(v, 6u), l1.z) + select(z, w1.w * subgroupBroadcast(v, 7u), l1.w);
  }
}

fn at8(a: array<vec4f, 2>, e: u32) -> f32 { return a[e / 4u][e % 4u]; }

// Keys per online-softmax step (a multiple of 8).
const KSTEP: u32 = 16u;

@compute @workgroup_size(BQ)
fn attention_forward_sg(@builtin(local_invocation_index) lid: u32, @builtin(workgroup_id) wid: vec3u, @builtin(num_workgroups) nwg: vec3u, @builtin(subgroup_invocation_id) sl: u32) {
  let blk = block_of(wid, nwg, p.nqb, BQ, p.tq);
  if (!blk.live) { return; }
  let qi = lane_block_row(blk, lid);
  let row_ok = lid < blk.rows;
  let qpos = i32(qi) + p.q_offset;
  let qrows = rows_of(blk.bh, p.tq);
  let krows = rows_of(blk.bh, p.sk);
  load_row(&ra, &q4, row_at(qrows, qi));
  let kend = key_end(blk);
  let save = flag(FLAG_SAVE_S);
  if (save && row_ok) { save_s_tail(blk.bh, qi, kend, 0u, 1u); }

  var m = NEG;
  var l = 0.0;
  var acc: Row;
  var sp: array<f32, KSTEP>;
  for (var k0 = 0u; k0 < kend; k0 += KSTEP) {
    let kn = min(KSTEP, kend - k0);
    var mt = m;
    for (var c = 0u; c < kn; c += 8u) {
      let s8 = dot8(&ra, &k4, krows, k0 + c, kend - 1u, sl);
      for (var e = 0u; e < 8u; e++) {
        let kj = k0 + c + e;
        var s = NEG;
        if (row_ok && kj < kend && allowed_fwd(blk.b, kj, qpos)) { s = at8(s8, e) + bias(blk.h, i32(kj) - qpos); }
        if (save && row_ok && kj < kend) { save_s(blk.bh, qi, kj, s); }
        sp[c + e] = s;
        mt = max(mt, s);
      }
    }
    let alpha = exp(m - mt);
    l *= alpha;
    for (var x4 = 0u; x4 < DK4; x4++) { acc[x4] *= alpha; }
    for (var c = 0u; c < kn; c += 8u) {
      var p8 = array(vec4(0.0), vec4(0.0));
      var live8 = array(vec4(false), vec4(false));
      for (var half = 0u; half < 2u; half++) {
        let s4 = vec4(sp[c + 4u * half], sp[c + 4u * half + 1u], sp[c + 4u * half + 2u], sp[c + 4u * half + 3u]);
        live8[half] = live4(s4);
        p8[half] = select(vec4(0.0), exp(s4 - mt), live8[half]);
        l += p8[half].x + p8[half].y + p8[half].z + p8[half].w;
      }
      axpy8(&acc, p8, live8, &v4, krows, k0 + c, kend - 1u, sl);
    }
    m = mt;
  }
  if (row_ok) {
    let qg = row_at(qrows, qi) * DK;
    for (var x = 0u; x < DK; x++) { out[qg + x] = finish(acc[x / 4u][x % 4u], l); }
    lse_out[blk.bh * p.tq + qi] = logsumexp(m, l);
  }
}

@compute @workgroup_size(BQ)
fn attention_backward_dq_sg(@builtin(local_invocation_index) lid: u32, @builtin(workgroup_id) wid: vec3u, @builtin(num_workgroups) nwg: vec3u, @builtin(subgroup_invocation_id) sl: u32) {
  let blk = block_of(wid, nwg, p.nqb, BQ, p.tq);
  if (!blk.live) { return; }
  let qi = lane_block_row(blk, lid);
  let row_ok = lid < blk.rows;
  let qpos = i32(qi) + p.q_offset;
  let qrows = rows_of(blk.bh, p.tq);
  let krows = rows_of(blk.bh, p.sk);
  load_row(&ra, &q4, row_at(qrows, qi));
  load_row(&rb, &do4, row_at(qrows, qi));
  let kend = key_end(blk);

  var acc: Row;
  for (var c = 0u; c < kend; c += 8u) {
    let s8 = dot8(&ra, &k4, krows, c, kend - 1u, sl);
    let dp8 = dot8(&rb, &v4, krows, c, kend - 1u, sl);
    var ds8 = array(vec4(0.0), vec4(0.0));
    var live8 = array(vec4(false), vec4(false));
    for (var e = 0u; e < 8u; e++) {
      let kj = c + e;
      if (row_ok && kj < kend && allowed_bwd(blk.b, kj, qpos)) {
        ds8[e / 4u][e % 4u] = pair(at8(s8, e) + bias(blk.h, i32(kj) - qpos), at8(dp8, e), blk.bh * p.tq + qi).ds;
        live8[e / 4u][e % 4u] = true;
      }
    }
    axpy8(&acc, ds8, live8, &k4, krows, c, kend - 1u, sl);
  }
  if (row_ok) {
    let qg = row_at(qrows, qi) * DK;
    for (var x = 0u; x < DK; x++) { grad_out[qg + x] = acc[x / 4u][x % 4u]; }
  }
}

@compute @workgroup_size(BK)
fn attention_backward_dkdv_sg(@builtin(local_invocation_index) lid: u32, @builtin(workgroup_id) wid: vec3u, @builtin(num_workgroups) nwg: vec3u, @builtin(subgroup_invocation_id) sl: u32) {
  let blk = block_of(wid, nwg, p.nkb, BK, p.sk);
  if (!blk.live) { return; }
  let kj = lane_block_row(blk, lid);
  let key_ok = lid < blk.rows;
  let key_live = key_ok && key_kept(blk.b, kj);
  let qrows = rows_of(blk.bh, p.tq);
  let krows = rows_of(blk.bh, p.sk);
  load_row(&ra, &k4, row_at(krows, kj));
  load_row(&rb, &v4, row_at(krows, kj));
  let part = p.part_off + blk.index * (p.nqt + 1u) * BK;
  let bias_grad = flag(FLAG_BIAS_GRAD);
  let store = flag(FLAG_STORE_DS);

  var dk: Row;
  var dv: Row;
  var carry = 0.0;
  for (var j = 0u; j < p.nqt; j++) {
    let q0 = j * BK;
    let qn = min(BK, p.tq - q0);
    let live = tile_live(blk.first, q0, qn);
    if (live) {
      // Query rows past qn rounded up to 8 (a last, partial tile; the few queries of
      // cross-attention) are skipped; the diagonal sums read them as 0.
      let qn8 = (qn + 7u) & ~7u;
      if (bias_grad) {
        for (var c = qn8; c < BK; c++) { ts[lid * BK + c] = 0.0; }
      }
      for (var c = 0u; c < qn8; c += 8u) {
        let s8 = dot8(&ra, &q4, qrows, q0 + c, p.tq - 1u, sl);
        let dp8 = dot8(&rb, &do4, qrows, q0 + c, p.tq - 1u, sl);
        // Explicit zeros: with Dawn on lavapipe, arrays declared in a loop body without an
        // initialiser kept the previous iteration's values (measured: wrong dk, dq, dtable).
        var p8 = array(vec4(0.0), vec4(0.0));
        var ds8 = array(vec4(0.0), vec4(0.0));
        var live8 = array(vec4(false), vec4(false));
        for (var e = 0u; e < 8u; e++) {
          let qi = q0 + c + e;
          let qpos = i32(qi) + p.q_offset;
          if (key_live && c + e < qn && causal_ok(kj, qpos)) {
            let pg = pair(at8(s8, e) + bias(blk.h, i32(kj) - qpos), at8(dp8, e), blk.bh * p.tq + qi);
            p8[e / 4u][e % 4u] = pg.p;
            ds8[e / 4u][e % 4u] = pg.ds;
            live8[e / 4u][e % 4u] = true;
          }
          if (bias_grad) { ts[lid * BK + c + e] = at8(ds8, e); }
          if (store && key_ok && c + e < qn) { store_ds(blk.bh, qi, kj, at8(ds8, e)); }
        }
        axpy8(&dv, p8, live8, &do4, qrows, q0 + c, p.tq - 1u, sl);
        axpy8(&dk, ds8, live8, &q4, qrows, q0 + c, p.tq - 1u, sl);
      }
    } else if (store && key_ok) {
      for (var c = 0u; c < qn; c++) { store_ds(blk.bh, q0 + c, kj, 0.0); }
    }
    if (bias_grad) {
      workgroupBarrier();
      var sums = vec2(0.0);
      if (live) { sums = diagonal_sums(lid); }
      grad_out[part + (p.nqt - j) * BK + lid] = carry + sums.y;
      carry = sums.x;
      workgroupBarrier();
    }
  }
  if (bias_grad) { grad_out[part + lid] = carry; }
  if (key_ok) { store_key_grads(row_at(krows, kj), dk, dv); }
}

@group(0) @binding(2) var<storage, read> o4: array<vec4f>;

// The backward by matmuls, its elementwise part fused with dP = dO v^T and with backward_prep's
// part (backward_scores, the dP matmul and the prep in one pass): a lane per query holds its dO
// row, takes D = rowsum(dO * O) and its logsumexp (the forward's output at binding 2, its
// logsumexp buffer, scores included, at 1), v comes eight rows at a time as in the forward, and
// the lanes write neighbouring words of P^T (at 0) and dS^T (at ds_off).
@compute @workgroup_size(BQ)
fn backward_scores_sg(@builtin(local_invocation_index) lid: u32, @builtin(workgroup_id) wid: vec3u, @builtin(num_workgroups) nwg: vec3u, @builtin(subgroup_invocation_id) sl: u32) {
  let blk = block_of(wid, nwg, p.nqb, BQ, p.tq);
  if (!blk.live) { return; }
  let qi = lane_block_row(blk, lid);
  let row_ok = lid < blk.rows;
  let row = blk.bh * p.tq + qi;
  let at = row_at(rows_of(blk.bh, p.tq), qi);
  load_row(&rb, &do4, at);
  let krows = rows_of(blk.bh, p.sk);
  let lse = saved_st[row];
  var d = 0.0;
  for (var x4 = 0u; x4 < DK4; x4++) { d += dot(rb[x4], o4[at * DK4 + x4]); }
  for (var c = 0u; c < p.sk; c += 8u) {
    let dp8 = dot8(&rb, &v4, krows, c, p.sk - 1u, sl);
    for (var e = 0u; e < 8u; e++) {
      let kj = c + e;
      if (row_ok && kj < p.sk) { store_p_ds((blk.bh * p.sk + kj) * p.tq + qi, at8(dp8, e), lse, d); }
    }
  }
}

// Weights of rows c .. c + 7 for axpy8, read from `src` at first, first + stride, ...; rows from
// `end` on are not live (and not read).
struct Weights8 { w: array<vec4f, 2>, live: array<vec4<bool>, 2> }

fn load8(src: ptr<storage, array<f32>, read>, first: u32, stride: u32, c: u32, end: u32) -> Weights8 {
  // Explicit zeros (see attention_backward_dkdv_sg).
  var r = Weights8(array(vec4(0.0), vec4(0.0)), array(vec4(false), vec4(false)));
  for (var e = 0u; e < 8u; e++) {
    if (c + e < end) {
      r.w[e / 4u][e % 4u] = (*src)[first + e * stride];
      r.live[e / 4u][e % 4u] = true;
    }
  }
  return r;
}

// attention_backward_dq_ds on the subgroup layout: a lane per query, k eight rows at a time.
@compute @workgroup_size(BQ)
fn attention_backward_dq_ds_sg(@builtin(local_invocation_index) lid: u32, @builtin(workgroup_id) wid: vec3u, @builtin(num_workgroups) nwg: vec3u, @builtin(subgroup_invocation_id) sl: u32) {
  let blk = block_of(wid, nwg, p.nqb, BQ, p.tq);
  if (!blk.live) { return; }
  let qi = lane_block_row(blk, lid);
  let krows = rows_of(blk.bh, p.sk);
  let kend = key_end(blk);
  var acc: Row;
  for (var c = 0u; c < kend; c += 8u) {
    let ds8 = load8(&ds_in, ds_index(blk.bh, qi, c), ds_key_stride(), c, kend);
    axpy8(&acc, ds8.w, ds8.live, &k4, krows, c, kend - 1u, sl);
  }
  if (lid < blk.rows) {
    let qg = row_at(rows_of(blk.bh, p.tq), qi) * DK;
    for (var x = 0u; x < DK; x++) { dq_out[qg + x] = acc[x / 4u][x % 4u]; }
  }
}

@group(0) @binding(2) var<storage, read> pds_in: array<f32>;

// The backward by matmuls' dk = dS^T q and dv = P^T dO from P^T (at 0) and dS^T (at ds_off): a
// lane per key holds its own row of both, q and dO come eight rows at a time. Outputs as the dk/dv
// kernel writes them (dk at 0, dv at dv_off, rows laid out like k).
@compute @workgroup_size(BK)
fn attention_backward_dkdv_pds_sg(@builtin(local_invocation_index) lid: u32, @builtin(workgroup_id) wid: vec3u, @builtin(num_workgroups) nwg: vec3u, @builtin(subgroup_invocation_id) sl: u32) {
  let blk = block_of(wid, nwg, p.nkb, BK, p.sk);
  if (!blk.live) { return; }
  let kj = lane_block_row(blk, lid);
  let qrows = rows_of(blk.bh, p.tq);
  let at = (blk.bh * p.sk + kj) * p.tq;
  var dk: Row;
  var dv: Row;
  for (var c = 0u; c < p.tq; c += 8u) {
    let p8 = load8(&pds_in, at + c, 1u, c, p.tq);
    let ds8 = load8(&pds_in, p.ds_off + at + c, 1u, c, p.tq);
    axpy8(&dv, p8.w, p8.live, &do4, qrows, c, p.tq - 1u, sl);
    axpy8(&dk, ds8.w, ds8.live, &q4, qrows, c, p.tq - 1u, sl);
  }
  if (lid < blk.rows) { store_key_grads(row_at(rows_of(blk.bh, p.sk), kj), dk, dv); }
}
