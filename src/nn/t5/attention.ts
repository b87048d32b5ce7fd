// T5's fused attention (shaders/t5_attention.wgsl): unscaled scores, the relative position bias
// looked up from (query, key) positions inside the kernel, key padding and causal masks, softmax
// and the value product in one pass; and its VJP for q, k, v and the bias table.
//
// The bias table is an ordinary input, so T5 passes layer 0's table to every layer of a stack and
// the tape sums the layers' table gradients. Its gradient kernels run only when the table needs
// one (prompt tuning freezes it and gets dq, dk, dv alone).
import code from '../../../shaders/t5_attention.wgsl';
import { needsGrad, noGrad, record } from '../../autograd/tape.js';
import { gpu, GpuError, onShutdown } from '../../gpu/device.js';
import { grid, type Kernel, type Overrides } from '../../gpu/kernels.js';
import { uniformStruct, type ParamValues } from '../../gpu/params.js';
import { describeOp, expectDType, expectShape, launch } from '../../ops/launch.js';
import { matmul } from '../../ops/matmul.js';
import { tensor } from '../../tensor/create.js';
import { keep } from '../../tensor/scope.js';
import { fmtShape, Tensor, VIEW_ALIGN } from '../../tensor/tensor.js';

// The subgroup kernels sit below a marker in the shader: adapters without the feature compile only
// the part above it, and the part with subgroups needs the `enable` directive first.
const PORTABLE_CODE = code.slice(0, code.indexOf('//!subgroups'));
const SUBGROUP_CODE = `enable subgroups;\n${code}`;
/** The parameters every attention kernel reads (each reads the fields it needs). */
const ATTENTION_PARAMS = uniformStruct('Params', {
  batch: 'u32', heads: 'u32', tq: 'u32', sk: 'u32',
  // Position of the first query (a decoder step with a key/value cache).
  q_offset: 'i32',
  // Half-width of the bucket lookup: relative positions are clamped to [-span, span].
  span: 'i32',
  // Query blocks of BQ rows (forward, dq) and key blocks of BK rows (dk/dv).
  nqb: 'u32', nkb: 'u32',
  // Query tiles of BK rows that the dk/dv kernel walks.
  nqt: 'u32',
  n_buckets: 'u32',
  // Relative positions covered by the diagonal partial sums: d_min .. d_min + n_diag - 1.
  n_diag: 'u32', d_min: 'i32',
  // Element offsets of dv, of the diagonal partial sums and of dS in the dk/dv output buffer (dS:
  // also in the scores kernel's output, after P).
  dv_off: 'u32', part_off: 'u32', ds_off: 'u32',
  // Element offset of the saved scores in the forward's logsumexp output.
  s_off: 'u32',
  // FLAG_* bits. Uniform branches cost next to nothing, and every flag as an override would
  // multiply the pipelines to compile.
  flags: 'u32',
});
type AttentionParams = ParamValues<typeof ATTENTION_PARAMS.spec>;
const kernel = (name: string, entry: string, inputs: number, outputs: number, subgroups = false): Kernel<typeof ATTENTION_PARAMS.spec> => ({
  name: `t5_attention.${name}`,
  code: subgroups ? SUBGROUP_CODE : PORTABLE_CODE,
  entry,
  params: ATTENTION_PARAMS,
  inputs,
  outputs,
});
const FORWARD = kernel('forward', 'attention_forward', 6, 2);
const DQ = kernel('backward_dq', 'attention_backward_dq', 7, 1);
const DKDV = kernel('backward_dkdv', 'attention_backward_dkdv', 7, 1);
const FORWARD_SG = kernel('forward_sg', 'attention_forward_sg', 6, 2, true);
const DQ_SG = kernel('backward_dq_sg', 'attention_backward_dq_sg', 7, 1, true);
const DKDV_SG = kernel('backward_dkdv_sg', 'attention_backward_dkdv_sg', 7, 1, true);
const PREP = kernel('backward_prep', 'backward_prep', 4, 1);
const BIAS_DIAG = kernel('bias_grad_diag', 'bias_grad_diag', 1, 1);
const BIAS_REL = kernel('bias_grad_rel', 'bias_grad_rel', 1, 1);
const SCORES = kernel('backward_scores', 'backward_scores', 7, 1);
const SCORES_SG = kernel('backward_scores_sg', 'backward_scores_sg', 7, 1, true);
const BIAS_TABLE = kernel('bias_grad_table', 'bias_grad_table', 2, 1);
const DQ_DS = kernel('backward_dq_ds', 'attention_backward_dq_ds', 2, 1);
const DQ_DS_SG = kernel('backward_dq_ds_sg', 'attention_backward_dq_ds_sg', 2, 1, true);
const DKDV_PDS_SG = kernel('backward_dkdv_pds_sg', 'attention_backward_dkdv_pds_sg', 7, 1, true);

