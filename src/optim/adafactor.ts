// Adafactor as Hugging Face transformers' `Adafactor` (fairseq's algorithm): a factored second
// moment for parameters of rank >= 2 (row and column running averages of g^2 + eps1 over the last
// two axes), a full one for vectors, beta2_t = 1 - t^decayRate, the update clipped by its RMS, and
// an optional relative step size scaled by the parameter's RMS. The RMS values and row means are
// reductions: they run on the GPU and reach the update kernel through a small scalar buffer, so a
// step needs no host round trip. Four dispatches per matrix (five when it is tall), three per vector;
// a group whose parameters fill an arena takes a fixed few for all of them (adafactor_group.ts).
import { GpuError } from '../gpu/device.js';
import { grid } from '../gpu/kernels.js';
import type { ParamValues } from '../gpu/params.js';
import { describeOp, launch } from '../ops/launch.js';
import type { Arena } from '../tensor/arena.js';
import { Tensor, type Shape } from '../tensor/tensor.js';
import { AdafactorGroupPlan, CHUNK_ROWS, factorShape, rowsWorkgroup, SCALAR_WG, TALL, type GroupStepValues } from './adafactor_group.js';
import { APPLY_PARAMS, optimKernel, SCALAR_PARAMS, STAT_PARAMS } from './kernels.js';
import { groupSpecs, Optimizer, UPDATE_WG, type ArenaGroup, type BaseOptions, type GroupSpec, type ParamGroup, type UpdateContext } from './optimizer.js';

const COLS = optimKernel('adafactor_cols', STAT_PARAMS, 1, 1);
const COL_CHUNKS = optimKernel('adafactor_col_chunks', STAT_PARAMS, 1, 1);
const ROWS = optimKernel('adafactor_rows', STAT_PARAMS, 3, 3);
const VECTOR = optimKernel('adafactor_vector', STAT_PARAMS, 2, 3);
const SCALARS = optimKernel('adafactor_scalars', SCALAR_PARAMS, 3, 1);
const APPLY = optimKernel('adafactor_apply', APPLY_PARAMS, 4, 1);
const APPLY_MOMENTUM = optimKernel('adafactor_apply_momentum', APPLY_PARAMS, 4, 2);
type StatParams = ParamValues<typeof STAT_PARAMS.spec>;

export interface AdafactorOptions extends BaseOptions {
  /** Regularisers of the squared gradient and of the parameter scale. */
  eps: readonly [number, number];
  /** Threshold on the RMS of the update. */
  clipThreshold: number;
  /** beta2_t = 1 - t^decayRate. */
  decayRate: number;
  /** First-moment coefficient; null keeps no first moment. */
  beta1: number | null;
  /** Multiply the step size by max(eps2, RMS(param)). */
  scaleParameter: boolean;
  /** Use min(1e-2, 1/sqrt(t)) (or min(1e-6 t, 1/sqrt(t)) with warmupInit) instead of `lr`. */
  relativeStep: boolean;
  warmupInit: boolean;
}

const DEFAULTS: AdafactorOptions = {
  lr: 0,
  weightDecay: 0,
  eps: [1e-30, 1e-3],
  clipThreshold: 1,
  decayRate: -0.8,
  beta1: null,
  scaleParameter: true,
  relativeStep: true,
  warmupInit: false,
};

/** HF's option checks, made per group: `lr` and `relativeStep` exclude each other. */
function checkedDefaults(params: readonly Tensor[] | readonly GroupSpec<AdafactorOptions>[], options: Partial<AdafactorOptions>): AdafactorOptions {
  groupSpecs('Adafactor', params).forEach((spec, i) => {
    const relativeStep = spec.relativeStep ?? options.relativeStep ?? DEFAULTS.relativeStep;
    const lr = spec.lr ?? options.lr;
    if (relativeStep && lr !== undefined) throw new GpuError(`Adafactor: group ${i}: cannot combine a manual lr with relativeStep`);
    if (!relativeStep && lr === undefined) throw new GpuError(`Adafactor: group ${i}: relativeStep=false needs an lr`);
    if ((spec.warmupInit ?? options.warmupInit) && !relativeStep) throw new GpuError(`Adafactor: group ${i}: warmupInit needs relativeStep`);
  });
  return { ...DEFAULTS, ...options };
}

/** beta2_t and the step size of step `step` (1-based), as HF computes them. */
function stepValues(group: ParamGroup<AdafactorOptions>, step: number): GroupStepValues {
  const decay = step ** group.decayRate;
  const relStep = group.relativeStep ? Math.min(group.warmupInit ? 1e-6 * step : 1e-2, 1 / Math.sqrt(step)) : group.lr;
  return { beta2t: 1 - decay, oneMinusBeta2t: decay, relStep };
}

export class Adafactor extends Optimizer<AdafactorOptions> {
  private readonly plans = new Map<Arena, AdafactorGroupPlan>();

  /**
   * `params`: tensors, or groups that override any option; `options`: defaults for every group.
   * With `relativeStep` (the default) the step size is computed and `lr` must not be given.
   */
  constructor(params: readonly Tensor[] | readonly GroupSpec<AdafactorOptions>[], options: Partial<AdafactorOptions> = {}) {
    super('Adafactor', params, checkedDefaults(params, options));
    this.groups.forEach((g, i) => {
      if (g.beta1 !== null && !(g.beta1 >= 0 && g.beta1 < 1)) throw new GpuError(`Adafactor: group ${i} has invalid beta1 ${g.beta1}`);
      if (!(g.clipThreshold > 0)) throw new GpuError(`Adafactor: group ${i} has invalid clipThreshold ${g.clipThreshold}`);
    });
  }

