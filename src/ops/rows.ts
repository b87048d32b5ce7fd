// Row kernels (softmax, rmsnorm, cross-entropy): shaders/rows.wgsl's machinery in front of the
// family's source, and the launcher that picks how many invocations work on one row from the row
// length.
import rowsWgsl from '../../shaders/rows.wgsl';
import { gpu, GpuError } from '../gpu/device.js';
import { grid, type Kernel, type Overrides } from '../gpu/kernels.js';
import type { Fields, ParamValues, UniformStruct } from '../gpu/params.js';
import type { Tensor } from '../tensor/tensor.js';
import { launch } from './launch.js';

const WG = 256;
/**
 * Elements of a row per lane, at most (rows longer than WG times this give every lane more).
 * On GPUs a few per lane keeps many lanes busy on a row, with coalesced loads. On software adapters (lavapipe) every barrier is a
 * coroutine switch of the whole workgroup and workgroup memory is slow, so few lanes per row win:
 * softmax forward over [8192,128] took 6 ms with 4 lanes per row and 190 ms with 256, over
 * [2048,2048] 17 ms with 4 lanes and 98 ms with 256 (lavapipe, 2 cores, best of 7).
 */
const PER_LANE_GPU = 8;
const PER_LANE_SOFTWARE = 512;
let perLaneOverride: number | null = null;

/**
 * The kernel factory of a row family: `<family>.<name>` runs entry point `<entryPrefix><name>` of
 * rows.wgsl followed by `source` (WGSL has no includes), reading `params`, which rows.wgsl needs to
 * have a `rows` field.
 */
export function rowKernels<F extends Fields & { readonly rows: 'u32' }>(family: string, entryPrefix: string, source: string, params: UniformStruct<F>) {
  const code = rowsWgsl + source;
  return (name: string, inputs: number, outputs: number): Kernel<F> => ({
    name: `${family}.${name}`, code, entry: `${entryPrefix}${name}`, params, inputs, outputs,
  });
}

/** Sets the elements per lane that row kernels aim for (a tuner's or a test's choice); null restores the adapter default. */
export function setRowElementsPerLane(k: number | null): void {
  if (k !== null && !(Number.isInteger(k) && k >= 1)) throw new GpuError(`setRowElementsPerLane: expected a positive integer, got ${k}`);
  perLaneOverride = k;
}

/** A row kernel's launch: the tensors, its parameters and overrides (LANES and WG are added). */
export interface RowLaunch<F extends Fields> {
  rows: number;
  /** Row length: decides how many lanes share a row. */
  n: number;
  inputs: Tensor[];
  outputs: Tensor[];
  params: ParamValues<F>;
  overrides?: Overrides;
  label: string;
}

/**
 * Launches a kernel that gives each row `LANES` invocations (a power of two up to WG): a whole
 * workgroup for long rows, a few lanes (several rows per workgroup) for short ones, one lane per
 * row for the shortest: the fewest lanes that give each at most the adapter's elements per lane.
 * The kernel reads LANES and WG as overrides, and rows.wgsl reads its parameters' `rows` field.
 */
export function launchRows<F extends Fields & { readonly rows: 'u32' }>(kernel: Kernel<F>, l: RowLaunch<F>): void {
  const perLane = perLaneOverride ?? (gpu().report.isSoftware ? PER_LANE_SOFTWARE : PER_LANE_GPU);
  let lanes = 1;
  while (lanes < WG && lanes * perLane < l.n) lanes *= 2;
  launch(kernel, {
    inputs: l.inputs,
    outputs: l.outputs,
    params: l.params,
    overrides: { ...l.overrides, LANES: lanes, WG },
    workgroups: grid(Math.ceil(l.rows / (WG / lanes))),
    label: l.label,
  });
}