const WG = 64;
/** Output columns one invocation may own (MAXC in the shader): a staged row's share, a subgroup lane's row. */
const MAX_COLS = 128;

/**
 * Hugging Face's `T5Attention._relative_position_bucket` for one relative position
 * (key position - query position), bit for bit: the log-spaced buckets are computed in float32
 * as PyTorch does (each operation rounded to float32, then truncated).
 */
export function relativePositionBucket(relPos: number, bidirectional: boolean, numBuckets: number, maxDistance: number): number {
  let nb = numBuckets;
  let bucket = 0;
  let n: number;
  if (bidirectional) {
    nb = Math.floor(nb / 2);
    if (relPos > 0) bucket += nb;
    n = Math.abs(relPos);
  } else {
    n = -Math.min(relPos, 0);
  }
  const maxExact = Math.floor(nb / 2);
  if (n < maxExact) return bucket + n;
  const f = Math.fround;
  const scaled = f(f(f(Math.log(f(n / maxExact))) / f(Math.log(maxDistance / maxExact))) * (nb - maxExact));
  return bucket + Math.min(maxExact + Math.trunc(scaled), nb - 1);
}

/** The relative position bias of one attention call. */
export interface T5AttentionBias {
  /** f32 [numBuckets, H]: Hugging Face's `relative_attention_bias.weight`. */
  table: Tensor;
  /** True in the encoder; false (only keys at or before the query get distinct buckets) in the decoder. */
  bidirectional: boolean;
  numBuckets: number;
  maxDistance: number;
  /** Position of the first query (a decoder step after `queryOffset` cached positions); default 0. */
  queryOffset?: number;
}

/**
 * Kernel layout: 'staged' (portable; tiles in workgroup memory, for real GPUs) or 'subgroup'
 * (a lane per row, rows shared by subgroup shuffles, no workgroup memory: for lavapipe).
 */
export type T5AttentionVariant = 'staged' | 'subgroup';

/**
 * Where the heads sit in q, k, v, the output and their gradients: 'bhtd' ([B, H, T, dk], heads
 * first) or 'bthd' ([B, T, H, dk], tokens first: a projection's [B, T, H * dk] output reshaped
 * without a copy; the output reshapes to [B, T, H * dk] for the next projection). The kernels read
 * and write rows in either layout, so 'bthd' needs no head split or merge copies.
 */
export type T5AttentionLayout = 'bhtd' | 'bthd';

export interface T5AttentionOptions {
  /** Relative position bias; absent for cross-attention. */
  bias?: T5AttentionBias;
  /** i32 or f32 [B, S]: nonzero keeps a key, 0 masks it for every query. */
  keyMask?: Tensor;
  /** Queries see only keys at or before their own position (queryOffset + row). */
  causal?: boolean;
  /** Position of the first query when there is no bias (with a bias, `bias.queryOffset`). */
  queryOffset?: number;
  /** Kernel layout; by default 'subgroup' on software adapters that can run it, else 'staged'. */
  variant?: T5AttentionVariant;
  /** How the backward runs (see T5AttentionBackward); by default chosen per adapter and size. */
  backward?: T5AttentionBackward;
  /** Layout of q, k, v and the output; default 'bhtd'. */
  layout?: T5AttentionLayout;
}

