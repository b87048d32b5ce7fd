// Batched f32 matrix multiplication with transposes folded into strides, its VJP, and the choice
// among the kernel variants of shaders/matmul.wgsl (by shape, and per adapter through the tuner).
//
// Variants (see the shader's header for how each one works):
//   tiled     portable 4x4 register tiling; the fallback that runs everywhere
//   splitk    tiled over K chunks into partial sums, then a reduction: few output tiles, long K
//   shared    workgroup-memory tiling: what real GPUs want for large outputs
//   subgroup  A handed out by subgroupBroadcast (subgroups of >= 8 lanes)
//   uniform   B read through 64 KiB uniform-buffer panels and shared by subgroupBroadcast
//             (subgroups of >= 8 lanes, one B for every batch)
//   dual      uniform's tile with A packed into 64 KiB uniform windows too, four K chunks per
//             dispatch: the fast path on lavapipe, where a storage load is a branchy per-lane
//             gather and a uniform-buffer one is not
//
// Every variant takes the same epilogue (MatmulOptions: bias, residual, activation, out,
// accumulate), compiled in only where asked for, so that a linear layer's bias, a residual
// block's sum and a feed-forward's activation cost no dispatch of their own, and a gradient can be
// written or added straight into a given buffer. The engine is f32 on the device (f16 and bf16
// weights are converted on the host when loaded), so there are no dtype casts to fuse.
import code from '../../shaders/matmul.wgsl';
import { needsGrad, record } from '../autograd/tape.js';
import { gpu, GpuError } from '../gpu/device.js';
import { grid, type Kernel, type Overrides } from '../gpu/kernels.js';
import { padTo, uniformStruct, type ParamValues } from '../gpu/params.js';
import { choose, tune, type TuneResult } from '../gpu/tune.js';
import { tensor } from '../tensor/create.js';
import { keep, tidy } from '../tensor/scope.js';
import { fmtShape, numel, Tensor, type Shape } from '../tensor/tensor.js';
import { ACTIVATION_WGSL, activationBackward, activationCode, GATE_ACTIVATIONS, gelu, gradFromOutput, type GateActivation } from './elementwise.js';
import { fill } from './fill.js';
import { expectDType, expectShape, launch } from './launch.js';
import { sum, sumTo } from './sum.js';

// The subgroup kernels sit below a marker in the shader file: adapters without the feature compile
// only the part above it, and the part with subgroups needs the `enable` directive first.
const SUBGROUP_MARK = code.indexOf('//!subgroups');
const PORTABLE_CODE = `${code.slice(0, SUBGROUP_MARK)}\n${ACTIVATION_WGSL}`;
const SUBGROUP_CODE = `enable subgroups;\n${code}\n${ACTIVATION_WGSL}`;

/**
 * C[batch, m, n] = A[m, k] B[k, n] with A's and B's element strides (sam, sak, sbk, sbn); the
 * batch rank (<= 4); this dispatch's K range [k0, k0 + kn) and `accum` (1 to add into C instead
 * of storing); mm_uniform's 16-column block `jb`; split-K's number of K chunks and their length;
 * the packed panel's length; `last` (1 where a dispatch writes final values: the epilogue runs
 * there); the output batch dims and each operand's batch strides (0 where it broadcasts),
 * right-aligned.
 */
const MATMUL_PARAMS = uniformStruct('Params', {
  m: 'u32', n: 'u32', k: 'u32', batch: 'u32',
  sam: 'u32', sak: 'u32', sbk: 'u32', sbn: 'u32',
  rank: 'u32', k0: 'u32', kn: 'u32', accum: 'u32',
  jb: 'u32', split: 'u32', kchunk: 'u32', panel: 'u32', r0: 'u32', rb: 'u32', kps: 'u32', last: 'u32',
  kns: 'vec4<u32>',
  bshape: 'vec4<u32>', abatch: 'vec4<u32>', bbatch: 'vec4<u32>',
});
type MatmulParams = ParamValues<typeof MATMUL_PARAMS.spec>;
const kernel = (name: string, code: string, inputs: number, uniformInputs = 0): Kernel<typeof MATMUL_PARAMS.spec> => ({
  name: `matmul.${name}`, code, entry: `mm_${name}`, params: MATMUL_PARAMS, inputs, outputs: 1, uniformInputs,
});
// Product kernels take the epilogue's bias and residual as their first two inputs (a dummy where
// the pipeline does not read them), then their operands.
const TILED = kernel('tiled', PORTABLE_CODE, 2 + 2);
const SPLITK_SUM = kernel('splitk_sum', PORTABLE_CODE, 2 + 1);
const SHARED = kernel('shared', PORTABLE_CODE, 2 + 2);
const SUBGROUP = kernel('subgroup', SUBGROUP_CODE, 2 + 2);
const PACK = kernel('pack', SUBGROUP_CODE, 1);
const UNIFORM = kernel('uniform', SUBGROUP_CODE, 2 + 2, 1);
const PACK_A = { ...kernel('pack', SUBGROUP_CODE, 1), name: 'matmul.pack_a', entry: 'mm_pack_a' };
const PACK_A4 = { ...PACK_A, name: 'matmul.pack_a4', entry: 'mm_pack_a4' };
const PACK_AT4 = { ...PACK_A, name: 'matmul.pack_at4', entry: 'mm_pack_at4' };
const PACK4 = { ...PACK, name: 'matmul.pack4', entry: 'mm_pack4' };
const DUAL = kernel('dual', SUBGROUP_CODE, 2 + 2 * 4, 2 * 4);
const DUAL4 = { ...DUAL, name: 'matmul.dual4', entry: 'mm_dual4' };

