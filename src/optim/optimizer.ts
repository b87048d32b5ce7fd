// The optimizer base: parameter groups, per-parameter state and its lifetime, checkpoints. A
// concrete optimizer says which state tensors a parameter needs and records the dispatches of one
// update; the base checks the gradients, counts steps and owns the state. Updates write into the
// parameters' own storage (the handles never change) and are only recorded: the caller's step
// submit runs them, so an optimizer step costs no extra submit and no host round trip.
import { noGrad } from '../autograd/tape.js';
import { GpuError } from '../gpu/device.js';
import { grid, type Kernel, type Overrides } from '../gpu/kernels.js';
import { recorder } from '../gpu/recorder.js';
import type { Fields, ParamValues } from '../gpu/params.js';
import { fill } from '../ops/fill.js';
import { describeOp, launch } from '../ops/launch.js';
import { write } from '../tensor/create.js';
import { keep } from '../tensor/scope.js';
import { fmtShape, readAll, Tensor, type Shape } from '../tensor/tensor.js';

/** Options every optimizer has; each group may override them. */
export interface BaseOptions {
  lr: number;
  weightDecay: number;
}

/** A parameter group as given to a constructor: its tensors and the options it overrides. */
export type GroupSpec<O extends BaseOptions> = { params: readonly Tensor[] } & Partial<O>;

/**
 * A parameter group as the optimizer holds it. `lr` may be changed between steps (it is a
 * uniform, so no pipeline is recompiled); `baseLr` is the lr it was created with, which
 * `setLrScale` multiplies.
 */
export type ParamGroup<O extends BaseOptions> = O & { readonly params: readonly Tensor[]; readonly baseLr: number };

/** What an update receives besides the parameter, its gradient and its state. */
export interface UpdateContext<O extends BaseOptions> {
  group: ParamGroup<O>;
  /** This parameter's step count, 1 at its first update (as torch's `state['step']`). */
  step: number;
}

/** Host copy of an optimizer's state, for checkpoints (`state()` / `loadState()`). */
export interface OptimizerState {
  groups: Array<{ lr: number; weightDecay: number }>;
  params: Array<{ step: number; tensors: Record<string, Float32Array> }>;
}

interface Slot<O extends BaseOptions> {
  param: Tensor;
  group: ParamGroup<O>;
  step: number;
  state: Record<string, Tensor> | null;
}

/** Workgroup size of the elementwise update kernels. */
export const UPDATE_WG = 256;

function isTensorList(params: readonly Tensor[] | readonly GroupSpec<BaseOptions>[]): params is readonly Tensor[] {
  return params.every((p) => p instanceof Tensor);
}

/** The constructor's `params` argument as a list of groups (a plain tensor list is one group). */
export function groupSpecs<O extends BaseOptions>(name: string, params: readonly Tensor[] | readonly GroupSpec<O>[]): GroupSpec<O>[] {
  if (isTensorList(params)) return [{ params } as GroupSpec<O>];
  if (params.some((p) => p instanceof Tensor)) throw new GpuError(`${name}: params must be all tensors or all groups, not a mix`);
  return [...params];
}

function definedEntries<O>(spec: Partial<O>): Partial<O> {
  return Object.fromEntries(Object.entries(spec).filter(([k, v]) => v !== undefined && k !== 'params')) as Partial<O>;
}

export abstract class Optimizer<O extends BaseOptions> {
  readonly groups: ParamGroup<O>[];
  private readonly slots: Slot<O>[] = [];
  private disposed = false;

  protected constructor(readonly name: string, params: readonly Tensor[] | readonly GroupSpec<O>[], defaults: O) {
    const seen = new Set<Tensor>();
    this.groups = groupSpecs(name, params).map((spec, gi) => {
      const group = { ...defaults, ...definedEntries(spec), params: [...spec.params] } as O & { params: readonly Tensor[] };
      if (!(group.lr >= 0) || !Number.isFinite(group.lr)) throw new GpuError(`${name}: group ${gi} has invalid lr ${group.lr}`);
      if (!(group.weightDecay >= 0)) throw new GpuError(`${name}: group ${gi} has invalid weightDecay ${group.weightDecay}`);
      for (const p of group.params) {
        p.assertAlive(name);
        if (p.dtype !== 'f32') throw new GpuError(`${name}: parameter ${p.describe()} is not f32`);
        if (seen.has(p)) throw new GpuError(`${name}: parameter ${p.describe()} appears twice`);
        seen.add(p);
      }
      const full: ParamGroup<O> = { ...group, baseLr: group.lr };
      for (const param of full.params) this.slots.push({ param, group: full, step: 0, state: null });
      return full;
    });
  }

  /** Every parameter, in group order: pass these to `valueAndGrad` and the grads to `step`. */
  get params(): Tensor[] {
    return this.slots.map((s) => s.param);
  }

  /** The state tensors a new parameter starts with (zeros); the base keeps and disposes them. */
  protected abstract initState(param: Tensor, group: ParamGroup<O>): Record<string, Tensor>;

  /** Records the update of `param` in place from `grad`; must not submit or read back. */
  protected abstract update(param: Tensor, grad: Tensor, state: Record<string, Tensor>, ctx: UpdateContext<O>): void;

