// Step capture and replay for embedders: a step function with fixed shapes runs eagerly a few
// times, is captured once into a plan (gpu/plan.ts), checked against a second capture, and from
// then on replayed: the host encodes only the plan's dispatches, copies the call's input tensors
// into the plan's input buffers, and re-runs the plan's dynamic regions (the optimizer's step
// count and lr, dropout seeds read from Scalars). A new input shape gets its own plan.
//
// Per-step values are declared, not guessed: a number input becomes a Scalar the ops read inside
// `recorder().dynamic`, and host state (step counts, lr) is read the same way by the optimizer.
// The second capture is the safety net: a parameter that changed between two calls outside any
// dynamic region, a different dispatch list or different buffers refuse the replay with a message
// that names the dispatch. Host reads and host uploads inside the step are refused at once.
import { GpuError } from '../gpu/device.js';
import type { Plan } from '../gpu/plan.js';
import { recorder, type BufferRange } from '../gpu/recorder.js';
import { Scalar } from '../tensor/scalar.js';
import { keep, tidy } from '../tensor/scope.js';
import { fmtShape, Tensor } from '../tensor/tensor.js';

/** A step's inputs: tensors (copied into the plan's buffers) and numbers (Scalars in the step). */
export type StepInputs<I> = { readonly [K in keyof I]: Tensor | number };

/** What the step function receives: each number input as a Scalar read anew at every replay. */
export type CapturedInputs<I extends StepInputs<I>> = { readonly [K in keyof I]: I[K] extends number ? Scalar : Tensor };

/** What a step returns: a tensor, an array of tensors or a record of them. */
export type StepOutputs = Tensor | readonly Tensor[] | { readonly [name: string]: Tensor };

export interface CaptureOptions {
  /** Eager calls per input shape before the capture: lazily created state and tuning happen there. Default 1. */
  warmup?: number;
  /** Capture a second time and compare before the first replay. Default true. */
  verify?: boolean;
  /** Plans kept, one per input shape; the least recently used goes first. Default 4. */
  maxPlans?: number;
  /** False: every call runs eagerly (for comparisons). Default true. */
  enabled?: boolean;
}

/** Calls by how they ran. */
export interface CaptureStats {
  eager: number;
  captures: number;
  replays: number;
}

/** A captured step: call it like the function; `dispose` frees its plans. */
export interface CapturedStep<I extends StepInputs<I>, R extends StepOutputs> {
  (inputs: I): R;
  readonly stats: Readonly<CaptureStats>;
  dispose(): void;
}

interface Entry<R> {
  calls: number;
  /** The captured call's result: the outputs' structure, shapes and dtypes. */
  template: R | null;
  plan: Plan | null;
  /** The plan's own input tensors and Scalars, by input name. */
  inputs: Map<string, Tensor | Scalar>;
  outputs: BufferRange[];
}

const tensorsOf = (r: StepOutputs): Tensor[] => (r instanceof Tensor ? [r] : Object.values(r));

function rebuild<R extends StepOutputs>(template: R, ts: Tensor[]): R {
  if (template instanceof Tensor) return ts[0] as R;
  if (Array.isArray(template)) return ts as unknown as R;
  return Object.fromEntries(Object.keys(template).map((k, i) => [k, ts[i]])) as R;
}

type Given = Readonly<Record<string, Tensor | number>>;

function keyOf(inputs: Given): string {
  return Object.keys(inputs)
    .sort()
    .map((k) => {
      const v = inputs[k]!;
      return typeof v === 'number' ? `${k}:n` : `${k}:${v.dtype}${fmtShape(v.shape)}`;
    })
    .join(' ');
}

/**
 * Wraps a step function for capture and replay. `fn` must be synchronous, record the same
 * dispatches for the same input shapes, read nothing back and upload nothing from the host (pass
 * host data as input tensors, per-step numbers as number inputs); its outputs come back as fresh
 * tensors the caller owns. Parameters and optimizer state live outside the step and must outlive it.
 */