/** The kernel variants, in the order the tests and benchmarks list them. */
export const MATMUL_VARIANTS = ['tiled', 'splitk', 'shared', 'subgroup', 'uniform', 'dual'] as const;
export type MatmulVariant = (typeof MATMUL_VARIANTS)[number];

export interface MatmulOptions {
  /** Use a's last two axes transposed ([..., K, M] holds op(A) = [..., M, K]). */
  transA?: boolean;
  /** Use b's last two axes transposed ([..., N, K] holds op(B) = [..., K, N]). */
  transB?: boolean;
  /** Force a kernel variant (tests, benchmarks); it must be available for the shapes. */
  variant?: MatmulVariant;
  /** [N], added to every row of the product (a linear layer's bias). */
  bias?: Tensor;
  /**
   * The output's shape, added after the bias: out = op(a) op(b) + bias + residual. Not together
   * with `activation` (act(x W + b) + r and act(x W + b + r) are both in use; compose the one meant).
   */
  residual?: Tensor;
  /**
   * Applied last: out = act(op(a) op(b) + bias). The VJP takes relu's, tanh's and sigmoid's
   * derivative from the saved output (one dispatch); gelu's needs the pre-activation, so under a
   * tape gelu runs as its own op after the fused bias (the same dispatches as unfused) and fuses
   * only where nothing is recorded.
   */
  activation?: GateActivation;
  /**
   * Write the product into this contiguous f32 tensor of the output's shape (a view at an aligned
   * offset of a larger buffer will do) instead of a new one, and return it. It must not share a
   * buffer with an input, and cannot be recorded: only where no input needs a gradient (noGrad,
   * inside a VJP).
   */
  out?: Tensor;
  /** With `out`: out = out + op(a) op(b) (the same invocation reads and writes each element). No epilogue. */
  accumulate?: boolean;
}

/** What a product does with its sums besides storing them into a new tensor (see MatmulOptions). */
type Epilogue = Pick<MatmulOptions, 'bias' | 'residual' | 'activation' | 'out' | 'accumulate'>;

const fused = (e: Epilogue): boolean => !!(e.bias || e.residual || e.activation);

/** The override constants of a product kernel with epilogue `e`, adding into C when `accumulate`. */
function epilogueOverrides(e: Epilogue, accumulate: boolean): Overrides {
  return {
    ...(fused(e) ? { EPILOGUE: true } : {}),
    ...(e.bias ? { BIAS: true } : {}),
    ...(e.residual ? { RESIDUAL: true } : {}),
    ...(e.activation ? { ACT: activationCode(e.activation) } : {}),
    ...(accumulate ? { ACCUMULATE: true } : {}),
  };
}

/** The epilogue's two leading bindings; `dummy` fills an unused one (never read). */
const epilogueInputs = (e: Epilogue, dummy: Tensor): Tensor[] => [e.bias ?? dummy, e.residual ?? dummy];

const MAX_BATCH_RANK = 4;
const MAX_GRID = 65535;
/** Tiled/split-K output tile (8x8 invocations of 4x4), shared-memory tile, subgroup-kernel rows. */
const TILE = 32, SHARED_TILE = 64, SG_ROWS = 8;
/** Uniform panels: 16 columns by up to 1024 rows = 16384 floats = one 64 KiB uniform binding. */
const PANEL_COLS = 16, PANEL_FLOATS = 16384, PANEL_MAX_ROWS = PANEL_FLOATS / PANEL_COLS, UNIFORM_WG = 64;

/** Everything a kernel needs to know about one product, derived and checked on the host. */
interface Geometry {
  aShape: Shape;
  bShape: Shape;
  transA: boolean;
  transB: boolean;
  m: number;
  k: number;
  n: number;
  /** Element strides of op(A) along m and k, and of op(B) along k and n. */
  sam: number;
  sak: number;
  sbk: number;
  sbn: number;
  batchShape: number[];
  batch: number;
  /** Per output batch axis, the operand's element stride (0 where it broadcasts). */
  aBatchStrides: number[];
  bBatchStrides: number[];
  /** True when B differs between output matrices (the uniform variant needs one B). */
  bBatched: boolean;
}

