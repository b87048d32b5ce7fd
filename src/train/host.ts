// Moving parameters between the GPU and the host (checkpoints, adapters, best-so-far copies), and
// freeing the tensors of a step that outlived its scope.
import type { HostTensor } from '../io/dtype.js';
import { tensor, write } from '../tensor/create.js';
import { keep } from '../tensor/scope.js';
import { readAll, Tensor } from '../tensor/tensor.js';

/** A host copy of a tensor. */
export async function toHost(t: Tensor): Promise<HostTensor<Float32Array>> {
  return { data: (await t.toArray()) as Float32Array, shape: [...t.shape] };
}

/** Host copies of named f32 tensors, in one readback. */
export async function namedToHost(named: ReadonlyMap<string, Tensor>): Promise<Map<string, HostTensor<Float32Array>>> {
  const tensors = [...named.values()];
  const data = await readAll(tensors);
  return new Map([...named.keys()].map((k, i) => [k, { data: data[i] as Float32Array, shape: [...tensors[i]!.shape] }]));
}

/** A kept (scope-free) f32 tensor from host data; the caller disposes it. */
export function upload(m: HostTensor<Float32Array>): Tensor {
  return keep(tensor(m.data, m.shape));
}

/** Overwrites each named tensor from `saved` (same names and shapes), e.g. from a checkpoint. */
export function restoreNamed(named: ReadonlyMap<string, Tensor>, saved: ReadonlyMap<string, HostTensor<Float32Array>>, where: string): void {
  for (const [k, t] of named) {
    const m = saved.get(k);
    if (!m) throw new Error(`${where}: tensor '${k}' is missing`);
    if (m.data.length !== t.size || m.shape.length !== t.rank || m.shape.some((d, i) => d !== t.shape[i])) {
      throw new Error(`${where}: tensor '${k}' is [${m.shape.join(', ')}], expected [${t.shape.join(', ')}]`);
    }
  }
  for (const [k, t] of named) write(t, saved.get(k)!.data);
}

/** Disposes every tensor reachable from `value` (tensors, arrays, plain objects). */
export function disposeAll(value: unknown): void {
  if (value instanceof Tensor) value.dispose();
  else if (Array.isArray(value)) value.forEach(disposeAll);
  else if (value !== null && typeof value === 'object' && Object.getPrototypeOf(value) === Object.prototype) {
    Object.values(value).forEach(disposeAll);
  }
}
