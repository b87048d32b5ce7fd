// The public entry to autodiff: evaluate a scalar function and its gradients in one go.
import { GpuError } from '../gpu/device.js';
import { add } from '../ops/elementwise.js';
import { fill } from '../ops/fill.js';
import { tidy } from '../tensor/scope.js';
import { fmtShape, type Tensor } from '../tensor/tensor.js';
import { recordInto, Tape } from './tape.js';

/**
 * Evaluates `fn` (which must return a one-element tensor, e.g. a loss) and its gradient with
 * respect to each tensor of `wrt`. Intermediates and the tape are freed before it returns; the
 * value and the gradients belong to the caller's scope. Tensors not reachable from `wrt` get no
 * gradient work at all.
 */
export function valueAndGrad(fn: () => Tensor, wrt: Tensor[]): { value: Tensor; grads: Tensor[] } {
  const tape = new Tape();
  return tidy(() => {
    try {
      const value = recordInto(tape, wrt, fn);
      if (value.size !== 1) throw new GpuError(`valueAndGrad: fn must return a one-element tensor, got ${value.describe()}`);
      const grads = backward(tape, value);
      return { value, grads: wrt.map((t) => grads.get(t) ?? fill(t.shape, 0)) };
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
