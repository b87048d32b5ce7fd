// Constant tensors, made on the GPU (no host upload).
import fillWgsl from '../../shaders/fill.wgsl';
import { grid } from '../gpu/kernels.js';
import { uniformStruct } from '../gpu/params.js';
import { Tensor, type DType, type Shape } from '../tensor/tensor.js';
import { launch } from './launch.js';

/** `bits`: the value's 32 bits, written as they are to f32 and i32 tensors alike. */
const FILL_PARAMS = uniformStruct('Params', { n: 'u32', bits: 'u32' });
const FILL = { name: 'fill', code: fillWgsl, params: FILL_PARAMS, inputs: 0, outputs: 1 };
const bits = new DataView(new ArrayBuffer(4));

/** A tensor of `shape` whose every element is `value`. */
export function fill(shape: Shape, value: number, dtype: DType = 'f32'): Tensor {
  const out = Tensor.empty(shape, dtype, 'fill');
  if (dtype === 'f32') bits.setFloat32(0, value, true);
  else bits.setInt32(0, value, true);
  launch(FILL, {
    inputs: [],
    outputs: [out],
    params: { n: out.size, bits: bits.getUint32(0, true) },
    workgroups: grid(Math.ceil(out.size / 256)),
    label: `fill ${out.describe()}`,
  });
  return out;
}

export const zeros = (shape: Shape, dtype: DType = 'f32'): Tensor => fill(shape, 0, dtype);
export const ones = (shape: Shape, dtype: DType = 'f32'): Tensor => fill(shape, 1, dtype);
