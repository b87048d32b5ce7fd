// The finiteness check of a training step: recorded after the update, it counts the non-finite
// values of the step's scalars (the loss), of the gradient of every trained tensor and of every
// trained tensor after the update, in a few fused dispatches (ops/finite.ts). The counts travel in
// the step's one readback; the loop stops the run on the first tensor that is not finite.
import { nonFiniteAt, nonFiniteCounts } from '../ops/finite.js';
import type { Tensor } from '../tensor/tensor.js';

/** A recorded check: the counts to read back with the step, and the name of each checked tensor. */
export interface StepCheck {
  counts: Tensor;
  names: string[];
}

/**
 * Records the check of a step whose update has been recorded: `scalars` by name (null entries are
 * skipped), then `grads[i]` as "gradient of <name i>", then each of `params` as "<name> after the update".
 */
export function recordStepCheck(scalars: Record<string, Tensor | null>, params: ReadonlyMap<string, Tensor>, grads: readonly Tensor[]): StepCheck {
  const checked: Array<[string, Tensor]> = Object.entries(scalars).filter((e): e is [string, Tensor] => e[1] !== null);
  const names = [...params.keys()];
  grads.forEach((g, i) => checked.push([`gradient of ${names[i] ?? `tensor ${i}`}`, g]));
  for (const [name, t] of params) checked.push([`${name} after the update`, t]);
  return { counts: nonFiniteCounts(checked.map(([, t]) => t)), names: checked.map(([n]) => n) };
}

/** The first checked tensor that is not finite, described, or null when all are finite. */
export function firstNonFinite(counts: Int32Array, names: readonly string[]): string | null {
  for (let i = 0; i < names.length; i++) {
    const bad = nonFiniteAt(counts, i, names[i]!);
    if (bad) return bad;
  }
  return null;
}