function describe(g: Pick<Geometry, 'aShape' | 'bShape' | 'transA' | 'transB'>): string {
  return `${fmtShape(g.aShape)}${g.transA ? '^T' : ''} x ${fmtShape(g.bShape)}${g.transB ? '^T' : ''}`;
}

function batchStrides(batch: Shape, matrix: number, out: number[]): number[] {
  const strides = new Array<number>(out.length).fill(0);
  let s = matrix;
  for (let i = batch.length - 1; i >= 0; i--) {
    const axis = out.length - batch.length + i;
    strides[axis] = batch[i] === 1 && out[axis] !== 1 ? 0 : s;
    s *= batch[i]!;
  }
  return strides;
}

function geometry(aShape: Shape, bShape: Shape, transA: boolean, transB: boolean): Geometry {
  const what = () => describe({ aShape, bShape, transA, transB });
  if (aShape.length < 2 || bShape.length < 2) throw new GpuError(`matmul: operands need at least 2 axes, got ${what()}`);
  const [ar, ac] = aShape.slice(-2) as [number, number];
  const [br, bc] = bShape.slice(-2) as [number, number];
  const [m, k] = transA ? [ac, ar] : [ar, ac];
  const [kb, n] = transB ? [bc, br] : [br, bc];
  if (k !== kb) throw new GpuError(`matmul: inner dimensions differ (${k} vs ${kb}) in ${what()}`);
  const aBatch = aShape.slice(0, -2), bBatch = bShape.slice(0, -2);
  const rank = Math.max(aBatch.length, bBatch.length);
  const batchShape: number[] = [];
  for (let i = 0; i < rank; i++) {
    const da = aBatch[aBatch.length - rank + i] ?? 1;
    const db = bBatch[bBatch.length - rank + i] ?? 1;
    if (da !== db && da !== 1 && db !== 1) throw new GpuError(`matmul: batch dimensions do not broadcast in ${what()}`);
    batchShape.push(da === 1 ? db : da);
  }
  if (rank > MAX_BATCH_RANK) throw new GpuError(`matmul: at most ${MAX_BATCH_RANK} batch axes, got ${what()}`);
  return {
    aShape, bShape, transA, transB, m, k, n,
    sam: transA ? 1 : k, sak: transA ? m : 1, sbk: transB ? 1 : n, sbn: transB ? k : 1,
    batchShape, batch: numel(batchShape),
    aBatchStrides: batchStrides(aBatch, ar * ac, batchShape),
    bBatchStrides: batchStrides(bBatch, br * bc, batchShape),
    bBatched: numel(bBatch) > 1,
  };
}

interface Extra { k0?: number; kn?: number; accum?: boolean; jb?: number; split?: number; kchunk?: number; panel?: number; r0?: number; rb?: number; kps?: number; last?: boolean; kns?: number[] }

function params(g: Geometry, x: Extra = {}): MatmulParams {
  // Batch axes are right-aligned in the vec4s.
  const pad = (xs: number[], v: number) => [...padTo([], MAX_BATCH_RANK - xs.length, v), ...xs];
  return {
    m: g.m, n: g.n, k: g.k, batch: g.batch, sam: g.sam, sak: g.sak, sbk: g.sbk, sbn: g.sbn,
    rank: g.batchShape.length, k0: x.k0 ?? 0, kn: x.kn ?? g.k, accum: x.accum ? 1 : 0,
    jb: x.jb ?? 0, split: x.split ?? 1, kchunk: x.kchunk ?? g.k, panel: x.panel ?? 0, r0: x.r0 ?? 0, rb: x.rb ?? 0, kps: x.kps ?? 0, last: (x.last ?? true) ? 1 : 0, kns: x.kns ?? [],
    bshape: pad(g.batchShape, 1), abatch: pad(g.aBatchStrides, 0), bbatch: pad(g.bBatchStrides, 0),
  };
}

const cdiv = (a: number, b: number) => Math.ceil(a / b);

function subgroupsOf8(): boolean {
  const g = gpu();
  return g.hasSubgroups && g.report.subgroupMinSize >= 8;
}

/** Split count for split-K: enough chunks of >= 32 k to give the GPU some 64 tiles of work. */
function splitCount(g: Geometry): number {
  const tiles = cdiv(g.m, TILE) * cdiv(g.n, TILE) * g.batch;
  return Math.max(2, Math.min(32, Math.floor(g.k / 32), cdiv(64, tiles)));
}