/**
 * Ways to run the backward, by the score-sized ([B, H, T, S]) memory they take. The forward does two
 * score-sized products (q k^T, P v).
 *   'matmul'    the forward keeps its scores (when q, k, v or the table need gradients); the
 *               backward gets P and dS from them and dO v^T (one kernel on the subgroup layout;
 *               a matmul and an elementwise kernel on the staged one), then dq, dk, dv as plain
 *               products (two kernels on the subgroup layout; the engine's matmul on the staged
 *               one, which therefore needs 'bhtd'): four products, the scores kept from forward
 *               to backward and two or three transient buffers (all transposed, [B, H, S, T], for
 *               the forward's writes). The default on software adapters (lavapipe), whose plain
 *               products outrun the fused kernels.
 *   'fused'     the dk/dv kernel recomputes the scores from the logsumexp and stores dS; dq = dS k
 *               is one more kernel: five products, one transient buffer. The default on GPUs.
 *   'recompute' a dq kernel recomputes the scores once more: seven products, no score-sized memory.
 * Beyond 256 MiB of scores the default is 'recompute'; in 'fused' and 'recompute' q alone gets
 * the dq kernel.
 */
export type T5AttentionBackward = 'matmul' | 'fused' | 'recompute';

/** The largest score-sized buffer ([B, H, T, S]) that the default backward keeps. */
const SCORES_MAX_BYTES = 256 * 2 ** 20;

/** Lookup of bucket ids for relative positions -maxDistance..maxDistance, cached per configuration. */
const lookups = new Map<string, Tensor>();
onShutdown(() => lookups.clear());

function bucketLookup(bidirectional: boolean, numBuckets: number, maxDistance: number): Tensor {
  const key = `${bidirectional}/${numBuckets}/${maxDistance}`;
  let t = lookups.get(key);
  if (!t) {
    // Beyond maxDistance every bucket is the last of its side, so clamping to it is exact.
    const ids = Int32Array.from({ length: 2 * maxDistance + 1 }, (_, i) =>
      relativePositionBucket(i - maxDistance, bidirectional, numBuckets, maxDistance),
    );
    t = keep(tensor(ids, [ids.length], 'i32'));
    t.name = `t5 buckets ${key}`;
    lookups.set(key, t);
  }
  return t;
}

interface Geometry {
  B: number;
  H: number;
  T: number;
  S: number;
  dk: number;
  offset: number;
  /** Layout 'bthd'. */
  tokensFirst: boolean;
}

interface Tiles {
  subgroup: boolean;
  /** Query rows per forward/dq workgroup. */
  bq: number;
  /** Key rows per tile; also the square tile of the dk/dv kernel. */
  bk: number;
  overrides: Overrides;
}

const pow2ceil = (n: number) => 2 ** Math.ceil(Math.log2(Math.max(n, 1)));

/** The subgroup size the subgroup kernels can rely on, or 0 when they cannot run here. */
function fixedSubgroupSize(dk: number): number {
  const g = gpu();
  const { subgroupMinSize: min, subgroupMaxSize: max } = g.report;
  // Rows travel as vec4s, handed out eight at a time by subgroupBroadcast from lanes 0..7.
  return g.hasSubgroups && min === max && min >= 8 && dk <= MAX_COLS && dk % 4 === 0 ? min : 0;
}

/** The kernel layouts this adapter can run for head size `dk`. */
export function t5AttentionVariants(dk: number): T5AttentionVariant[] {
  return fixedSubgroupSize(dk) > 0 ? ['staged', 'subgroup'] : ['staged'];
}

function chooseTiles(variant: T5AttentionVariant | undefined, dk: number): Tiles {
  const sg = fixedSubgroupSize(dk);
  if (variant === 'subgroup' && sg === 0) {
    throw new GpuError(`t5Attention: the subgroup variant needs subgroups of one fixed size of at least 8 and dk a multiple of 4 up to ${MAX_COLS} (dk ${dk})`);
  }
  if (variant === 'subgroup' || (variant === undefined && sg > 0 && gpu().report.isSoftware)) {
    const rows = Math.max(16, sg);
    return { subgroup: true, bq: rows, bk: rows, overrides: { DK: dk, SG: sg } };
  }
  const tpr = Math.max(pow2ceil(Math.ceil(dk / MAX_COLS)), Math.min(16, pow2ceil(dk)));
  const limit = gpu().device.limits.maxComputeWorkgroupStorageSize;
  // Workgroup memory of dk/dv: four staged tiles (q, dO, k, v; row stride dk + 1), two score tiles.
  const bytes = (tile: number) => 4 * (4 * tile * (dk + 1) + 2 * tile * tile);
  let tile = 16;
  while (tile > 1 && bytes(tile) > limit) tile /= 2;
  if (bytes(tile) > limit) throw new GpuError(`t5Attention: head size ${dk} needs more than ${limit} bytes of workgroup memory`);
  return { subgroup: false, bq: tile, bk: tile, overrides: { DK: dk, TPR: tpr } };
}

