// Kernel family `rbf_svgd`: hosts src/bayes/{rbf,svgd,rmsprop}.ts, float64 references
// test/ref/rbf_svgd.ts, test test/bayes/rbf_svgd.test.ts, benchmark bench/rbf_svgd.ts.
//
// Variants: sqdist_partial; bandwidth with MEDIAN on (median heuristic) and off (fixed h);
// svgd_phi; svgd_stats and stats_finish (diagnostics); rmsprop. Each specialised by M.
//
// Measured (lavapipe, 2 cores, 2026-11-25, M = 5, D = 76 800, 50 timed iterations, load
// 3.6 -> 4.0, svgd-2026-11-25T11-20-11.json; GB/s of the compulsory traffic over [M, D]):
//   case                              dispatches  gpu ms  wall ms  GB/s (gpu)
//   svgdDirection                     3           13.7    15.3     0.45
//   + kernelStats                     5           26.4    24.5     0.35
//   direction + SvgdRmsprop update    4           12.5    14.8     1.10
// Per-kernel medians: sqdist 7.5-9.1 ms (the pairwise distances dominate), stats 8.8 ms, phi
// 1.2-1.6 ms, rmsprop 2.7 ms, bandwidth 0.07 ms. Against a BPT source step (docs/BENCHMARKS.md)
// direction + kernelStats is 0.026% of the full-shape step.
//
// RBF kernel over M particles of dimension D, its bandwidth, and the SVGD direction
// (Liu & Wang 2016; conventions of their python/svgd.py). Host side: src/bayes/{rbf,svgd,rmsprop}.ts.
//
//   sqdist_partial  one workgroup per (pair i < j, chunk of D): partial sums of (x_i - x_j)^2.
//                   The direct difference form, never |x|^2 + |y|^2 - 2 x.y, which cancels
//                   catastrophically at D ~ 1e5 in f32; lanes sum PER_LANE terms, then a tree.
//   bandwidth       one workgroup: chunk sums per pair (blocked), the median over the full M x M
//                   matrix (zero diagonal included) by ranking the pairs, h, and K.
//   svgd_phi        one invocation per column d, for all i: reads K and h from storage.
//   svgd_stats      the same column terms, split into attraction and repulsion, squared and
//                   summed per workgroup; stats_finish adds them up (logging only).
//   rmsprop         the SVGD code's adagrad-with-momentum update, in place.
//
// Each entry point declares its own bindings; numbers are reused across entry points.

override M: u32 = 5;          // particles; <= MMAX (checked on the host)
override WG: u32 = 256;
override PER_LANE: u32 = 8;   // elements of D per lane in one sqdist_partial workgroup
override MEDIAN: bool = true; // bandwidth: median heuristic, else the fixed h in the params

const MMAX: u32 = 64u;
const PMAX: u32 = MMAX * (MMAX - 1u) / 2u;
// Chunk partial sums are added in blocks of this many before the block totals are combined, so a
// long chain of additions never runs through one accumulator.
const BLOCK: u32 = 16u;

var<workgroup> red: array<f32, WG>;

// Tree sum over the workgroup; call from uniform control flow. Returns the total to every lane.
fn wg_sum(lane: u32, v: f32) -> f32 {
  workgroupBarrier();
  red[lane] = v;
  workgroupBarrier();
  for (var s = WG / 2u; s > 0u; s >>= 1u) {
    if (lane < s) { red[lane] += red[lane + s]; }
    workgroupBarrier();
  }
  return red[0];
}

// Pairs i < j are numbered row by row over the upper triangle.
fn pair_index(i: u32, j: u32) -> u32 {
  return i * M - i * (i + 1u) / 2u + (j - i - 1u);
}

fn pair_of(p: u32) -> vec2u {
  var i = 0u;
  var rest = p;
  loop {
    let row = M - 1u - i;
    if (rest < row) { break; }
    rest -= row;
    i++;
  }
  return vec2u(i, i + 1u + rest);
}

// ---- sqdist_partial: x [M, D] -> partial [pairs, chunks] ----

// DistParams: declared in src/bayes/kernels.ts, appended when the pipeline is created.
@group(0) @binding(0) var<uniform> pd: DistParams;
@group(0) @binding(1) var<storage, read> dist_x: array<f32>;
@group(0) @binding(2) var<storage, read_write> dist_partial: array<f32>;