function available(g: Geometry): MatmulVariant[] {
  const out: MatmulVariant[] = ['tiled'];
  if (g.k >= 64 && g.batch * splitCount(g) <= MAX_GRID) out.push('splitk');
  out.push('shared');
  if (subgroupsOf8()) {
    out.push('subgroup');
    if (!g.bBatched) out.push('uniform', 'dual');
  }
  return out;
}

/** The static heuristic (BPT_TUNE=0, or nothing measured yet for this adapter and shape class). */
function heuristic(g: Geometry, avail: readonly MatmulVariant[]): MatmulVariant {
  const has = (v: MatmulVariant) => avail.includes(v);
  const tiles = cdiv(g.m, TILE) * cdiv(g.n, TILE) * g.batch;
  const fewTiles = tiles < 16 && g.k >= 256;
  if (gpu().report.isSoftware) {
    // Measured on lavapipe: uniform panels win from 128 rows (1824x512x512: 25 GFLOP/s against 8
    // for subgroup and 5 for tiled; a d_model-128 weight's gradient [2048,128]^T x [2048,384]: half
    // the CPU time of subgroup); below that the subgroup kernel does, split-K never. Dual windows
    // beat uniform panels wherever those do (the pretraining step 1.26x paired; its products
    // 1.3-2x by CPU time; 1024^3 1.25x).
    if (has('dual') && g.batch * g.m >= 128) return 'dual';
    return has('subgroup') ? 'subgroup' : 'tiled';
  }
  if (has('splitk') && fewTiles) return 'splitk';
  return g.m >= SHARED_TILE && g.n >= SHARED_TILE ? 'shared' : 'tiled';
}

const pow2 = (x: number) => 2 ** Math.round(Math.log2(Math.max(x, 1)));

/** Shapes that share a tuned choice: dimensions rounded to powers of two, transposes, batching. */
function shapeClass(g: Geometry): string {
  const t = `${g.transA ? 't' : 'n'}${g.transB ? 't' : 'n'}`;
  return `m${pow2(g.m)}.k${pow2(g.k)}.n${pow2(g.n)}.${t}.z${pow2(g.batch)}${g.bBatched ? 'b' : ''}`;
}

function tuneRequest(g: Geometry) {
  const candidates = available(g);
  return { family: 'matmul', shapeClass: shapeClass(g), candidates, fallback: heuristic(g, candidates) };
}

/** Random inputs of the request's shapes and a runner, for the tuner. */
function tuneInputs(g: Geometry) {
  return () => {
    const rand = (shape: Shape) => keep(tensor(Float32Array.from({ length: numel(shape) }, (_, i) => Math.sin(i * 0.618)), shape));
    const a = rand(g.aShape), b = rand(g.bShape);
    return {
      run: (v: MatmulVariant) => tidy(() => void dispatch(a, b, g, v, {})),
      dispose: () => { a.dispose(); b.dispose(); },
    };
  };
}

function pick(g: Geometry, forced: MatmulVariant | undefined): MatmulVariant {
  if (forced) {
    if (!available(g).includes(forced)) throw new GpuError(`matmul: variant "${forced}" cannot run ${describe(g)} on this adapter`);
    return forced;
  }
  return choose(tuneRequest(g), tuneInputs(g));
}

function checkGrid(g: Geometry, dims: readonly number[]): void {
  if (dims.some((d) => d > MAX_GRID)) throw new GpuError(`matmul: ${describe(g)} needs a dispatch grid [${dims}] beyond ${MAX_GRID}`);
}