/** Bits of Params.flags (FLAG_* in the shader). */
const FLAG = { bias: 1, mask: 2, maskF32: 4, causal: 8, biasGrad: 16, storeDs: 32, saveS: 64, tokensFirst: 128, dsT: 256 } as const;

function paramsFor(
  g: Geometry,
  flags: number,
  span: number,
  nqb: number,
  bk: number,
  extra: { nBuckets?: number; dvOff?: number; partOff?: number; dsOff?: number; sOff?: number } = {},
): AttentionParams {
  const nkb = Math.ceil(g.S / bk);
  const nqt = Math.ceil(g.T / bk);
  return {
    batch: g.B, heads: g.H, tq: g.T, sk: g.S, q_offset: g.offset, span,
    nqb, nkb, nqt, n_buckets: extra.nBuckets ?? 0, n_diag: (nkb + nqt) * bk, d_min: 1 - g.offset - nqt * bk,
    dv_off: extra.dvOff ?? 0, part_off: extra.partOff ?? 0, ds_off: extra.dsOff ?? 0, s_off: extra.sOff ?? 0, flags,
  };
}

function validate(q: Tensor, k: Tensor, v: Tensor, opts: T5AttentionOptions): Geometry {
  const op = 't5Attention';
  expectDType(op, 'f32', q, k, v);
  const tokensFirst = opts.layout === 'bthd';
  if (opts.layout !== undefined && !tokensFirst && opts.layout !== 'bhtd') throw new GpuError(`${op}: layout must be 'bhtd' or 'bthd', got '${String(opts.layout)}'`);
  const [tAxis, hAxis] = tokensFirst ? [1, 2] : [2, 1];
  const dims = tokensFirst ? '[B,T,H,dk] and [B,S,H,dk]' : '[B,H,T,dk] and [B,H,S,dk]';
  if (q.rank !== 4 || k.rank !== 4) throw new GpuError(`${op}: q and k must be ${dims}, got ${q.describe()} and ${k.describe()}`);
  const [B, , , dk] = q.shape as [number, number, number, number];
  const H = q.shape[hAxis]!, T = q.shape[tAxis]!, S = k.shape[tAxis]!;
  const kShape = tokensFirst ? [B, S, H, dk] : [B, H, S, dk];
  expectShape(op, k, kShape, 'k');
  expectShape(op, v, kShape, 'v');
  if (B < 1 || H < 1 || T < 1 || S < 1 || dk < 1) throw new GpuError(`${op}: empty attention q ${fmtShape(q.shape)} k ${fmtShape(k.shape)}`);
  const { bias, keyMask } = opts;
  if (bias && opts.queryOffset !== undefined && bias.queryOffset !== undefined && bias.queryOffset !== opts.queryOffset) {
    throw new GpuError(`${op}: queryOffset ${opts.queryOffset} disagrees with bias.queryOffset ${bias.queryOffset}`);
  }
  const offset = bias?.queryOffset ?? opts.queryOffset ?? 0;
  if (!Number.isInteger(offset) || offset < 0) throw new GpuError(`${op}: queryOffset must be a non-negative integer, got ${offset}`);
  if (bias) {
    const { numBuckets: nb, maxDistance: md } = bias;
    const maxExact = Math.floor((bias.bidirectional ? Math.floor(nb / 2) : nb) / 2);
    if (!Number.isInteger(nb) || !Number.isInteger(md) || maxExact < 1 || md <= maxExact) {
      throw new GpuError(`${op}: need integer numBuckets with at least one exact bucket and maxDistance above it, got numBuckets ${nb}, maxDistance ${md}`);
    }
    expectDType(op, 'f32', bias.table);
    expectShape(op, bias.table, [nb, H], 'bias table');
  }
  if (keyMask) {
    keyMask.assertAlive(op);
    expectShape(op, keyMask, [B, S], 'keyMask');
  }
  return { B, H, T, S, dk, offset, tokensFirst };
}