@compute @workgroup_size(WG)
fn sqdist_partial(@builtin(local_invocation_id) lid: vec3u, @builtin(workgroup_id) wid: vec3u, @builtin(num_workgroups) nwg: vec3u) {
  let idx = wid.x + wid.y * nwg.x;
  let live = idx < (M * (M - 1u) / 2u) * pd.chunks;
  var acc = 0.0;
  if (live) {
    let pr = pair_of(idx / pd.chunks);
    let a = pr.x * pd.d;
    let b = pr.y * pd.d;
    let start = (idx % pd.chunks) * WG * PER_LANE + lid.x;
    for (var k = 0u; k < PER_LANE; k++) {
      let e = start + k * WG;
      if (e < pd.d) {
        let t = dist_x[a + e] - dist_x[b + e];
        acc += t * t;
      }
    }
  }
  let total = wg_sum(lid.x, acc);
  if (live && lid.x == 0u) { dist_partial[idx] = total; }
}

// ---- bandwidth: partial [pairs, chunks] -> K [M, M], h [1] ----

// BandParams: declared in src/bayes/kernels.ts, appended when the pipeline is created.
@group(0) @binding(0) var<uniform> pb: BandParams;
@group(0) @binding(1) var<storage, read> partials: array<f32>;
@group(0) @binding(2) var<storage, read_write> band_k: array<f32>;
@group(0) @binding(3) var<storage, read_write> band_h: array<f32>;

var<workgroup> sq: array<f32, PMAX>;
var<workgroup> middle: array<f32, 2>;
var<workgroup> h_shared: f32;

fn sum_partials(base: u32, n: u32) -> f32 {
  var total = 0.0;
  for (var b = 0u; b < n; b += BLOCK) {
    var block = 0.0;
    for (var t = b; t < min(b + BLOCK, n); t++) { block += partials[base + t]; }
    total += block;
  }
  return total;
}

@compute @workgroup_size(WG)
fn bandwidth(@builtin(local_invocation_id) lid: vec3u) {
  let pairs = M * (M - 1u) / 2u;
  for (var q = lid.x; q < pairs; q += WG) { sq[q] = sum_partials(q * pb.chunks, pb.chunks); }
  if (lid.x == 0u) {
    middle[0] = 0.0;
    middle[1] = 0.0;
  }
  workgroupBarrier();
  if (MEDIAN) {
    // Sorted, the full M x M matrix is M zeros followed by every pair distance twice, so sorted
    // position k >= M holds the pair of rank (k - M) / 2. The median is the mean of positions
    // (n - 1) / 2 and n / 2 (numpy's median; the same position when n = M^2 is odd). Ranks break
    // ties by pair index, so every rank belongs to exactly one pair.
    let n = M * M;
    let lo = (n - 1u) / 2u;
    let hi = n / 2u;
    for (var q = lid.x; q < pairs; q += WG) {
      let v = sq[q];
      var rank = 0u;
      for (var t = 0u; t < pairs; t++) {
        let w = sq[t];
        rank += select(0u, 1u, w < v || (w == v && t < q));
      }
      if (lo >= M && rank == (lo - M) / 2u) { middle[0] = v; }
      if (hi >= M && rank == (hi - M) / 2u) { middle[1] = v; }
    }
    workgroupBarrier();
  }
  if (lid.x == 0u) {
    var h = pb.fixed_h;
    if (MEDIAN) {
      let med = 0.5 * (middle[0] + middle[1]);
      // A zero median (M = 1, or at least half the pairs coincide) would give h = 0 and K = 0/0;
      // coinciding particles have K = 1 for every h > 0, so h = 1 is as good as any.
      h = select(sqrt(med * pb.half_inv_log), 1.0, med == 0.0);
    }
    h_shared = h;
    band_h[0] = h;
  }
  workgroupBarrier();
  let c = -0.5 / (h_shared * h_shared);
  for (var e = lid.x; e < M * M; e += WG) {
    let i = e / M;
    let j = e % M;
    var k = 1.0;
    if (i != j) { k = exp(sq[pair_index(min(i, j), max(i, j))] * c); }
    band_k[e] = k;
  }
}

// ---- svgd_phi / svgd_stats: x, score [M, D], K [M, M], h [1] ----

// ColParams: declared in src/bayes/kernels.ts, appended when the pipeline is created.
@group(0) @binding(0) var<uniform> pc: ColParams;
@group(0) @binding(1) var<storage, read> col_x: array<f32>;
@group(0) @binding(2) var<storage, read> col_s: array<f32>;
@group(0) @binding(3) var<storage, read> col_k: array<f32>;
@group(0) @binding(4) var<storage, read> col_h: array<f32>;
@group(0) @binding(5) var<storage, read_write> phi: array<f32>;
@group(0) @binding(5) var<storage, read_write> stats_partial: array<f32>;