  /**
   * Records one update of every parameter; `grads[i]` is the gradient of `params[i]` (as returned
   * by `valueAndGrad(fn, optimizer.params)`). Nothing is submitted: the step's submit runs it.
   */
  step(grads: readonly Tensor[]): void {
    this.assertLive('step');
    if (grads.length !== this.slots.length) {
      throw new GpuError(`${this.name}.step: ${grads.length} gradients for ${this.slots.length} parameters`);
    }
    this.slots.forEach((s, i) => {
      const g = grads[i]!;
      g.assertAlive(`${this.name}.step`);
      s.param.assertAlive(`${this.name}.step`);
      if (g.dtype !== 'f32' || g.shape.length !== s.param.shape.length || g.shape.some((d, k) => d !== s.param.shape[k])) {
        throw new GpuError(`${this.name}.step: gradient ${i} is ${g.describe()}, parameter is ${s.param.describe()}`);
      }
    });
    // State is created outside the dynamic region: a replay must not zero it again.
    const states = this.slots.map((s) => this.stateOf(s));
    // The step counts and lr are host state: a replay of a captured step runs this region again.
    recorder().dynamic(() =>
      noGrad(() => {
        this.slots.forEach((s, i) => {
          s.step++;
          this.update(s.param, grads[i]!, states[i]!, { group: s.group, step: s.step });
        });
      }),
    );
  }

  /** Sets every group's lr to its `baseLr` times `multiplier` (a schedule's value for this step). */
  setLrScale(multiplier: number): void {
    for (const g of this.groups) (g as BaseOptions).lr = g.baseLr * multiplier;
  }

  /** A host copy of the optimizer's state: group options, step counts and state tensors. */
  async state(): Promise<OptimizerState> {
    this.assertLive('state');
    const states = this.slots.map((s) => Object.entries(this.stateOf(s)));
    const data = await readAll(states.flat().map(([, t]) => t));
    let i = 0;
    const params = this.slots.map((s, j) => ({
      step: s.step,
      tensors: Object.fromEntries(states[j]!.map(([k]) => [k, data[i++] as Float32Array])),
    }));
    return { groups: this.groups.map((g) => ({ lr: g.lr, weightDecay: g.weightDecay })), params };
  }

  /** Restores what `state()` returned (same parameters, shapes and options). */
  loadState(state: OptimizerState): void {
    this.assertLive('loadState');
    if (state.groups.length !== this.groups.length || state.params.length !== this.slots.length) {
      throw new GpuError(
        `${this.name}.loadState: state has ${state.groups.length} groups and ${state.params.length} parameters, optimizer has ${this.groups.length} and ${this.slots.length}`,
      );
    }
    this.slots.forEach((s, i) => {
      const saved = state.params[i]!;
      const own = this.stateOf(s);
      const keys = Object.keys(own).sort().join(',');
      if (Object.keys(saved.tensors).sort().join(',') !== keys) {
        throw new GpuError(`${this.name}.loadState: parameter ${i} has state {${keys}}, checkpoint has {${Object.keys(saved.tensors).join(',')}}`);
      }
      for (const [k, t] of Object.entries(own)) {
        const data = saved.tensors[k]!;
        if (data.length !== t.size) throw new GpuError(`${this.name}.loadState: ${k} of parameter ${i} has ${data.length} values, expected ${fmtShape(t.shape)}`);
      }
    });
    this.slots.forEach((s, i) => {
      const saved = state.params[i]!;
      s.step = saved.step;
      for (const [k, t] of Object.entries(this.stateOf(s))) write(t, saved.tensors[k]!);
    });
    this.groups.forEach((g, i) => {
      (g as BaseOptions).lr = state.groups[i]!.lr;
      (g as BaseOptions).weightDecay = state.groups[i]!.weightDecay;
    });
  }

  /** Frees every state tensor; the optimizer cannot be used afterwards. Parameters are untouched. */
  dispose(): void {
    for (const s of this.slots) {
      for (const t of Object.values(s.state ?? {})) t.dispose();
      s.state = null;
    }
    this.disposed = true;
  }

  /** Zeros of `shape`, for `initState`. */
  protected zeros(shape: Shape): Tensor {
    return fill(shape, 0);
  }

  /** Records an elementwise update kernel over the `n` elements of `param`. */
  protected launchElementwise<F extends Fields>(
    kernel: Kernel<F>,
    param: Tensor,
    l: { inputs: Tensor[]; outputs: Tensor[]; params: ParamValues<F>; overrides?: Overrides },
  ): void {
    launch(kernel, {
      ...l,
      overrides: { WG: UPDATE_WG, ...l.overrides },
      workgroups: grid(Math.ceil(param.size / UPDATE_WG)),
      label: describeOp(kernel.name, param),
    });
  }

  private stateOf(s: Slot<O>): Record<string, Tensor> {
    if (!s.state) {
      const state = noGrad(() => this.initState(s.param, s.group));
      for (const t of Object.values(state)) keep(t);
      s.state = state;
    }
    return s.state;
  }

  private assertLive(op: string): void {
    if (this.disposed) throw new GpuError(`${this.name}.${op}: the optimizer was disposed`);
  }
}