/**
 * T5 attention: softmax(q k^T + bias + masks) v over [B, H, T, dk] queries and [B, H, S, dk]
 * keys and values (or, with layout 'bthd', [B, T, H, dk] and [B, S, H, dk]; the output has q's
 * shape), without T5's absent 1/sqrt(dk) scaling. The bias is
 * table[bucket(key position - query position), head]; masked keys get probability 0, and a query
 * that sees no key at all gets a zero output. Differentiable in q, k, v and the bias table.
 */
export function t5Attention(q: Tensor, k: Tensor, v: Tensor, opts: T5AttentionOptions = {}): Tensor {
  const g = validate(q, k, v, opts);
  const { bias, keyMask } = opts;
  const tiles = chooseTiles(opts.variant, g.dk);
  const lookup = bias ? bucketLookup(bias.bidirectional, bias.numBuckets, bias.maxDistance) : null;
  const span = bias?.maxDistance ?? 0;
  const nqb = Math.ceil(g.T / tiles.bq);
  const flags =
    (bias ? FLAG.bias : 0) |
    (keyMask ? FLAG.mask : 0) |
    (keyMask?.dtype === 'f32' ? FLAG.maskF32 : 0) |
    (opts.causal ? FLAG.causal : 0) |
    (g.tokensFirst ? FLAG.tokensFirst : 0);
  const mode = backwardMode(opts.backward, g, tiles);
  // The backward by matmuls reads the forward's scores: kept after the logsumexps when it will run.
  const rows = g.B * g.H * g.T;
  const sOff = mode === 'matmul' && needsGrad(q, k, v, ...(bias ? [bias.table] : [])) ? align(rows) : 0;
  const out = Tensor.empty(q.shape, 'f32', 't5Attention');
  const lse = Tensor.empty([sOff ? sOff + rows * g.S : rows], 'f32', 't5Attention.lse');
  launch(tiles.subgroup ? FORWARD_SG : FORWARD, {
    inputs: [q, k, v, bias?.table ?? q, lookup ?? q, keyMask ?? q],
    outputs: [out, lse],
    params: paramsFor(g, flags | (sOff ? FLAG.saveS : 0), span, nqb, tiles.bk, { sOff }),
    overrides: { ...tiles.overrides, BQ: tiles.bq, BK: tiles.bk },
    workgroups: grid(g.B * g.H * nqb),
    label: describeOp('t5Attention', q, k, v),
  });
  const inputs = bias ? [q, k, v, bias.table] : [q, k, v];
  // The tape keeps its own handles on these; the VJP finds them by position.
  const saved = [q, k, v, out, lse, ...(bias ? [bias.table, lookup!] : []), ...(keyMask ? [keyMask] : [])];
  record(
    't5Attention',
    inputs,
    out,
    (dout, { saved: s, needs }) => {
      const [sq, sk, sv, so, slse, ...rest] = s as [Tensor, Tensor, Tensor, Tensor, Tensor, ...Tensor[]];
      const [table, lut] = bias ? [rest.shift()!, rest.shift()!] : [null, null];
      const mask = keyMask ? rest.shift()! : null;
      const tensors = { q: sq, k: sk, v: sv, out: so, lse: slse, dout, table, lookup: lut, mask };
      return attentionBackward(g, tiles, flags, span, tensors, needs, bias?.numBuckets ?? 0, mode, sOff);
    },
    saved,
  );
  // Only the tape (which holds its own handle) reads the logsumexp after this.
  lse.dispose();
  return out;
}

interface Saved {
  q: Tensor;
  k: Tensor;
  v: Tensor;
  out: Tensor;
  lse: Tensor;
  dout: Tensor;
  table: Tensor | null;
  lookup: Tensor | null;
  mask: Tensor | null;
}

