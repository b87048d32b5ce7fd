// The kernels of shaders/rbf_svgd.wgsl and the parameter structs they read. One module holds the
// kernel matrix, SVGD and RMSProp entry points, so each kernel declares all of the file's structs.
import code from '../../shaders/rbf_svgd.wgsl';
import type { Kernel } from '../gpu/kernels.js';
import { uniformStruct, type Fields, type UniformStruct } from '../gpu/params.js';

/** Pairwise squared distances of D-dimensional particles, summed in `chunks` chunks of D. */
export const DIST_PARAMS = uniformStruct('DistParams', { d: 'u32', chunks: 'u32' });
/** The median heuristic's 1 / (2 log(M + 1)), or a fixed bandwidth (0: use the median). */
export const BAND_PARAMS = uniformStruct('BandParams', { chunks: 'u32', half_inv_log: 'f32', fixed_h: 'f32' });
/** svgd_phi and svgd_stats: the particle dimension. */
export const COL_PARAMS = uniformStruct('ColParams', { d: 'u32' });
/** stats_finish: the number of partial sums per statistic. */
export const FINISH_PARAMS = uniformStruct('FinishParams', { groups: 'u32' });
/** The SVGD code's RMSProp: `first` is 1 on the first step (the history starts as phi^2). */
export const RMS_PARAMS = uniformStruct('RmsParams', { n: 'u32', first: 'u32', step: 'f32', alpha: 'f32', fudge: 'f32' });

const STRUCTS = [DIST_PARAMS, BAND_PARAMS, COL_PARAMS, FINISH_PARAMS, RMS_PARAMS];

/** The rbf_svgd.wgsl entry point `entry`, named `rbf_svgd.<name>`. */
export function svgdKernel<F extends Fields>(name: string, entry: string, params: UniformStruct<F>, inputs: number, outputs: number): Kernel<F> {
  return { name: `rbf_svgd.${name}`, code, entry, params, structs: STRUCTS, inputs, outputs };
}