  protected stateShapes(param: Tensor, group: ParamGroup<AdafactorOptions>): Record<string, Shape> {
    const shape = param.shape;
    const state: Record<string, Shape> =
      shape.length >= 2 ? { exp_avg_sq_row: shape.slice(0, -1), exp_avg_sq_col: [...shape.slice(0, -2), shape[shape.length - 1]!] } : { exp_avg_sq: shape };
    if (group.beta1 !== null) state.exp_avg = shape;
    return state;
  }

  protected updateArena(a: ArenaGroup<AdafactorOptions>): boolean {
    let plan = this.plans.get(a.params);
    if (!plan) {
      plan = new AdafactorGroupPlan(a.params, a.state);
      this.plans.set(a.params, plan);
    }
    plan.record(a, stepValues(a.group, a.step));
    return true;
  }

  override dispose(): void {
    for (const p of this.plans.values()) p.dispose();
    this.plans.clear();
    super.dispose();
  }

  protected update(param: Tensor, grad: Tensor, state: Record<string, Tensor>, { group, step }: UpdateContext<AdafactorOptions>): void {
    const n = param.size;
    if (n === 0) return;
    const factored = param.rank >= 2;
    const [b, r, c] = factored ? factorShape(param.shape) : [1, 1, n];
    const { beta2t, oneMinusBeta2t, relStep } = stepValues(group, step);
    const stats = (span = r): StatParams => ({ rows: factored ? b * r : n, r, c, beta2t, one_minus_beta2t: oneMinusBeta2t, eps1: group.eps[0], span });
    const scale = group.scaleParameter;
    const label = (what: string) => describeOp(`adafactor.${what}`, param);
    // Partial sums of u^2 and p^2: one per row (factored) or per workgroup of the vector pass.
    const partials = factored ? b * r : Math.ceil(n / UPDATE_WG);
    const pp = Tensor.empty([partials], 'f32', 'adafactor.partials');
    const pu = Tensor.empty([partials], 'f32', 'adafactor.partials');
    const sq = factored ? state.exp_avg_sq_row! : state.exp_avg_sq!;
    const col = factored ? state.exp_avg_sq_col! : sq;
    if (factored) {
      this.columnStatistics(grad, col, stats, [b, r, c], label);
      launch(ROWS, {
        inputs: [grad, param, col],
        outputs: [sq, pp, pu],
        params: stats(),
        overrides: { WG: rowsWorkgroup(c), SCALE_PARAMETER: scale },
        workgroups: grid(partials),
        label: label('rows'),
      });
    } else {
      launch(VECTOR, {
        inputs: [grad, param],
        outputs: [sq, pp, pu],
        params: stats(),
        overrides: { WG: UPDATE_WG, SCALE_PARAMETER: scale },
        workgroups: grid(partials),
        label: label('vector'),
      });
    }
    const scalars = Tensor.empty([2 + b], 'f32', 'adafactor.scalars');
    launch(SCALARS, {
      inputs: [pp, pu, factored ? sq : pu],
      outputs: [scalars],
      params: { groups: b, per: factored ? r : partials, numel: n, rel_step: relStep, eps2: group.eps[1], clip: group.clipThreshold },
      overrides: { WG: SCALAR_WG, FACTORED: factored, SCALE_PARAMETER: scale },
      workgroups: [1],
      label: label('scalars'),
    });
    const beta1 = group.beta1;
    const m = state.exp_avg;
    this.launchElementwise(beta1 !== null && m ? APPLY_MOMENTUM : APPLY, param, {
      inputs: [grad, sq, col, scalars],
      outputs: beta1 !== null && m ? [param, m] : [param],
      params: { n, r, c, weight_decay: group.weightDecay, beta1: beta1 ?? 0, one_minus_beta1: 1 - (beta1 ?? 0) },
      overrides: { FACTORED: factored },
    });
    // Released buffers are only handed out again after the submit that runs these dispatches.
    pp.dispose();
    pu.dispose();
    scalars.dispose();
  }

  /** Updates the column statistics `col` ([B, C]) from g ([B, R, C]). */
  private columnStatistics(
    grad: Tensor,
    col: Tensor,
    stats: (span?: number) => StatParams,
    [b, r, c]: [number, number, number],
    label: (what: string) => string,
  ): void {
    const cols = { outputs: [col], overrides: { WG: UPDATE_WG, SQUARE: r <= TALL }, workgroups: grid(Math.ceil((b * c) / UPDATE_WG)), label: label('cols') };
    if (r <= TALL) {
      launch(COLS, { ...cols, inputs: [grad], params: stats() });
      return;
    }
    const chunks = Math.ceil(r / CHUNK_ROWS);
    const sums = Tensor.empty([b, chunks, c], 'f32', 'adafactor.col_chunks');
    launch(COL_CHUNKS, {
      inputs: [grad],
      outputs: [sums],
      params: stats(CHUNK_ROWS),
      overrides: { WG: UPDATE_WG },
      workgroups: grid(Math.ceil(sums.size / UPDATE_WG)),
      label: label('col_chunks'),
    });
    launch(COLS, { ...cols, inputs: [sums], params: stats(chunks) });
    sums.dispose();
  }
}