function attentionBackward(
  g: Geometry,
  tiles: Tiles,
  flags: number,
  span: number,
  s: Saved,
  needs: boolean[],
  nBuckets: number,
  mode: T5AttentionBackward,
  sOff: number,
): Array<Tensor | null> {
  const { B, H, T, S } = g;
  const rows = B * H * T;
  const label = (what: string) => describeOp(`t5Attention.${what}`, s.q, s.k, s.v);
  const biasGrad = s.table !== null && needs[3] === true;
  if (mode === 'matmul') return matmulBackward(g, tiles, flags, s, needs, sOff, biasGrad, span, label);
  const stats = prepStats(g, flags, span, s, label);
  const inputs = [s.q, s.k, s.v, s.table ?? s.q, s.lookup ?? s.q, s.dout, stats];
  const none = (s.table ? [null] : []) as null[];
  const keys = needs[1] === true || needs[2] === true || biasGrad;

  const bk = tiles.bk;
  const nkb = Math.ceil(S / bk);
  const { padded, partOff, dsOff } = dkdvLayout(g, bk, biasGrad);
  const scores = rows * S;
  const storeDs = mode === 'fused' && needs[0] === true && keys;
  const dq = needs[0] && !storeDs ? dqKernel(g, tiles, flags, span, inputs, label) : null;
  if (!keys) return [dq, null, null, ...none];
  const p = paramsFor(g, flags | (biasGrad ? FLAG.biasGrad : 0) | (storeDs ? FLAG.storeDs : 0), span, 1, bk, { nBuckets, dvOff: padded, partOff, dsOff });
  const dkv = Tensor.empty([storeDs ? dsOff + scores : dsOff], 'f32', 't5Attention.dkdv');
  launch(tiles.subgroup ? DKDV_SG : DKDV, {
    inputs,
    outputs: [dkv],
    params: p,
    overrides: { ...tiles.overrides, BQ: bk, BK: bk },
    workgroups: grid(B * H * nkb),
    label: label('backward_dkdv'),
  });
  return [
    storeDs ? dqFromDs(g, tiles, flags, span, dkv, s.k, dsOff, label) : dq,
    needs[1] ? dkv.view(s.k.shape, 0) : null,
    needs[2] ? dkv.view(s.v.shape, padded) : null,
    ...(s.table ? [biasGrad ? biasTableGrad(g, s, dkv, BIAS_DIAG, p, label, bk) : null] : []),
  ];
}

type Label = (what: string) => string;

/**
 * stats = [logsumexp (B*H*T) | D = rowsum(dO * O) (B*H*T) | key keep mask as 0/1 (B*S, if
 * masked)] for the backward kernels.
 */
function prepStats(g: Geometry, flags: number, span: number, s: Saved, label: Label): Tensor {
  const rows = g.B * g.H * g.T;
  const stats = Tensor.empty([2 * rows + (s.mask ? g.B * g.S : 0)], 'f32', 't5Attention.stats');
  launch(PREP, {
    inputs: [s.dout, s.out, s.lse, s.mask ?? s.dout],
    outputs: [stats],
    params: paramsFor(g, flags, span, 1, 1),
    overrides: { DK: g.dk, WG },
    workgroups: grid(Math.ceil(Math.max(rows, g.B * g.S) / WG)),
    label: label('backward_prep'),
  });
  return stats;
}

/** Rounds an element offset up to where a view of the same storage may start. */
const align = (n: number) => Math.ceil(n / VIEW_ALIGN) * VIEW_ALIGN;

/**
 * Output layout of the dk/dv kernel: dk, dv, the diagonal partial sums of the bias gradient and
 * dS, each at a 256-byte boundary (eight storage bindings at most: one output buffer).
 */
function dkdvLayout(g: Geometry, bk: number, biasGrad: boolean) {
  const padded = align(g.B * g.H * g.S * g.dk);
  const partOff = 2 * padded;
  const partials = biasGrad ? g.B * g.H * Math.ceil(g.S / bk) * (Math.ceil(g.T / bk) + 1) * bk : 0;
  return { padded, partOff, dsOff: align(partOff + partials) };
}