export function capture<I extends StepInputs<I>, R extends StepOutputs>(
  fn: (inputs: CapturedInputs<I>) => R,
  options: CaptureOptions = {},
): CapturedStep<I, R> {
  const { warmup = 1, verify = true, maxPlans = 4, enabled = true } = options;
  const entries = new Map<string, Entry<R>>();
  const stats: CaptureStats = { eager: 0, captures: 0, replays: 0 };

  const eager = (inputs: I): R => {
    stats.eager++;
    const given = Object.fromEntries(Object.entries(inputs as Given).map(([k, v]) => [k, typeof v === 'number' ? new Scalar(v) : v]));
    return tidy(() => fn(given as CapturedInputs<I>));
  };

  /** Runs the step once eagerly while capturing it; returns the plan and the step's outputs. */
  const captureOnce = (inputs: I): { plan: Plan; own: Map<string, Tensor | Scalar>; outputs: BufferRange[]; result: R } => {
    const rec = recorder();
    const own = new Map<string, Tensor | Scalar>();
    const copies: Array<[Tensor, Tensor]> = [];
    for (const [k, v] of Object.entries(inputs as Given)) {
      if (typeof v === 'number') own.set(k, new Scalar(v));
      else {
        const t = keep(Tensor.empty(v.shape, v.dtype, `step input ${k}`));
        copies.push([v, t]);
        own.set(k, t);
      }
    }
    for (const [src, dst] of copies) rec.copy(src.range, dst.range, `step input ${dst.describe()}`);
    rec.beginCapture();
    let result: R;
    try {
      result = tidy(() => fn(Object.fromEntries(own) as CapturedInputs<I>));
    } catch (err) {
      rec.abortCapture();
      for (const v of own.values()) if (v instanceof Tensor) v.dispose();
      throw err;
    }
    const plan = rec.endCapture(copies.map(([, t]) => t.range.buffer));
    stats.captures++;
    const outs = tensorsOf(result);
    const outputs = outs.map((t) => t.range);
    const made = new Set(plan.log.acquired);
    const fresh = outs.map((t) => {
      const f = Tensor.empty(t.shape, t.dtype, t.name ?? 'step output');
      rec.copy(t.range, f.range, `step output ${t.describe()}`);
      // The plan keeps what the step made; a tensor from outside (a parameter) stays its owner's.
      if (made.has(t.range.buffer)) t.dispose();
      return f;
    });
    return { plan, own, outputs, result: rebuild(result, fresh) };
  };

  const disposeEntry = (e: { plan: Plan | null; inputs: Map<string, Tensor | Scalar> }) => {
    if (e.plan) recorder().disposePlan(e.plan);
    for (const v of e.inputs.values()) if (v instanceof Tensor) v.dispose();
  };

  const replay = (e: Entry<R>, plan: Plan, template: R, inputs: I): R => {
    stats.replays++;
    const copies: Array<{ src: BufferRange; dst: BufferRange }> = [];
    for (const [k, v] of Object.entries(inputs as Given)) {
      const own = e.inputs.get(k)!;
      if (typeof v === 'number') (own as Scalar).value = v;
      else {
        v.assertAlive(`step input ${k}`);
        copies.push({ src: v.range, dst: (own as Tensor).range });
      }
    }
    const rec = recorder();
    rec.replay(plan, copies);
    const outs = tensorsOf(template).map((t, i) => {
      const f = Tensor.empty(t.shape, t.dtype, t.name ?? 'step output');
      rec.copy(e.outputs[i]!, f.range, `step output ${f.describe()}`);
      return f;
    });
    return rebuild(template, outs);
  };

  const step = (inputs: I): R => {
    if (!enabled) return eager(inputs);
    const key = keyOf(inputs as Given);
    let e = entries.get(key);
    if (!e) {
      e = { calls: 0, template: null, plan: null, inputs: new Map(), outputs: [] };
      entries.set(key, e);
      while (entries.size > maxPlans) {
        const [oldest, old] = entries.entries().next().value!;
        entries.delete(oldest);
        disposeEntry(old);
      }
    } else {
      // Most recently used last.
      entries.delete(key);
      entries.set(key, e);
    }
    const call = e.calls++;
    if (call < warmup) return eager(inputs);
    if (!e.plan) {
      const c = captureOnce(inputs);
      e.plan = c.plan;
      e.inputs = c.own;
      e.outputs = c.outputs;
      e.template = c.result;
      return c.result;
    }
    if (verify && call === warmup + 1) {
      const c = captureOnce(inputs);
      const diff = e.plan.differenceFrom(c.plan);
      disposeEntry({ plan: c.plan, inputs: c.own });
      if (diff) {
        entries.delete(key);
        disposeEntry(e);
        throw new GpuError(`capture: this step cannot be replayed: ${diff}`);
      }
      return c.result;
    }
    return replay(e, e.plan, e.template!, inputs);
  };

  return Object.assign(step, {
    stats,
    dispose() {
      for (const e of entries.values()) disposeEntry(e);
      entries.clear();
    },
  });
}
