// Adafactor over an arena group: every parameter's statistics, scalars and update as segments of a
// few dispatches (column chunk sums for tall matrices, column statistics, row statistics per
// workgroup size, full second moments, scalars, apply), whatever the group's size. A table per
// parameter (offsets in the parameter, state and scratch arenas, its [B, R, C] and kind) and each
// pass's workgroup list live in one u32 `plan` buffer, uploaded once per group. Each element's
// arithmetic is the per-parameter kernels' (shaders/optim.wgsl), so the paths agree to the bit.
import { gpu } from '../gpu/device.js';
import { grid } from '../gpu/kernels.js';
import { launch } from '../ops/launch.js';
import type { Arena } from '../tensor/arena.js';
import { tensor } from '../tensor/create.js';
import { keep } from '../tensor/scope.js';
import { Tensor } from '../tensor/tensor.js';
import type { AdafactorOptions } from './adafactor.js';
import { GROUP_PARAMS, optimKernel } from './kernels.js';
import { UPDATE_WG, type ArenaGroup } from './optimizer.js';

const CHUNKS = optimKernel('adafactor_group_chunks', GROUP_PARAMS, 2, 1);
const COLS = optimKernel('adafactor_group_cols', GROUP_PARAMS, 3, 1);
const ROWS = optimKernel('adafactor_group_rows', GROUP_PARAMS, 4, 3);
const VECTOR = optimKernel('adafactor_group_vector', GROUP_PARAMS, 3, 3);
const SCALARS = optimKernel('adafactor_group_scalars', GROUP_PARAMS, 4, 1);
const APPLY = optimKernel('adafactor_group_apply', GROUP_PARAMS, 6, 1);
const APPLY_MOMENTUM = optimKernel('adafactor_group_apply_momentum', GROUP_PARAMS, 6, 2);

/** Workgroup size of the scalar pass (one workgroup per parameter). */
export const SCALAR_WG = 256;
/** Matrices with more rows than this sum their columns in chunks of CHUNK_ROWS rows first. */
export const TALL = 256;
export const CHUNK_ROWS = 128;
/** Elements per lane of the apply pass (the `APPLY_PER_LANE` override). */
const APPLY_PER_LANE = 8;

/**
 * Lanes per row of the row-statistics pass. On software adapters (lavapipe) each of the tree
 * reduction's barriers switches the whole workgroup, so 16 lanes beat 64: the optimizer step over
 * [8192,128], [384,128], [128,384] and [128,128] took 67-78 ms of CPU against 113-115 (2 cores, load 9).
 */
export function rowsWorkgroup(c: number): number {
  if (gpu().report.isSoftware) return 16;
  return c >= 256 ? 256 : 64;
}

/** [B, R, C] for a factored parameter: its last two axes and everything before them. */
export function factorShape(shape: readonly number[]): [number, number, number] {
  const r = shape[shape.length - 2]!;
  const c = shape[shape.length - 1]!;
  return [shape.slice(0, -2).reduce((a, b) => a * b, 1), r, c];
}

/** The table's fields, in shaders/optim.wgsl's order (T_P .. T_TALL), TABLE_STRIDE u32 per parameter. */
const TABLE_STRIDE = 16;

interface Entry {
  p: number;
  n: number;
  factored: boolean;
  b: number;
  r: number;
  c: number;
  sq: number;
  col: number;
  part: number;
  per: number;
  sc: number;
  chunk: number;
  tall: boolean;
}

/** A pass's workgroups: where its list starts in the plan and how many there are. */
interface Pass {
  base: number;
  count: number;
}

/** What one group step takes besides the arenas: the per-step values, computed as the per-parameter path does. */
export interface GroupStepValues {
  beta2t: number;
  oneMinusBeta2t: number;
  relStep: number;
}

/** The plan of one arena group: the uploaded table and workgroup lists, and the scratch sizes. */
export class AdafactorGroupPlan {
  private readonly plan: Tensor;
  private readonly entries: Entry[];
  private readonly chunks: Pass;
  private readonly cols: Pass;
  private readonly rows: Array<Pass & { wg: number }>;
  private readonly vector: Pass;
  private readonly apply: Pass;
  private readonly partials: number;
  private readonly scalars: number;
  private readonly chunkSums: number;

