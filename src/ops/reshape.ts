// reshape: the same data under a new shape, a view (no copy).
import { record } from '../autograd/tape.js';
import { GpuError } from '../gpu/device.js';
import { fmtShape, numel, type Shape, type Tensor } from '../tensor/tensor.js';

/** Same data, new shape (a view: no copy). */
export function reshape(x: Tensor, shape: Shape): Tensor {
  const resolved = [...shape];
  const infer = resolved.indexOf(-1);
  if (infer >= 0) resolved[infer] = x.size / numel(resolved.filter((_, i) => i !== infer));
  if (numel(resolved) !== x.size || resolved.some((d) => !Number.isInteger(d) || d < 0)) {
    throw new GpuError(`reshape: cannot view ${x.describe()} as ${fmtShape(shape)}`);
  }
  const out = x.view(resolved);
  return record('reshape', [x], out, (g) => [reshape(g, x.shape)]);
}
