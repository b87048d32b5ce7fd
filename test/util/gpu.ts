// GPU-side test helpers: upload float64 data, read results back as float64, and check gradients
// by finite differences along random directions.
import { valueAndGrad } from '../../src/autograd/grad.js';
import { initGpu } from '../../src/gpu/device.js';
import { recorder } from '../../src/gpu/recorder.js';
import { mul } from '../../src/ops/elementwise.js';
import { tensor } from '../../src/tensor/create.js';
import { tidy } from '../../src/tensor/scope.js';
import type { Tensor } from '../../src/tensor/tensor.js';
import { numel, randArray, rng } from './check.js';
import * as assert from 'uvu/assert';
import { sum } from '../../src/ops/sum.js';

export { initGpu };

export async function read(t: Tensor): Promise<Float64Array> {
  return Float64Array.from(await t.toArray());
}

export interface GradInput {
  shape: number[];
  data: Float64Array;
}

async function lossAt(fn: (xs: Tensor[]) => Tensor, inputs: GradInput[], w: Float64Array): Promise<number> {
  const value = tidy(() => {
    const out = fn(inputs.map((x) => tensor(x.data, x.shape)));
    return sum(mul(out, tensor(w, out.shape)));
  });
  const v = await value.item();
  value.dispose();
  return v;
}

/**
 * Checks the VJPs of `fn` at `inputs`: the analytic directional derivative of sum(w * fn(x)) along
 * random directions must match central differences of the same f32 forward.
 */
export async function gradcheck(
  fn: (xs: Tensor[]) => Tensor,
  inputs: GradInput[],
  { eps = 1e-2, rtol = 2e-2, directions = 3, seed = 7, which }: { eps?: number; rtol?: number; directions?: number; seed?: number; which?: number[] } = {},
): Promise<void> {
  const r = rng(seed);
  const probe = tidy(() => fn(inputs.map((x) => tensor(x.data, x.shape))));
  const outShape = [...probe.shape];
  probe.dispose();
  const w = randArray(r, numel(outShape));
  const active = which ?? inputs.map((_, i) => i);
  const { value, grads } = tidy(() => {
    const xs = inputs.map((x) => tensor(x.data, x.shape));
    return valueAndGrad(() => sum(mul(fn(xs), tensor(w, outShape))), active.map((i) => xs[i]!));
  });
  const g = await Promise.all(grads.map(read));
  value.dispose();
  grads.forEach((t) => t.dispose());
  for (let d = 0; d < directions; d++) {
    const v = active.map((i) => randArray(r, inputs[i]!.data.length));
    const shifted = (sign: number) =>
      inputs.map((x, i) => {
        const k = active.indexOf(i);
        if (k < 0) return x;
        return { shape: x.shape, data: x.data.map((val, j) => val + sign * eps * v[k]![j]!) };
      });
    const fd = ((await lossAt(fn, shifted(1), w)) - (await lossAt(fn, shifted(-1), w))) / (2 * eps);
    let an = 0;
    v.forEach((vk, k) => vk.forEach((vj, j) => (an += vj * g[k]![j]!)));
    const scale = Math.max(Math.abs(fd), Math.abs(an), 1e-3);
    assert.ok(Math.abs(fd - an) <= rtol * scale, `gradcheck direction ${d}: finite difference ${fd} vs analytic ${an}`);
  }
}

/** Dispatches recorded while `fn` runs (inside a scope, so its tensors are freed). */
export function dispatches(fn: () => void): number {
  const before = recorder().snapshot().dispatches;
  tidy(fn);
  return recorder().snapshot().dispatches - before;
}
