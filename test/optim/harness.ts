// Runs an optimizer on the GPU and a float64 host reference of the same update rule side by side:
// random odd-shaped parameters, random gradients per step, the lr changed between steps, and the
// parameters and state compared after every step.
import * as assert from 'uvu/assert';
import { pipelineCount } from '../../src/gpu/kernels.js';
import { recorder } from '../../src/gpu/recorder.js';
import type { BaseOptions, Optimizer } from '../../src/optim/optimizer.js';
import { Arena } from '../../src/tensor/arena.js';
import { tensor, write } from '../../src/tensor/create.js';
import { tidy } from '../../src/tensor/scope.js';
import type { Tensor } from '../../src/tensor/tensor.js';
import type { HostState, HostUpdate } from '../ref/optim.js';
import { assertClose, numel, randArray, rng } from '../util/check.js';
import { read } from '../util/gpu.js';

export interface Trial<O extends BaseOptions> {
  seed: number;
  shapes: number[][];
  steps: number;
  make(params: Tensor[]): Optimizer<O>;
  reference: HostUpdate<O>;
  /** lr multiplier applied before step t (1-based); default 1. */
  lrScale?: (t: number) => number;
  /** Scale of the random gradients at step t (1-based); default 1. */
  gradScale?: (t: number) => number;
  rtol?: number;
  atol?: number;
  /** Tolerance on each step's update, relative to its largest element. */
  updateRtol?: number;
  /**
   * Parameters as arena views: one arena per run of shapes, split before each index given ([] is
   * one arena); gradients go into the optimizer's gradTargets(), and the arena padding must stay 0.
   */
  arenas?: number[];
}

const f32 = (a: Float64Array): Float64Array => a.map(Math.fround);

/** Runs `trial` and asserts that parameters and state match the host reference at every step. */
export async function runTrial<O extends BaseOptions>(what: string, trial: Trial<O>): Promise<void> {
  const r = rng(trial.seed);
  const host = trial.shapes.map((s) => f32(randArray(r, numel(s))));
  const arenas = trial.arenas && splitArenas(trial.arenas, host, trial.shapes);
  const params = arenas ? arenas.flatMap((a) => [...a.views]) : trial.shapes.map((s, i) => tensor(host[i]!, s));
  const opt = trial.make(params);
  const targets = arenas ? opt.gradTargets() : null;
  const states: HostState[] = trial.shapes.map(() => ({}));
  const groupOf = (p: Tensor) => opt.groups.find((g) => g.params.includes(p))!;
  const tol = { rtol: trial.rtol ?? 2e-6, atol: trial.atol ?? 1e-6 };
  let pipelines = -1;
  try {
    for (let t = 1; t <= trial.steps; t++) {
      opt.setLrScale(trial.lrScale?.(t) ?? 1);
      const scale = trial.gradScale?.(t) ?? 1;
      const grads = trial.shapes.map((s) => f32(randArray(r, numel(s), -scale, scale)));
      const before = await Promise.all(params.map(read));
      const hostBefore = host.map((h) => h.slice());
      if (targets) opt.params.forEach((p, i) => write(targets[i]!, Float32Array.from(grads[params.indexOf(p)]!)));
      const submits = recorder().snapshot().submits;
      // Gradients go in the optimizer's parameter order (groups may reorder them).
      tidy(() => opt.step(targets ? targets.map((g) => g!) : opt.params.map((p) => tensor(grads[params.indexOf(p)]!, p.shape))));
      assert.is(recorder().snapshot().submits, submits, `${what}: step() must not submit`);
      params.forEach((p, i) => trial.reference(host[i]!, grads[i]!, states[i]!, { shape: trial.shapes[i]!, step: t, group: groupOf(p) }));
      for (let i = 0; i < params.length; i++) {
        const after = await read(params[i]!);
        const where = `param ${i} [${trial.shapes[i]}] after step ${t}`;
        assertClose(after, host[i]!, { ...tol, what: `${what}: ${where}` });
        // Small updates hide in the parameter's scale: compare the update itself too, up to the
        // rounding of the two f32 parameter values it is the difference of.
        const ulp = 2 ** -23 * after.reduce((m, x) => Math.max(m, Math.abs(x)), 0);
        assertClose(
          after.map((x, j) => x - before[i]![j]!),
          host[i]!.map((x, j) => x - hostBefore[i]![j]!),
          { rtol: trial.updateRtol ?? 2e-5, atol: 2 * ulp, what: `${what}: update of ${where}` },
        );
      }
      if (t === 1) pipelines = pipelineCount();
      else assert.is(pipelineCount(), pipelines, `${what}: a new lr must not compile a pipeline`);
    }
    for (const a of arenas ?? []) await assertPaddingZero(a, `${what}: parameter arena`);
    const saved = await opt.state();
    // state() is in the optimizer's parameter order.
    saved.params.forEach((s, j) => {
      const i = params.indexOf(opt.params[j]!);
      assert.is(s.step, trial.steps);
      assert.equal(Object.keys(s.tensors).sort(), Object.keys(states[i]!).sort(), `${what}: state names of param ${i}`);
      for (const [k, v] of Object.entries(states[i]!)) {
        assertClose(Float64Array.from(s.tensors[k]!), v, { ...tol, what: `${what}: ${k} of param ${i}` });
      }
    });
  } finally {
    opt.dispose();
    params.forEach((p) => p.dispose());
    arenas?.forEach((a) => a.dispose());
  }
}

function splitArenas(at: number[], host: Float64Array[], shapes: number[][]): Arena[] {
  const bounds = [0, ...at, shapes.length];
  return bounds.slice(1).map((end, k) => {
    const range = shapes.slice(bounds[k], end).map((shape, j) => ({ shape, data: Float32Array.from(host[bounds[k]! + j]!) }));
    return Arena.upload(range);
  });
}

/** Asserts that every element of `a` outside its views is +0. */
export async function assertPaddingZero(a: Arena, what: string): Promise<void> {
  const all = await a.whole.toArray();
  const inside = new Uint8Array(a.size);
  a.offsets.forEach((o, i) => inside.fill(1, o, o + numel(a.shapes[i]! as number[])));
  all.forEach((x, i) => {
    if (!inside[i] && !Object.is(x, 0)) assert.unreachable(`${what}: padding element ${i} is ${x}`);
  });
}