/** Records the kernels of one product; the output (e.out, or new) is contiguous [...batch, M, N]. */
function dispatch(a: Tensor, b: Tensor, g: Geometry, variant: MatmulVariant, e: Epilogue): Tensor {
  const shape = [...g.batchShape, g.m, g.n];
  if (numel(shape) === 0) return e.out ?? Tensor.empty(shape, 'f32', 'matmul');
  if (g.k === 0) {
    // No operand to bind: there is nothing for a kernel to read.
    if (e.out || fused(e)) throw new GpuError(`matmul: ${describe(g)} has K = 0, which takes no epilogue or out`);
    return fill(shape, 0);
  }
  const label = `matmul ${describe(g)} ${variant}`;
  const out = e.out ?? Tensor.empty(shape, 'f32', 'matmul');
  if (variant === 'splitk') {
    const split = splitCount(g);
    const partial = Tensor.empty([split, ...shape], 'f32', 'matmul.partial');
    const wg = [cdiv(g.n, TILE), cdiv(g.m, TILE), g.batch * split] as const;
    checkGrid(g, wg);
    launch(TILED, { inputs: [...epilogueInputs({}, a), a, b], outputs: [partial], params: params(g, { split, kchunk: cdiv(g.k, split) }), workgroups: wg, label });
    launch(SPLITK_SUM, {
      inputs: [...epilogueInputs(e, partial), partial],
      outputs: [out],
      params: params(g, { split }),
      overrides: epilogueOverrides(e, e.accumulate ?? false),
      workgroups: grid(cdiv(numel(shape), 256)),
      label: `${label} sum`,
    });
    partial.dispose();
    return out;
  }
  if (variant === 'uniform') {
    uniformPanels(a, b, out, g, e, label);
    return out;
  }
  if (variant === 'dual') {
    dualWindows(a, b, out, g, e, label);
    return out;
  }
  let kernel = TILED, wg: readonly [number, number, number] = [cdiv(g.n, TILE), cdiv(g.m, TILE), g.batch];
  let overrides = epilogueOverrides(e, e.accumulate ?? false);
  if (variant === 'shared') {
    kernel = SHARED;
    wg = [cdiv(g.n, SHARED_TILE), cdiv(g.m, SHARED_TILE), g.batch];
  } else if (variant === 'subgroup') {
    // Lanes cover 4 columns each: a narrow output gets a narrow workgroup (>= 8 lanes to broadcast).
    const lanes = Math.min(64, Math.max(8, 2 ** Math.ceil(Math.log2(cdiv(g.n, 4)))));
    kernel = SUBGROUP;
    overrides = { ...overrides, WG: lanes };
    wg = [cdiv(g.n, 4 * lanes), cdiv(g.m, SG_ROWS), g.batch];
  }
  checkGrid(g, wg);
  launch(kernel, { inputs: [...epilogueInputs(e, a), a, b], outputs: [out], params: params(g), overrides, workgroups: wg, label });
  return out;
}

/**
 * The uniform variant: pack op(B) into [rows][16] panels (one dispatch), then one dispatch per
 * 64 KiB window of panels, bound as a uniform buffer: a window holds as many column blocks of one
 * K chunk as fit (8 at K = 128), one per grid z; K beyond one panel accumulates. Panels are packed
 * densely; a binding may run over into the next panels, which it never reads.
 */
function uniformPanels(a: Tensor, b: Tensor, out: Tensor, g: Geometry, e: Epilogue, label: string): void {
  const kp = Math.min(PANEL_MAX_ROWS, cdiv(g.k, 4) * 4);
  const nkc = cdiv(g.k, kp), njb = cdiv(g.n, PANEL_COLS);
  const per = kp * PANEL_COLS;
  checkGrid(g, [cdiv(per, 256), njb, nkc]);
  const packed = Tensor.empty([(nkc * njb - 1) * per + PANEL_FLOATS], 'f32', 'matmul.panels');
  launch(PACK, { inputs: [b], outputs: [packed], params: params(g, { panel: kp }), workgroups: [cdiv(per, 256), njb, nkc], label: `${label} pack` });
  const rows = g.batch * g.m;
  // Two rows per lane; fewer rows get smaller workgroups so that both CPU threads have work.
  const lanes = cdiv(rows, 2);
  const wgSize = Math.min(UNIFORM_WG, Math.max(8, 2 ** Math.floor(Math.log2(Math.max(1, lanes / 4)))));
  const [wx, wy] = grid(cdiv(lanes, wgSize));
  const perWindow = Math.floor(PANEL_FLOATS / per);
  for (let kc = 0; kc < nkc; kc++) {
    for (let jb = 0; jb < njb; jb += perWindow) {
      const window = packed.view([PANEL_FLOATS], (kc * njb + jb) * per);
      const k0 = kc * kp;
      launch(UNIFORM, {
        inputs: [...epilogueInputs(e, a), a, window],
        outputs: [out],
        params: params(g, { k0, kn: Math.min(kp, g.k - k0), accum: kc > 0 || e.accumulate, jb, panel: kp, last: kc === nkc - 1 }),
        overrides: { ...epilogueOverrides(e, false), WG: wgSize },
        workgroups: [wx, wy, Math.min(perWindow, njb - jb)],
        label,
      });
      window.dispose();
    }
  }
  packed.dispose();
}

/** K chunks per dual dispatch: four A and four B windows, with the params, 9 of 12 uniform bindings. */
const DUAL_CHUNKS = 4;

/**
 * A dispatch costs lavapipe roughly what adding this many outputs into C does (90-160 us of CPU
 * per small dispatch measured under load, against ~4 ns an output estimated from the JIT code's
 * vec4 load and store), the two things a chunk length trades.
 */
const DISPATCH_OUTPUTS = 25000;

/**
 * The dual variant's chunk length kp (a power of two): the cheapest in dispatches (row windows of
 * 16384 / kp rows x column windows of 1024 / kp panels x passes of four K chunks) and in adding
 * into C (every pass past the first).
 */
