// Reverse-mode autodiff on a tape that exists only inside `valueAndGrad`. Outside it nothing is
// recorded, so inference and frozen weights cost nothing extra. Inside it an op records a node only
// when one of its inputs needs a gradient (a `wrt` tensor or an output of a recorded node); the
// vector-Jacobian product is told which inputs need one, so a frozen weight gets no weight-gradient
// matmul. Nodes are appended in execution order, which is a topological order: backward walks the
// tape in reverse.
import { GpuError } from '../gpu/device.js';
import type { Tensor } from '../tensor/tensor.js';

/** What a vector-Jacobian product receives besides the output gradient. */
export interface VjpContext {
  /** Handles on the tensors the op asked to save, in the order it gave them. */
  saved: Tensor[];
  /** Which inputs need a gradient; return null for the others. */
  needs: boolean[];
  /**
   * Per input, where its gradient is to land (valueAndGrad's `into`), or null. A VJP may write
   * the gradient there and return that very tensor; any other tensor it returns is copied there
   * (or added to what is there) by valueAndGrad.
   */
  dest: Array<Tensor | null>;
  /** Per input: its destination already holds an earlier contribution, so a VJP writing there must add to it. */
  accumulate: boolean[];
}

/** Gradients for the op's inputs (null where not needed), given the gradient of its output. */
export type Vjp = (grad: Tensor, ctx: VjpContext) => Array<Tensor | null>;

export interface Node {
  op: string;
  inputs: Tensor[];
  output: Tensor;
  needs: boolean[];
  saved: Tensor[];
  vjp: Vjp;
}

/** The nodes recorded while one `valueAndGrad` ran, in execution order. */
export class Tape {
  readonly nodes: Node[] = [];
  readonly tracked = new Set<Tensor>();

  release(): void {
    for (const n of this.nodes) for (const s of n.saved) s.dispose();
    this.nodes.length = 0;
    this.tracked.clear();
  }
}

let active: Tape | null = null;

/** Makes `tape` the recording tape while `fn` runs; `wrt` are the leaves that need gradients. */
export function recordInto<T>(tape: Tape, wrt: Tensor[], fn: () => T): T {
  if (active) throw new GpuError('valueAndGrad: nested gradient tapes are not supported');
  for (const t of wrt) tape.tracked.add(t);
  active = tape;
  try {
    return fn();
  } finally {
    active = null;
  }
}

/** True when the current op's output should be recorded (some input needs a gradient). */
export function needsGrad(...inputs: Tensor[]): boolean {
  return active !== null && inputs.some((t) => active!.tracked.has(t));
}

/**
 * Records `output = op(inputs)` on the active tape if any input needs a gradient. `save` lists
 * the tensors the VJP reads (they are kept alive until backward is done). Returns `output`.
 */
export function record(op: string, inputs: Tensor[], output: Tensor, vjp: Vjp, save: Tensor[] = []): Tensor {
  const tape = active;
  if (!tape) return output;
  const needs = inputs.map((t) => tape.tracked.has(t));
  if (!needs.some(Boolean)) return output;
  tape.nodes.push({ op, inputs, output, needs, saved: save.map((t) => t.ref()), vjp });
  tape.tracked.add(output);
  return output;
}

/** Runs `fn` with recording off (backward passes, evaluation, optimizer updates). */
export function noGrad<T>(fn: () => T): T {
  const saved = active;
  active = null;
  try {
    return fn();
  } finally {
    active = saved;
  }
}

