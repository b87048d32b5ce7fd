// Finiteness check on the GPU: how many NaN and how many infinite values each of a list of f32
// tensors holds, counted in ceil(n / 7) dispatches (7 tensors per dispatch) into one small i32
// tensor, so a training step can read the counts back with its loss in the same readback.
import code from '../../shaders/finite.wgsl';
import { GpuError } from '../gpu/device.js';
import { grid, type Kernel } from '../gpu/kernels.js';
import { uniformStruct } from '../gpu/params.js';
import { Tensor } from '../tensor/tensor.js';
import { fill } from './fill.js';
import { expectDType, launch } from './launch.js';

/** Tensors per dispatch: 7 read-only bindings and the counts fill the 8 storage bindings every device has. */
const PER_DISPATCH = 7;
const WG = 256;
const ITEMS = 16;
/** start: first workgroup of each tensor (start[7] = the total); size: elements of each tensor. */
const FINITE_PARAMS = uniformStruct('Params', { start: ['vec4<u32>', 2], size: ['vec4<u32>', 2], slot: 'u32' });
const FINITE: Kernel<typeof FINITE_PARAMS.spec> = { name: 'finite', code, params: FINITE_PARAMS, inputs: PER_DISPATCH, outputs: 1 };

/**
 * Counts the non-finite values of each tensor: an i32 tensor [n, 2] whose row i holds the number
 * of NaN and the number of +-Infinity values of `tensors[i]`. Not differentiable.
 */
export function nonFiniteCounts(tensors: readonly Tensor[]): Tensor {
  if (tensors.length === 0) throw new GpuError('nonFiniteCounts: no tensors to check');
  expectDType('nonFiniteCounts', 'f32', ...tensors);
  const counts = fill([tensors.length, 2], 0, 'i32');
  for (let slot = 0; slot < tensors.length; slot += PER_DISPATCH) {
    const group = tensors.slice(slot, slot + PER_DISPATCH);
    const start: number[] = [0];
    for (const t of group) start.push(start[start.length - 1]! + Math.ceil(t.size / (WG * ITEMS)));
    while (start.length < PER_DISPATCH + 1) start.push(start[start.length - 1]!);
    const inputs = Array.from({ length: PER_DISPATCH }, (_, k) => group[k] ?? group[0]!);
    launch(FINITE, {
      inputs,
      outputs: [counts],
      params: { start, size: group.map((t) => t.size), slot },
      overrides: { WG, ITEMS },
      workgroups: grid(start[PER_DISPATCH]!),
      label: `finite ${group.length} tensors`,
    });
  }
  return counts;
}

/** What `counts` (from nonFiniteCounts) says about the tensor named `name` at row `i`, or null when it is finite. */
export function nonFiniteAt(counts: Int32Array, i: number, name: string): string | null {
  const nan = counts[2 * i]!, inf = counts[2 * i + 1]!;
  if (nan === 0 && inf === 0) return null;
  const parts = [nan ? `${nan} NaN` : '', inf ? `${inf} infinite` : ''].filter(Boolean);
  return `${name} has ${parts.join(' and ')} value${nan + inf === 1 ? '' : 's'}`;
}