  constructor(params: Arena, state: Record<string, Arena>) {
    const at = { exp_avg_sq_row: 0, exp_avg_sq: 0 };
    let part = 0;
    let sc = 0;
    let chunk = 0;
    this.entries = [];
    params.shapes.forEach((shape, k) => {
      const factored = shape.length >= 2;
      const key = factored ? 'exp_avg_sq_row' : 'exp_avg_sq';
      const index = at[key]++;
      const n = params.views[k]!.size;
      if (n === 0) return;
      const [b, r, c] = factored ? factorShape(shape) : [1, 1, n];
      const per = factored ? r : Math.ceil(n / UPDATE_WG);
      const tall = factored && r > TALL;
      const e: Entry = {
        p: params.offsets[k]!, n, factored, b, r, c, sq: state[key]!.offsets[index]!, col: factored ? state.exp_avg_sq_col!.offsets[index]! : 0,
        part, per, sc, chunk, tall,
      };
      part += b * per;
      sc += 2 + b;
      if (tall) chunk += b * Math.ceil(r / CHUNK_ROWS) * c;
      this.entries.push(e);
    });
    this.partials = Math.max(part, 1);
    this.scalars = Math.max(sc, 1);
    this.chunkSums = Math.max(chunk, 1);
    const words: number[] = this.entries.flatMap((e) => {
      const row = [e.p, e.n, +e.factored, e.b, e.r, e.c, e.sq, e.col, e.part, e.per, e.sc, e.chunk, +e.tall];
      return [...row, ...new Array<number>(TABLE_STRIDE - row.length).fill(0)];
    });
    const list = (workgroups: (e: Entry) => number): Pass => {
      const base = words.length;
      this.entries.forEach((e, i) => {
        for (let w = 0; w < workgroups(e); w++) words.push(i, w);
      });
      return { base, count: (words.length - base) / 2 };
    };
    const lanes = (n: number) => Math.ceil(n / UPDATE_WG);
    this.chunks = list((e) => (e.tall ? lanes(e.b * Math.ceil(e.r / CHUNK_ROWS) * e.c) : 0));
    this.cols = list((e) => (e.factored ? lanes(e.b * e.c) : 0));
    const sizes = [...new Set(this.entries.filter((e) => e.factored).map((e) => rowsWorkgroup(e.c)))];
    this.rows = sizes.map((wg) => ({ wg, ...list((e) => (e.factored && rowsWorkgroup(e.c) === wg ? e.b * e.r : 0)) }));
    this.vector = list((e) => (e.factored ? 0 : lanes(e.n)));
    this.apply = list((e) => Math.ceil(e.n / (UPDATE_WG * APPLY_PER_LANE)));
    this.plan = keep(tensor(Int32Array.from(words), [words.length], 'i32'));
    this.plan.name = 'adafactor group plan';
  }

  /** Records one step of the group (inside the optimizer's dynamic region). */
  record(a: ArenaGroup<AdafactorOptions>, v: GroupStepValues): void {
    if (this.entries.length === 0) return;
    const { group } = a;
    const g = a.grads.whole;
    const p = a.params.whole;
    const row = a.state.exp_avg_sq_row?.whole ?? g;
    const col = a.state.exp_avg_sq_col?.whole ?? g;
    const vec = a.state.exp_avg_sq?.whole ?? g;
    const uniforms = (pass: Pass) => ({
      count: pass.count, map_base: pass.base, span: CHUNK_ROWS, beta2t: v.beta2t, one_minus_beta2t: v.oneMinusBeta2t, eps1: group.eps[0],
      rel_step: v.relStep, eps2: group.eps[1], clip: group.clipThreshold, weight_decay: group.weightDecay,
      beta1: group.beta1 ?? 0, one_minus_beta1: 1 - (group.beta1 ?? 0),
    });
    const label = (what: string) => `adafactor.group.${what} ${this.entries.length} tensors [${a.params.size}]`;
    const scale = group.scaleParameter;
    const pp = Tensor.empty([this.partials], 'f32', 'adafactor.partials');
    const pu = Tensor.empty([this.partials], 'f32', 'adafactor.partials');
    const sums = Tensor.empty([this.chunkSums], 'f32', 'adafactor.col_chunks');
    const scalars = Tensor.empty([this.scalars], 'f32', 'adafactor.scalars');
    const run = (kernel: typeof CHUNKS, pass: Pass, inputs: Tensor[], outputs: Tensor[], wg = UPDATE_WG, what = kernel.name.slice('optim.adafactor_group_'.length)) => {
      if (pass.count === 0) return;
      launch(kernel, {
        inputs: [this.plan, ...inputs], outputs, params: uniforms(pass), overrides: { WG: wg, SCALE_PARAMETER: scale, APPLY_PER_LANE }, workgroups: grid(pass.count), label: label(what),
      });
    };
    run(CHUNKS, this.chunks, [g], [sums]);
    run(COLS, this.cols, [g, this.chunks.count > 0 ? sums : g], [col]);
    for (const r of this.rows) run(ROWS, r, [g, p, col], [row, pp, pu], r.wg);
    run(VECTOR, this.vector, [g, p], [vec, pp, pu]);
    run(SCALARS, { base: 0, count: this.entries.length }, [pp, pu, row], [scalars], SCALAR_WG);
    const m = a.state.exp_avg;
    if (group.beta1 !== null && m) run(APPLY_MOMENTUM, this.apply, [g, row, col, vec, scalars], [p, m.whole]);
    else run(APPLY, this.apply, [g, row, col, vec, scalars], [p]);
    // Released buffers are only handed out again after the submit that runs these dispatches.
    for (const t of [pp, pu, sums, scalars]) t.dispose();
  }

  dispose(): void {
    this.plan.dispose();
  }
}