var<private> xs: array<f32, MMAX>;
var<private> ss: array<f32, MMAX>;

fn load_column(e: u32) {
  for (var j = 0u; j < M; j++) {
    xs[j] = col_x[j * pc.d + e];
    ss[j] = col_s[j * pc.d + e];
  }
}

fn inv_h2() -> f32 {
  let h = col_h[0];
  return 1.0 / (h * h);
}

@compute @workgroup_size(WG)
fn svgd_phi(@builtin(global_invocation_id) gid: vec3u, @builtin(num_workgroups) nwg: vec3u) {
  let e = gid.x + gid.y * nwg.x * WG;
  if (e >= pc.d) { return; }
  load_column(e);
  let r = inv_h2();
  for (var i = 0u; i < M; i++) {
    var acc = 0.0;
    // (x_i - x_j) K_ij rather than x_i sum_j K_ij - sum_j K_ij x_j: no cancellation.
    for (var j = 0u; j < M; j++) { acc += col_k[i * M + j] * (ss[j] + (xs[i] - xs[j]) * r); }
    phi[i * pc.d + e] = acc / f32(M);
  }
}

// stats_partial: [workgroups] squared attraction, [workgroups] squared repulsion, then the mean
// off-diagonal K and h (written by workgroup 0).
@compute @workgroup_size(WG)
fn svgd_stats(@builtin(local_invocation_id) lid: vec3u, @builtin(workgroup_id) wid: vec3u, @builtin(num_workgroups) nwg: vec3u) {
  let w = wid.x + wid.y * nwg.x;
  let groups = (pc.d + WG - 1u) / WG;
  let e = w * WG + lid.x;
  let r = inv_h2();
  var att2 = 0.0;
  var rep2 = 0.0;
  if (w < groups && e < pc.d) {
    load_column(e);
    for (var i = 0u; i < M; i++) {
      var att = 0.0;
      var rep = 0.0;
      for (var j = 0u; j < M; j++) {
        let k = col_k[i * M + j];
        att += k * ss[j];
        rep += k * (xs[i] - xs[j]);
      }
      att /= f32(M);
      rep *= r / f32(M);
      att2 += att * att;
      rep2 += rep * rep;
    }
  }
  let a = wg_sum(lid.x, att2);
  let b = wg_sum(lid.x, rep2);
  if (w < groups && lid.x == 0u) {
    stats_partial[w] = a;
    stats_partial[groups + w] = b;
    if (w == 0u) {
      var off = 0.0;
      for (var i = 0u; i < M; i++) {
        for (var j = 0u; j < M; j++) { off += select(col_k[i * M + j], 0.0, i == j); }
      }
      stats_partial[2u * groups] = off / f32(max(M * (M - 1u), 1u));
      stats_partial[2u * groups + 1u] = col_h[0];
    }
  }
}

// ---- stats_finish: stats_partial -> [mean off-diagonal K, |attraction|, |repulsion|, h] ----

// FinishParams: declared in src/bayes/kernels.ts, appended when the pipeline is created.
@group(0) @binding(0) var<uniform> pf: FinishParams;
@group(0) @binding(2) var<storage, read_write> stats: array<f32>;

@compute @workgroup_size(1)
fn stats_finish() {
  stats[0] = partials[2u * pf.groups];
  stats[1] = sqrt(sum_partials(0u, pf.groups));
  stats[2] = sqrt(sum_partials(pf.groups, pf.groups));
  stats[3] = partials[2u * pf.groups + 1u];
}

// ---- rmsprop: phi -> theta, history (in place) ----
// hist = phi^2 on the first step, then alpha hist + (1 - alpha) phi^2;
// theta += step * phi / (fudge + sqrt(hist)).

// RmsParams: declared in src/bayes/kernels.ts, appended when the pipeline is created.
@group(0) @binding(0) var<uniform> pr: RmsParams;
@group(0) @binding(1) var<storage, read> rms_phi: array<f32>;
@group(0) @binding(2) var<storage, read_write> theta: array<f32>;
@group(0) @binding(3) var<storage, read_write> hist: array<f32>;

@compute @workgroup_size(WG)
fn rmsprop(@builtin(global_invocation_id) gid: vec3u, @builtin(num_workgroups) nwg: vec3u) {
  let e = gid.x + gid.y * nwg.x * WG;
  if (e >= pr.n) { return; }
  let g = rms_phi[e];
  let g2 = g * g;
  let v = select(pr.alpha * hist[e] + (1.0 - pr.alpha) * g2, g2, pr.first != 0u);
  hist[e] = v;
  theta[e] += pr.step * g / (pr.fudge + sqrt(v));
}
