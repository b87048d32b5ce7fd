// The public entry to autodiff: evaluate a scalar function and its gradients in one go.
import { GpuError } from '../gpu/device.js';
import { recorder } from '../gpu/recorder.js';
import { add } from '../ops/elementwise.js';
import { fill } from '../ops/fill.js';
import { tidy } from '../tensor/scope.js';
import { fmtShape, Tensor } from '../tensor/tensor.js';
import { recordInto, Tape } from './tape.js';

/** Extra outputs of a function given to `valueAndGrad`, by name (null where a caller has none). */
export type Aux = { [name: string]: Tensor | null };

/** Options of `valueAndGrad`. */
export interface GradOptions {
  /**
   * Per `wrt` tensor, a tensor of its shape for its gradient to land in (null: a new tensor), e.g.
   * the views of a gradient arena (Optimizer.gradTargets). A VJP that knows how writes there
   * directly; otherwise the finished gradient is copied there once (a buffer copy, no dispatch).
   * The returned gradient is then a handle on the destination. The values are the same to the bit.
   */
  into?: ReadonlyArray<Tensor | null>;
}

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
export function valueAndGrad(fn: () => Tensor, wrt: Tensor[], options?: GradOptions): ValueAndGrad;
export function valueAndGrad<A extends Aux>(fn: () => { value: Tensor; aux: A }, wrt: Tensor[], options?: GradOptions): ValueAndGrad & { aux: A };
export function valueAndGrad(fn: () => Tensor | { value: Tensor; aux: Aux }, wrt: Tensor[], options: GradOptions = {}): ValueAndGrad & { aux?: Aux } {
  const dests = destinations(wrt, options.into);
  const tape = new Tape();
  return tidy(() => {
    try {
      const out = recordInto(tape, wrt, fn);
      const value = out instanceof Tensor ? out : out.value;
      if (value.size !== 1) throw new GpuError(`valueAndGrad: fn must return a one-element tensor, got ${value.describe()}`);
      const { grads, written } = backward(tape, value, dests);
      const result = { value, grads: wrt.map((t) => land(t, grads.get(t), dests.get(t), written.has(t))) };
      if (out instanceof Tensor) return result;
      const aux = Object.fromEntries(Object.entries(out.aux).map(([k, t]) => [k, t && t.view(t.shape)]));
      return { ...result, aux };
    } finally {
      tape.release();
    }
  });
}

const sameShape = (a: Tensor, b: Tensor) => a.rank === b.rank && a.shape.every((d, i) => d === b.shape[i]);

/** `into` checked against `wrt`, as a map from each wrt tensor to its destination. */
function destinations(wrt: readonly Tensor[], into: ReadonlyArray<Tensor | null> | undefined): Map<Tensor, Tensor> {
  const out = new Map<Tensor, Tensor>();
  if (!into) return out;
  if (into.length !== wrt.length) throw new GpuError(`valueAndGrad: ${into.length} destinations (into) for ${wrt.length} wrt tensors`);
  into.forEach((d, i) => {
    if (!d) return;
    const t = wrt[i]!;
    d.assertAlive('valueAndGrad(into)');
    if (d.dtype !== 'f32' || !sameShape(d, t)) throw new GpuError(`valueAndGrad: destination ${i} is ${d.describe()}, wrt tensor ${i} is ${t.describe()}`);
    const clash = [...out.values(), ...wrt].find((o) => o.sharesStorage(d) && o.offset === d.offset && o.size > 0);
    if (clash) throw new GpuError(`valueAndGrad: destination ${i} (${d.describe()}) is the same memory as ${out.has(clash) || wrt.includes(clash) ? 'a wrt tensor or ' : ''}another destination`);
    if (out.has(t)) throw new GpuError(`valueAndGrad: wrt tensor ${i} (${t.describe()}) appears twice with destinations`);
    out.set(t, d);
  });
  return out;
}

/** The gradient of `t` as returned: in its destination (copied there unless a VJP wrote it) or as it is. */
function land(t: Tensor, g: Tensor | undefined, dest: Tensor | undefined, written: boolean): Tensor {
  if (!dest) return g ?? fill(t.shape, 0);
  if (!written) {
    const src = g ?? fill(t.shape, 0);
    if (t.size > 0) recorder().copy(src.range, dest.range, `gradient of ${t.describe()} -> its destination`);
    src.dispose();
  }
  return dest.view(dest.shape);
}

/**
 * Walks the tape backwards from `value`. Returns the accumulated gradient of every tensor reached,
 * except where a VJP wrote it into its destination (`written`; that tensor's entry in `grads` is
 * then absent).
 */
function backward(tape: Tape, value: Tensor, dests: ReadonlyMap<Tensor, Tensor>): { grads: Map<Tensor, Tensor>; written: Set<Tensor> } {
  const grads = new Map<Tensor, Tensor>([[value, fill(value.shape, 1)]]);
  const written = new Set<Tensor>();
  for (let i = tape.nodes.length - 1; i >= 0; i--) {
    const node = tape.nodes[i]!;
    const g = grads.get(node.output);
    if (!g) continue;
    grads.delete(node.output);
    // A destination goes to an input's first place in this node, and only while no gradient of it
    // is pending outside the destination.
    const dest = node.inputs.map((t, k) => (node.needs[k] && node.inputs.indexOf(t) === k && !grads.has(t) ? (dests.get(t) ?? null) : null));
    const accumulate = node.inputs.map((t, k) => dest[k] !== null && written.has(t));
    const inputGrads = tidy(() => node.vjp(g, { saved: node.saved, needs: node.needs, dest, accumulate }));
    if (inputGrads.length !== node.inputs.length) {
      throw new GpuError(`backward of ${node.op}: ${inputGrads.length} gradients for ${node.inputs.length} inputs`);
    }
    const seen = new Set<Tensor>([g]);
    node.inputs.forEach((input, k) => {
      let gi = inputGrads[k];
      if (!gi || !node.needs[k]) return;
      if (gi === dest[k]) {
        written.add(input);
        return;
      }
      // A VJP may pass its output gradient straight through, or return one tensor for two inputs:
      // give each use its own handle so disposing one never frees another.
      if (seen.has(gi)) gi = gi.view(gi.shape);
      seen.add(gi);
      if (gi.shape.length !== input.shape.length || gi.shape.some((d, j) => d !== input.shape[j])) {
        throw new GpuError(`backward of ${node.op}: gradient ${fmtShape(gi.shape)} for input ${input.describe()}`);
      }
      const prev = grads.get(input) ?? (written.has(input) ? dests.get(input)! : undefined);
      if (prev) {
        grads.set(input, add(prev, gi));
        // The destination's contribution is in the sum now; the sum is copied back at the end.
        if (!written.delete(input)) prev.dispose();
        gi.dispose();
      } else grads.set(input, gi);
    });
    g.dispose();
    for (const s of node.saved) s.dispose();
    node.saved = [];
  }
  return { grads, written };
}
