// NumPy broadcasting's shape arithmetic, shared by the ops that broadcast their inputs
// (elementwise binaries, where, expand, softmax's mask).
import { GpuError } from '../gpu/device.js';
import { fmtShape, type Shape } from '../tensor/tensor.js';

/** The NumPy broadcast of two shapes, or an error naming both. */
export function broadcastShapes(op: string, a: Shape, b: Shape): number[] {
  const rank = Math.max(a.length, b.length);
  const out: number[] = [];
  for (let i = 0; i < rank; i++) {
    const da = a[a.length - rank + i] ?? 1;
    const db = b[b.length - rank + i] ?? 1;
    if (da !== db && da !== 1 && db !== 1) throw new GpuError(`${op}: shapes ${fmtShape(a)} and ${fmtShape(b)} are not broadcastable`);
    out.push(da === 1 ? db : da);
  }
  return out;
}

/** Strides of `shape` (right-aligned in `rank` axes) with 0 on axes that broadcast. */
export function broadcastStrides(shape: Shape, out: Shape): number[] {
  const rank = out.length;
  const strides = new Array<number>(rank).fill(0);
  let s = 1;
  for (let i = shape.length - 1; i >= 0; i--) {
    const axis = rank - shape.length + i;
    strides[axis] = shape[i] === 1 && out[axis] !== 1 ? 0 : s;
    s *= shape[i]!;
  }
  return strides;
}