/** The backward mode: as requested (if it can run) or the default for this adapter and size. */
function backwardMode(requested: T5AttentionBackward | undefined, g: Geometry, tiles: Tiles): T5AttentionBackward {
  const scores = g.B * g.H * g.T * g.S;
  const limit = gpu().device.limits.maxStorageBufferBindingSize;
  // The largest binding of each mode: logsumexps + scores and P + dS; dk, dv, partials + dS.
  const fits = {
    matmul: (align(g.B * g.H * g.T) + scores) * 4 <= limit && 2 * align(scores) * 4 <= limit,
    fused: (dkdvLayout(g, tiles.bk, true).dsOff + scores) * 4 <= limit,
    recompute: true,
  };
  // The staged layout's backward by matmuls runs the engine's matmul, which reads heads first.
  const matmulLayout = tiles.subgroup || !g.tokensFirst;
  if (requested) {
    if (!fits[requested]) throw new GpuError(`t5Attention: backward '${requested}' needs ${scores * 4}-byte score buffers; a binding holds at most ${limit}`);
    if (requested === 'matmul' && !matmulLayout) throw new GpuError(`t5Attention: backward 'matmul' on the staged kernels needs layout 'bhtd'`);
    return requested;
  }
  if (scores * 4 > SCORES_MAX_BYTES) return 'recompute';
  if (gpu().report.isSoftware && fits.matmul && matmulLayout) return 'matmul';
  return fits.fused ? 'fused' : 'recompute';
}

/**
 * The backward by matmuls, in the transposed layout [B, H, S, T] the forward saved its scores in:
 * dP^T = v dO^T, then P^T and dS^T (one elementwise kernel), dq = (dS^T)^T k, dk = dS^T q,
 * dv = P^T dO, and the table's gradient from dS^T. The subgroup layout does the products in its
 * own kernels (q, k, v in either layout), the staged one by the engine's matmul ('bhtd' only).
 */
function matmulBackward(
  g: Geometry,
  tiles: Tiles,
  flags: number,
  s: Saved,
  needs: boolean[],
  sOff: number,
  biasGrad: boolean,
  span: number,
  label: Label,
): Array<Tensor | null> {
  const { B, H, T, S } = g;
  const scores = B * H * T * S;
  const half = align(scores);
  const pds = Tensor.empty([2 * half], 'f32', 't5Attention.p_ds');
  // Relative positions in the diagonal sums: one per (query, key) offset, as for key blocks of 1.
  const params = paramsFor(g, flags, span, 1, 1, { dsOff: half, nBuckets: s.table?.shape[0] ?? 0 });
  let grads: Array<Tensor | null>;
  // Both kernels bind like the other backward kernels (S^T at 1, stats at 7, the subgroup one reads
  // the logsumexps before S^T and the output at 2 instead of stats); unused bindings get q.
  if (tiles.subgroup) {
    // dP^T and the elementwise step in one kernel, laid out like the forward.
    const nqb = Math.ceil(T / tiles.bq);
    launch(SCORES_SG, {
      inputs: [s.lse, s.out, s.v, s.q, s.q, s.dout, s.q],
      outputs: [pds],
      params: paramsFor(g, flags, span, nqb, tiles.bk, { dsOff: half, sOff }),
      overrides: { ...tiles.overrides, BQ: tiles.bq, BK: tiles.bk },
      workgroups: grid(B * H * nqb),
      label: label('backward_scores'),
    });
    const keys = needs[1] === true || needs[2] === true;
    const dkv = keys ? dkdvFromPds(g, tiles, flags, s, pds, half, label) : null;
    grads = [
      needs[0] ? dqFromDs(g, tiles, flags | FLAG.dsT, span, pds, s.k, half, label) : null,
      needs[1] ? dkv!.view(s.k.shape, 0) : null,
      needs[2] ? dkv!.view(s.v.shape, dkdvLayout(g, tiles.bk, false).padded) : null,
    ];
  } else {
    const stats = prepStats(g, flags, span, s, label);
    const sT = s.lse.view([B, H, S, T], sOff);
    noGrad(() => {
      const dp = matmul(s.v, s.dout, { transB: true });
      launch(SCORES, {
        inputs: [sT, dp, s.q, s.q, s.q, s.q, stats],
        outputs: [pds],
        params,
        overrides: { WG },
        workgroups: grid(Math.ceil(scores / WG)),
        label: label('backward_scores'),
      });
      dp.dispose();
    });
    sT.dispose();
    const pT = pds.view([B, H, S, T], 0);
    const dsT = pds.view([B, H, S, T], half);
    grads = noGrad(() => [
      needs[0] ? matmul(dsT, s.k, { transA: true }) : null,
      needs[1] ? matmul(dsT, s.q) : null,
      needs[2] ? matmul(pT, s.dout) : null,
    ]);
  }
  if (!s.table) return grads;
  return [...grads, biasGrad ? biasTableGrad(g, s, pds, BIAS_REL, params, label, 1) : null];
}

