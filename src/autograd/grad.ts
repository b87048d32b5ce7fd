// The public entry to autodiff: evaluate a scalar function and its gradients in one go.
import { GpuError } from '../gpu/device.js';
import { add } from '../ops/elementwise.js';
import { fill } from '../ops/fill.js';
import { tidy } from '../tensor/scope.js';
import { fmtShape, Tensor } from '../tensor/tensor.js';
import { recordInto, Tape } from './tape.js';

/** Extra outputs of a function given to `valueAndGrad`, by name (null where a caller has none). */
export type Aux = { [name: string]: Tensor | null };

/** What `valueAndGrad` returns: the value and one gradient per `wrt` tensor, in `wrt` order. */
export interface ValueAndGrad {
  value: Tensor;
  grads: Tensor[];
}

/**
 * Evaluates `fn` (which must return a one-element tensor, e.g. a loss) and its gradient with
 * respect to each tensor of `wrt`. Intermediates and the tape are freed before it returns; the
 * value and the gradients belong to the caller's scope. Tensors not reachable from `wrt` get no
 * gradient work at all.
 *
 * `fn` may instead return `{ value, aux }`: `aux` names extra outputs of the same forward pass
 * (per-row losses, logits, a term of the objective). They come back as `aux` with the same names,
 * each a new handle in the caller's scope (even where it is the value or a `wrt` tensor), and
 * cost no gradient work: backward starts from the value alone.
 */
export function valueAndGrad(fn: () => Tensor, wrt: Tensor[]): ValueAndGrad;
export function valueAndGrad<A extends Aux>(fn: () => { value: Tensor; aux: A }, wrt: Tensor[]): ValueAndGrad & { aux: A };
export function valueAndGrad(fn: () => Tensor | { value: Tensor; aux: Aux }, wrt: Tensor[]): ValueAndGrad & { aux?: Aux } {
  const tape = new Tape();
  return tidy(() => {
    try {
      const out = recordInto(tape, wrt, fn);
      const value = out instanceof Tensor ? out : out.value;
      if (value.size !== 1) throw new GpuError(`valueAndGrad: fn must return a one-element tensor, got ${value.describe()}`);
      const grads = backward(tape, value);
      const result = { value, grads: wrt.map((t) => grads.get(t) ?? fill(t.shape, 0)) };
      if (out instanceof Tensor) return result;
      const aux = Object.fromEntries(Object.entries(out.aux).map(([k, t]) => [k, t && t.view(t.shape)]));
      return { ...result, aux };
    } finally {
      tape.release();
    }
  });
}

/** Walks the tape backwards from `value`, returning the accumulated gradient of every tensor reached. */
function backward(tape: Tape, value: Tensor): Map<Tensor, Tensor> {
  const grads = new Map<Tensor, Tensor>([[value, fill(value.shape, 1)]]);
  for (let i = tape.nodes.length - 1; i >= 0; i--) {
    const node = tape.nodes[i]!;
    const g = grads.get(node.output);
    if (!g) continue;
    grads.delete(node.output);
    const inputGrads = tidy(() => node.vjp(g, { saved: node.saved, needs: node.needs }));
    if (inputGrads.length !== node.inputs.length) {
      throw new GpuError(`backward of ${node.op}: ${inputGrads.length} gradients for ${node.inputs.length} inputs`);
    }
    const seen = new Set<Tensor>([g]);
    node.inputs.forEach((input, k) => {
      let gi = inputGrads[k];
      if (!gi || !node.needs[k]) return;
      // A VJP may pass its output gradient straight through, or return one tensor for two inputs:
      // give each use its own handle so disposing one never frees another.
      if (seen.has(gi)) gi = gi.view(gi.shape);
      seen.add(gi);
      if (gi.shape.length !== input.shape.length || gi.shape.some((d, j) => d !== input.shape[j])) {
        throw new GpuError(`backward of ${node.op}: gradient ${fmtShape(gi.shape)} for input ${input.describe()}`);
      }
      const prev = grads.get(input);
      if (prev) {
        grads.set(input, add(prev, gi));
        prev.dispose();
        gi.dispose();
      } else grads.set(input, gi);
    });
    g.dispose();
    for (const s of node.saved) s.dispose();
    node.saved = [];
  }
  return grads;
}