function dualChunk(rows: number, k: number, n: number): number {
  const njb = cdiv(n, PANEL_COLS);
  let best = 4, bestCost = Infinity;
  for (let kp = 4; kp <= 1024; kp *= 2) {
    if (kp > 4 && kp / 2 >= k) break;
    const passes = cdiv(cdiv(k, kp), DUAL_CHUNKS);
    const dispatches = cdiv(rows, PANEL_FLOATS / kp) * cdiv(njb, PANEL_MAX_ROWS / kp) * passes;
    const cost = dispatches * DISPATCH_OUTPUTS + (passes - 1) * rows * n;
    if (cost < bestCost) { best = kp; bestCost = cost; }
  }
  return best;
}

/**
 * The dual variant: op(A) packed into windows of [rb][kp] rows and op(B) into panels of [kp][16],
 * both bound as 64 KiB uniform buffers (lavapipe gathers from a uniform buffer without a bounds
 * branch per lane), four K chunks per dispatch; grid z over the B window's panels.
 */
function dualWindows(a: Tensor, b: Tensor, out: Tensor, g: Geometry, e: Epilogue, label: string): void {
  const rows = g.batch * g.m;
  const njb = cdiv(g.n, PANEL_COLS);
  const kp = dualChunk(rows, g.k, g.n);
  const kps = Math.log2(kp);
  const nkc = cdiv(g.k, kp);
  const per = kp * PANEL_COLS;
  const rb = Math.min(PANEL_FLOATS / kp, 2 ** Math.ceil(Math.log2(Math.max(2, rows))));
  const nrb = cdiv(rows, rb);
  const packedB = Tensor.empty([(nkc * njb - 1) * per + PANEL_FLOATS], 'f32', 'matmul.panels');
  const vecB = g.sbn === 1 && g.n % 4 === 0;
  checkGrid(g, [cdiv(per, 256), njb, nkc]);
  launch(vecB ? PACK4 : PACK, { inputs: [b], outputs: [packedB], params: params(g, { panel: kp }), workgroups: [cdiv(vecB ? per / 4 : per, 256), njb, nkc], label: `${label} pack` });
  const packedA = Tensor.empty([nkc * nrb * PANEL_FLOATS], 'f32', 'matmul.awindows');
  // Rows one after the other (A[r, k] at r * K + k over the flattened batch): a vec4 of k per lane.
  const vecA = g.sak === 1 && g.sam === g.k && g.k % 4 === 0 && g.aBatchStrides.every((s, i) => s === g.m * g.k * numel(g.batchShape.slice(i + 1)));
  // A transposed in place with M % 4 == 0: 4 x 4 blocks per lane (rb, kp >= 4 are powers of two).
  const vecAT = !vecA && g.sam === 1 && g.sak === g.m && g.m % 4 === 0 && g.batch === 1 && rb >= 4;
  const aElems = vecA ? (rb * kp) / 4 : vecAT ? (rb * kp) / 16 : rb * kp;
  checkGrid(g, [cdiv(aElems, 256), nrb, nkc]);
  launch(vecA ? PACK_A4 : vecAT ? PACK_AT4 : PACK_A, { inputs: [a], outputs: [packedA], params: params(g, { panel: kp, rb, kps }), workgroups: [cdiv(aElems, 256), nrb, nkc], label: `${label} pack A` });
  const lanes = rb / 2;
  const wgSize = Math.min(UNIFORM_WG, Math.max(8, lanes));
  const perWindow = PANEL_FLOATS / per;
  const kernel = g.n % 4 === 0 ? DUAL4 : DUAL;
  for (let c0 = 0; c0 < nkc; c0 += DUAL_CHUNKS) {
    const chunks = Array.from({ length: DUAL_CHUNKS }, (_, i) => Math.min(c0 + i, nkc - 1));
    const kns = chunks.map((kc, i) => (c0 + i < nkc ? cdiv(Math.min(kp, g.k - kc * kp), 4) * 4 : 0));
    for (let w = 0; w < nrb; w++) {
      const aw = chunks.map((kc) => packedA.view([PANEL_FLOATS], (kc * nrb + w) * PANEL_FLOATS));
      for (let jb = 0; jb < njb; jb += perWindow) {
        const bw = chunks.map((kc) => packedB.view([PANEL_FLOATS], (kc * njb + jb) * per));
        // A B window is the dummy: the vec4 epilogue bindings need 16 bytes, which A may not have.
        launch(kernel, {
          inputs: [...epilogueInputs(e, bw[0]!), ...aw, ...bw],
          outputs: [out],
          params: params(g, { accum: c0 > 0 || e.accumulate, jb, panel: kp, r0: w * rb, rb, kns, last: c0 + DUAL_CHUNKS >= nkc }),
          overrides: { ...epilogueOverrides(e, false), WG: wgSize },
          workgroups: [cdiv(lanes, wgSize), 1, Math.min(perWindow, njb - jb)],
          label,
        });
        for (const t of bw) t.dispose();
      }
      for (const t of aw) t.dispose();
    }
  }
  packedA.dispose();
  packedB.dispose();
}