/** dq = dS k from the dS stored at element `dsOff` of `ds` ([B, H, T, S], or [B, H, S, T] with FLAG.dsT). */
function dqFromDs(g: Geometry, tiles: Tiles, flags: number, span: number, ds: Tensor, k: Tensor, dsOff: number, label: Label): Tensor {
  const nqb = Math.ceil(g.T / tiles.bq);
  const dq = Tensor.empty(qShape(g), 'f32', 't5Attention.dq');
  launch(tiles.subgroup ? DQ_DS_SG : DQ_DS, {
    inputs: [ds, k],
    outputs: [dq],
    params: paramsFor(g, flags, span, nqb, tiles.bk, { dsOff }),
    overrides: { ...tiles.overrides, BQ: tiles.bq, BK: tiles.bk },
    workgroups: grid(g.B * g.H * nqb),
    label: label('backward_dq_ds'),
  });
  return dq;
}

/** dk and dv (at 0 and at the dk/dv kernel's dv offset) from P^T and dS^T (at `dsOff` of `pds`). */
function dkdvFromPds(g: Geometry, tiles: Tiles, flags: number, s: Saved, pds: Tensor, dsOff: number, label: Label): Tensor {
  const { padded } = dkdvLayout(g, tiles.bk, false);
  const nkb = Math.ceil(g.S / tiles.bk);
  const dkv = Tensor.empty([2 * padded], 'f32', 't5Attention.dkdv');
  launch(DKDV_PDS_SG, {
    inputs: [s.q, pds, s.q, s.q, s.q, s.dout, s.q],
    outputs: [dkv],
    params: paramsFor(g, flags, 0, 1, tiles.bk, { dvOff: padded, dsOff }),
    overrides: { ...tiles.overrides, BQ: tiles.bk, BK: tiles.bk },
    workgroups: grid(g.B * g.H * nkb),
    label: label('backward_dkdv_pds'),
  });
  return dkv;
}

/** The shape of q (and of dq) in the call's layout. */
const qShape = (g: Geometry) => (g.tokensFirst ? [g.B, g.T, g.H, g.dk] : [g.B, g.H, g.T, g.dk]);

/** dq by the kernel that recomputes the scores. */
function dqKernel(g: Geometry, tiles: Tiles, flags: number, span: number, inputs: Tensor[], label: Label): Tensor {
  const nqb = Math.ceil(g.T / tiles.bq);
  const dq = Tensor.empty(qShape(g), 'f32', 't5Attention.dq');
  launch(tiles.subgroup ? DQ_SG : DQ, {
    inputs,
    outputs: [dq],
    params: paramsFor(g, flags, span, nqb, tiles.bk),
    overrides: { ...tiles.overrides, BQ: tiles.bq, BK: tiles.bk },
    workgroups: grid(g.B * g.H * nqb),
    label: label('backward_dq'),
  });
  return dq;
}

/** The table gradient from sums per (head, relative position) that `diagKernel` takes from `src`. */
function biasTableGrad(g: Geometry, s: Saved, src: Tensor, diagKernel: Kernel<typeof ATTENTION_PARAMS.spec>, params: AttentionParams, label: Label, bk: number): Tensor {
  const nDiag = (Math.ceil(g.S / bk) + Math.ceil(g.T / bk)) * bk;
  const diag = Tensor.empty([g.H * nDiag], 'f32', 't5Attention.bias_diag');
  launch(diagKernel, {
    inputs: [src],
    outputs: [diag],
    params,
    overrides: { BK: bk, WG },
    workgroups: grid(Math.ceil((g.H * nDiag) / WG)),
    label: label('bias_grad_diag'),
  });
  const dtable = Tensor.empty(s.table!.shape, 'f32', 't5Attention.dtable');
  launch(BIAS_TABLE, {
    inputs: [diag, s.lookup!],
    outputs: [dtable],
    params,
    overrides: { WG },
    workgroups: grid(Math.ceil((s.table!.shape[0]! * g.H) / WG)),
    label: label('bias_grad_table'),
  });
  return dtable;
}
