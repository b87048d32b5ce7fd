// The kernels of shaders/optim.wgsl and the parameter structs they read. One module holds every
// optimizer's entry points, so each kernel declares all of the file's structs.
import code from '../../shaders/optim.wgsl';
import type { Kernel } from '../gpu/kernels.js';
import { uniformStruct, type Fields, type UniformStruct } from '../gpu/params.js';

/** SGD: `first` is 1 on the first step (the momentum buffer starts as the gradient). */
export const SGD_PARAMS = uniformStruct('SgdParams', {
  n: 'u32', first: 'u32', lr: 'f32', weight_decay: 'f32', momentum: 'f32', one_minus_dampening: 'f32',
});
/** AdamW with the bias corrections folded in: decay = 1 - lr·wd, step_size = lr / (1 - beta1^t), bc2_sqrt = sqrt(1 - beta2^t). */
export const ADAM_PARAMS = uniformStruct('AdamParams', {
  n: 'u32', decay: 'f32', beta1: 'f32', one_minus_beta1: 'f32', beta2: 'f32', one_minus_beta2: 'f32',
  eps: 'f32', step_size: 'f32', bc2_sqrt: 'f32',
});
/**
 * Adafactor's second-moment statistics: `rows` is B·R (factored) or the element count (vectors);
 * `span` the rows summed per column sum.
 */
export const STAT_PARAMS = uniformStruct('StatParams', {
  rows: 'u32', r: 'u32', c: 'u32', beta2t: 'f32', one_minus_beta2t: 'f32', eps1: 'f32', span: 'u32',
});
/**
 * Adafactor's per-step scalars: `groups` is B (factored) or 1, `per` the partial sums per group
 * (R, or the number of vector workgroups); `rel_step` the external lr or the relative step size.
 */
export const SCALAR_PARAMS = uniformStruct('ScalarParams', {
  groups: 'u32', per: 'u32', numel: 'u32', rel_step: 'f32', eps2: 'f32', clip: 'f32',
});
/** Adafactor's update of the parameter (and its momentum). */
export const APPLY_PARAMS = uniformStruct('ApplyParams', {
  n: 'u32', r: 'u32', c: 'u32', weight_decay: 'f32', beta1: 'f32', one_minus_beta1: 'f32',
});

/**
 * Adafactor over an arena group: `count` workgroups listed in the plan buffer from `map_base`
 * (entries, for the scalar pass); the group's per-step values as in the structs above.
 */
export const GROUP_PARAMS = uniformStruct('GroupParams', {
  count: 'u32', map_base: 'u32', span: 'u32', beta2t: 'f32', one_minus_beta2t: 'f32', eps1: 'f32',
  rel_step: 'f32', eps2: 'f32', clip: 'f32', weight_decay: 'f32', beta1: 'f32', one_minus_beta1: 'f32',
});

const STRUCTS = [SGD_PARAMS, ADAM_PARAMS, STAT_PARAMS, SCALAR_PARAMS, APPLY_PARAMS, GROUP_PARAMS];

/** The optim.wgsl entry point `entry`, named `optim.<entry>`. */
export function optimKernel<F extends Fields>(entry: string, params: UniformStruct<F>, inputs: number, outputs: number): Kernel<F> {
  return { name: `optim.${entry}`, code, entry, params, structs: STRUCTS, inputs, outputs };
}
