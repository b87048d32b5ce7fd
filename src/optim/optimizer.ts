// The optimizer base: parameter groups, per-parameter state and its lifetime, checkpoints. A
// concrete optimizer says which state tensors a parameter needs and records the dispatches of one
// update; the base checks the gradients, counts steps and owns the state. Updates write into the
// parameters' own storage (the handles never change) and are only recorded: the caller's step
// submit runs them, so an optimizer step costs no extra submit and no host round trip.
//
// A group whose parameters are exactly the views of one Arena (src/tensor/arena.ts) keeps its
// state in arenas too, and once the caller takes `gradTargets()` (destinations for valueAndGrad
// in a matching gradient arena) the optimizer may update the whole group with a few dispatches
// over the arenas (`updateArena`). State still reads and loads per parameter, so checkpoints keep
// one format.
import { noGrad } from '../autograd/tape.js';
import { GpuError } from '../gpu/device.js';
import { grid, type Kernel, type Overrides } from '../gpu/kernels.js';
import { recorder } from '../gpu/recorder.js';
import type { Fields, ParamValues } from '../gpu/params.js';
import { fill } from '../ops/fill.js';
import { describeOp, launch } from '../ops/launch.js';
import { Arena, arenaLayout } from '../tensor/arena.js';
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

/**
 * A group updated over arenas: its parameters are every view of `params`, its gradients the views
 * of `grads` (same layout), and each state key's tensors the views of `state[key]`, in the order
 * of the parameter arena's members that have that key.
 */
export interface ArenaGroup<O extends BaseOptions> {
  group: ParamGroup<O>;
  params: Arena;
  grads: Arena;
  state: Record<string, Arena>;
  /** The group's step count (every member's), 1 at its first update. */
  step: number;
}

interface Slot<O extends BaseOptions> {
  param: Tensor;
  group: ParamGroup<O>;
  step: number;
  state: Record<string, Tensor> | null;
}