/**
 * The geometry a product runs with. With one B for every batch and A not transposed, A's batch
 * axes fold into its rows ([..., M, K] -> [batch * M, K]): one tall product instead of many short
 * ones (the decoder's [8, 8, 512] rows against a weight, the vocabulary head's gradient).
 */
function plan(aShape: Shape, bShape: Shape, tA: boolean, tB: boolean): Geometry {
  const g = geometry(aShape, bShape, tA, tB);
  if (tA || bShape.length !== 2 || aShape.length === 2) return g;
  return geometry([g.batch * g.m, g.k], bShape, false, tB);
}

/** Records op(a) x op(b) with epilogue `e`; `variant` is forced when `strict`, else used only where it can run. */
function run(a: Tensor, b: Tensor, tA: boolean, tB: boolean, variant: MatmulVariant | undefined, strict: boolean, e: Epilogue = {}): Tensor {
  const g = plan(a.shape, b.shape, tA, tB);
  const v = pick(g, strict || (variant && available(g).includes(variant)) ? variant : undefined);
  if (g.aShape === a.shape) return dispatch(a, b, g, v, e);
  // Folded rows: the output, residual and `out` are contiguous, so they bind as they are.
  const a2 = a.view(g.aShape);
  const flat = dispatch(a2, b, g, v, e);
  a2.dispose();
  if (flat === e.out) return flat;
  const out = flat.view([...a.shape.slice(0, -1), g.n]);
  flat.dispose();
  return out;
}

/** A product without recording (forward and VJP share it); a forced variant applies if it can run. */
const product = (a: Tensor, b: Tensor, transA: boolean, transB: boolean, variant?: MatmulVariant): Tensor =>
  run(a, b, transA, transB, variant, false);

/** Throws unless the epilogue fits the product's output `shape` and makes sense as a whole. */
function checkEpilogue(a: Tensor, b: Tensor, shape: Shape, e: Epilogue): void {
  const op = `matmul ${describe({ aShape: a.shape, bShape: b.shape, transA: false, transB: false })}`;
  const n = shape[shape.length - 1]!;
  if (e.bias) {
    expectDType(op, 'f32', e.bias);
    expectShape(op, e.bias, [n], 'bias');
  }
  if (e.residual) {
    expectDType(op, 'f32', e.residual);
    expectShape(op, e.residual, shape, 'residual');
  }
  if (e.activation !== undefined && !GATE_ACTIVATIONS.includes(e.activation)) {
    throw new GpuError(`${op}: unknown activation "${e.activation}" (${GATE_ACTIVATIONS.join(', ')})`);
  }
  if (e.activation && e.residual) {
    throw new GpuError(`${op}: activation and residual together are ambiguous (act(x W + b) + r or act(x W + b + r)); fuse one, apply the other as its own op`);
  }
  if (e.accumulate && !e.out) throw new GpuError(`${op}: accumulate adds into \`out\`, which is missing`);
  if (e.accumulate && fused(e)) throw new GpuError(`${op}: accumulate takes no bias, residual or activation`);
  if (!e.out) return;
  expectDType(op, 'f32', e.out);
  expectShape(op, e.out, shape, 'out');
  for (const t of [a, b, e.bias, e.residual]) {
    if (t && t.range.buffer === e.out.range.buffer) throw new GpuError(`${op}: out ${e.out.describe()} shares a buffer with an input (${t.describe()}); a dispatch cannot read and write one buffer`);
  }
  if (needsGrad(a, b, ...(e.bias ? [e.bias] : []), ...(e.residual ? [e.residual] : []))) {
    throw new GpuError(`${op}: out (a write into an existing tensor) cannot be recorded for autograd; use it where no input needs a gradient (noGrad, a VJP)`);
  }
}

/**
 * op(a) x op(b) over the last two axes, where op transposes when `transA` / `transB` is set,
 * with NumPy broadcasting over the leading (batch) axes, e.g. [B,M,K] x [K,N] -> [B,M,N].
 * The epilogue options fuse a bias, a residual or an activation into the kernel that writes the
 * product (out = act(op(a) op(b) + bias), or op(a) op(b) + bias + residual), or write and add it
 * into a given tensor (`out`, `accumulate`); see MatmulOptions.
 * Differentiable in both operands, the bias and the residual; the VJP computes only the gradients
 * that are needed: the residual's is the output gradient itself (no dispatch), the bias's one
 * column sum, the activation's one dispatch from the saved output.
 */
export function matmul(a: Tensor, b: Tensor, opts: MatmulOptions = {}): Tensor {
  expectDType('matmul', 'f32', a, b);
  const tA = opts.transA ?? false, tB = opts.transB ?? false;
  const { bias, residual, activation: act, out: into } = opts;
  if (bias || residual || act || into || opts.accumulate) {
    const g = geometry(a.shape, b.shape, tA, tB);
    checkEpilogue(a, b, [...g.batchShape, g.m, g.n], opts);
  }
  const inputs = [a, b, ...(bias ? [bias] : []), ...(residual ? [residual] : [])];
  const recorded = needsGrad(...inputs);
  // gelu's derivative needs its input: recorded, it runs as its own op, which saves it.
  if (act && recorded && !gradFromOutput(act)) return gelu(matmul(a, b, { ...opts, activation: undefined }));
  const out = run(a, b, tA, tB, opts.variant, true, opts);
  if (!recorded) return out;
  const v = opts.variant;
  // dA reads B and dB reads A: save only the operand whose partner needs a gradient; an
  // activation's derivative comes from the output.
  const wantA = needsGrad(a), wantB = needsGrad(b);
  const save = [...(wantA ? [b] : []), ...(wantB ? [a] : []), ...(act ? [out] : [])];
  return record(
    'matmul',
    inputs,
    out,
    (grad, { saved, needs, dest, accumulate }) => {
      let i = 0;
      const sb = wantA ? saved[i++]! : null;
      const sa = wantB ? saved[i++]! : null;
      const dz = act ? activationBackward(act, saved[i]!, grad) : grad;
      const n = out.shape[out.rank - 1]!;
      return [
        needs[0] && sb ? gradA(dz, sb, a.shape, tA, tB, v) : null,
        needs[1] && sa ? gradB(dz, sa, b.shape, tA, tB, v, accumulate[1] ? null : dest[1]) : null,
        ...(bias ? [needs[2] ? sum(dz.view([dz.size / n, n]), 0) : null] : []),
        ...(residual ? [needs[inputs.length - 1] ? grad.view(grad.shape) : null] : []),
      ];
    },
    save,
  );
}

/** dA: g x op(B)^T, transposed back when A was used transposed, summed over broadcast batch axes. */
function gradA(g: Tensor, b: Tensor, aShape: Shape, tA: boolean, tB: boolean, v?: MatmulVariant): Tensor {
  const full = tA ? product(b, g, tB, true, v) : product(g, b, false, !tB, v);
  return sumTo(full, aShape);
}

/**
 * dB: op(A)^T x g (transposed back for transB). When B has no batch but A does (a weight applied
 * to a batch), the batch folds into the reduction axis: one [K, B*M] x [B*M, N] product, no
 * per-batch gradients to sum; that product writes straight into `into` (the weight's place in a
 * gradient arena, valueAndGrad's `into`) when given, which is then returned.
 */
function gradB(g: Tensor, a: Tensor, bShape: Shape, tA: boolean, tB: boolean, v?: MatmulVariant, into?: Tensor | null): Tensor {
  const aBatch = numel(a.shape.slice(0, -2));
  if (numel(bShape.slice(0, -2)) === 1 && !tA) {
    const [m, k] = a.shape.slice(-2) as [number, number];
    const a2 = a.view([aBatch * m, k]);
    const g2 = g.view([aBatch * m, g.shape[g.rank - 1]!]);
    const e = into && bShape.length === 2 ? { out: into } : {};
    const d = tB ? run(g2, a2, true, false, v, false, e) : run(a2, g2, true, false, v, false, e);
    a2.dispose();
    g2.dispose();
    if (d === into) return d;
    const shaped = d.view(bShape);
    d.dispose();
    return shaped;
  }
  const full = tB ? product(g, a, true, tA, v) : product(a, g, !tA, false, v);
  return sumTo(full, bShape);
}

/** The variants that can compute op(a) x op(b) for these shapes on this adapter. */
export function matmulVariants(aShape: Shape, bShape: Shape, opts: Omit<MatmulOptions, 'variant'> = {}): MatmulVariant[] {
  return available(plan(aShape, bShape, opts.transA ?? false, opts.transB ?? false));
}

/** The variant `matmul` would use now for these shapes (tuned if cached, else the heuristic). */
export function matmulChoice(aShape: Shape, bShape: Shape, opts: Omit<MatmulOptions, 'variant'> = {}): MatmulVariant {
  return pick(plan(aShape, bShape, opts.transA ?? false, opts.transB ?? false), undefined);
}

/** Times every available variant for these shapes and caches the fastest for this adapter. */
export function tuneMatmul(
  aShape: Shape,
  bShape: Shape,
  opts: Omit<MatmulOptions, 'variant'> & { reps?: number } = {},
): Promise<TuneResult<MatmulVariant>> {
  const g = plan(aShape, bShape, opts.transA ?? false, opts.transB ?? false);
  return tune(tuneRequest(g), tuneInputs(g), opts.reps === undefined ? {} : { reps: opts.reps });
}