/** What the optimizer keeps for a group whose parameters fill one arena. */
interface ArenaSlots {
  params: Arena;
  /** The slot index of each arena member. */
  slots: number[];
  grads: Arena | null;
  state: Record<string, Arena> | null;
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
  /** Per group: its arena bookkeeping, or null when its parameters are not one arena's views. */
  private readonly arenas: Array<ArenaSlots | null>;
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
    let first = 0;
    this.arenas = this.groups.map((g) => {
      const start = first;
      first += g.params.length;
      const arena = g.params.length > 0 ? Arena.of(g.params[0]!) : undefined;
      if (!arena || arena.views.length !== g.params.length || g.params.some((p) => Arena.of(p) !== arena)) return null;
      return { params: arena, slots: arena.views.map((v) => start + g.params.indexOf(v)), grads: null, state: null };
    });
  }

  /** Every parameter, in group order: pass these to `valueAndGrad` and the grads to `step`. */
  get params(): Tensor[] {
    return this.slots.map((s) => s.param);
  }

  /**
   * Where gradients should land, in `params` order (pass as valueAndGrad's `into`): views of a
   * gradient arena for the groups whose parameters fill one arena, null for the others. Once taken,
   * `step` expects exactly these views for those groups and may update each group at once.
   */
  gradTargets(): Array<Tensor | null> {
    this.assertLive('gradTargets');
    const out = new Array<Tensor | null>(this.slots.length).fill(null);
    for (const a of this.arenas) {
      if (!a) continue;
      a.grads ??= zerosArena(a.params.shapes, 'gradient arena');
      a.slots.forEach((s, k) => (out[s] = a.grads!.views[k]!));
    }
    return out;
  }

  /** The shapes of the state tensors a parameter keeps, by name; they start at zero. */
  protected abstract stateShapes(param: Tensor, group: ParamGroup<O>): Record<string, Shape>;

  /** Records the update of `param` in place from `grad`; must not submit or read back. */
  protected abstract update(param: Tensor, grad: Tensor, state: Record<string, Tensor>, ctx: UpdateContext<O>): void;

  /**
   * Records the update of a whole arena group, or returns false (before recording anything) when
   * this group's options need the per-parameter path.
   */
  protected abstract updateArena(a: ArenaGroup<O>): boolean;

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
    const whole = this.arenas.map((a) => a !== null && this.arenaGradients(a, grads));
    // State is created outside the dynamic region: a replay must not zero it again.
    const states = this.slots.map((s) => this.stateOf(s));
    // The step counts and lr are host state: a replay of a captured step runs this region again.
    recorder().dynamic(() =>
      noGrad(() => {
        const done = new Set<number>();
        this.arenas.forEach((a, gi) => {
          if (!a || !whole[gi]) return;
          const steps = new Set(a.slots.map((i) => this.slots[i]!.step));
          if (steps.size !== 1) return;
          const step = [...steps][0]! + 1;
          if (!this.updateArena({ group: this.groups[gi]!, params: a.params, grads: a.grads!, state: a.state!, step })) return;
          for (const i of a.slots) {
            this.slots[i]!.step = step;
            done.add(i);
          }
        });
        this.slots.forEach((s, i) => {
          if (done.has(i)) return;
          s.step++;
          this.update(s.param, grads[i]!, states[i]!, { group: s.group, step: s.step });
        });
      }),
    );
  }

  /**
   * True when `grads` holds the group's gradient-arena views at its members' places. Before
   * `gradTargets` was taken any gradients go (per parameter); after, anything else is refused.
   */
  private arenaGradients(a: ArenaSlots, grads: readonly Tensor[]): boolean {
    if (!a.grads) return false;
    a.slots.forEach((s, k) => {
      const g = grads[s]!;
      if (a.grads!.indexOf(g) !== k) {
        const where = a.grads!.indexOf(g) >= 0 ? `the gradient arena's view for another parameter` : g.sharesStorage(a.grads!.whole) ? 'a view of the gradient arena that is none of its members' : 'not a view of the gradient arena';
        throw new GpuError(`${this.name}.step: gradient ${s} (${g.describe()}) for ${this.slots[s]!.param.describe()} is ${where}; after gradTargets() the group's gradients must be the views it returned`);
      }
    });
    return true;
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

  /** Frees every state tensor and gradient arena; the optimizer cannot be used afterwards. Parameters are untouched. */
  dispose(): void {
    for (const s of this.slots) {
      for (const t of Object.values(s.state ?? {})) t.dispose();
      s.state = null;
    }
    for (const a of this.arenas) {
      if (!a) continue;
      for (const arena of [a.grads, ...Object.values(a.state ?? {})]) {
        arena?.views.forEach((v) => v.dispose());
        arena?.dispose();
      }
      a.grads = null;
      a.state = null;
    }
    this.disposed = true;
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
      const gi = this.groups.indexOf(s.group);
      const a = this.arenas[gi];
      if (a) this.arenaState(a);
      else s.state = noGrad(() => Object.fromEntries(Object.entries(this.stateShapes(s.param, s.group)).map(([k, shape]) => [k, keep(fill(shape, 0))])));
    }
    return s.state!;
  }

  /** Creates an arena group's state: one zero arena per state name, members in parameter-arena order. */
  private arenaState(a: ArenaSlots): void {
    const shapes = a.slots.map((i) => this.stateShapes(this.slots[i]!.param, this.slots[i]!.group));
    const names = [...new Set(shapes.flatMap((r) => Object.keys(r)))];
    a.state = Object.fromEntries(names.map((k) => [k, noGrad(() => zerosArena(shapes.flatMap((r) => (r[k] ? [r[k]] : [])), `${this.name} ${k}`))]));
    a.slots.forEach((i, m) => {
      const own = shapes[m]!;
      this.slots[i]!.state = Object.fromEntries(Object.keys(own).map((k) => {
        const before = shapes.slice(0, m).filter((r) => r[k]).length;
        return [k, a.state![k]!.views[before]!];
      }));
    });
  }

  private assertLive(op: string): void {
    if (this.disposed) throw new GpuError(`${this.name}.${op}: the optimizer was disposed`);
  }
}

/** A zero-filled arena over `shapes` (its views are kept: the optimizer disposes them). */
function zerosArena(shapes: readonly Shape[], what: string): Arena {
  const arena = new Arena(fill([arenaLayout(shapes).size], 0), shapes);
  for (const v of arena.views) {
    keep(v);
    v.name = what;
  }
  return arena;
}
