// The bridge from tensors to the recorder: every op launches its kernels through here.
import type { Kernel, Overrides } from '../gpu/kernels.js';
import type { Fields, ParamValues } from '../gpu/params.js';
import { recorder } from '../gpu/recorder.js';
import { GpuError } from '../gpu/device.js';
import { fmtShape, type DType, type Tensor } from '../tensor/tensor.js';

export interface Launch<F extends Fields = Fields> {
  inputs: Tensor[];
  outputs: Tensor[];
  /** Values of the kernel's parameter struct, by field name. */
  params: ParamValues<F>;
  overrides?: Overrides;
  workgroups: readonly [number, number?, number?];
  /** Op description with shapes, for errors and profiles. */
  label: string;
}

/** Records one dispatch of `kernel` over the given tensors. */
export function launch<F extends Fields>(kernel: Kernel<F>, l: Launch<F>): void {
  recorder().dispatch({
    kernel,
    params: kernel.params.pack(l.params, kernel.name),
    inputs: l.inputs.map((t) => t.range),
    outputs: l.outputs.map((t) => t.range),
    workgroups: l.workgroups,
    label: l.label,
    ...(l.overrides ? { overrides: l.overrides } : {}),
  });
}

/** `op(a, b)` with shapes, for labels: `add f32[2,3] f32[3]`. */
export function describeOp(op: string, ...ts: Tensor[]): string {
  return `${op} ${ts.map((t) => t.describe()).join(' ')}`;
}

/** Throws unless every tensor has dtype `dtype`. */
export function expectDType(op: string, dtype: DType, ...ts: Tensor[]): void {
  for (const t of ts) {
    t.assertAlive(op);
    if (t.dtype !== dtype) throw new GpuError(`${op}: expected ${dtype}, got ${t.describe()}`);
  }
}

/** Throws unless `t` has exactly `shape`. */
export function expectShape(op: string, t: Tensor, shape: readonly number[], what = 'input'): void {
  if (t.shape.length !== shape.length || t.shape.some((d, i) => d !== shape[i])) {
    throw new GpuError(`${op}: ${what} has shape ${fmtShape(t.shape)}, expected ${fmtShape(shape)}`);
  }
}

/** Normalises a possibly negative axis and checks it. */
export function axisOf(op: string, rank: number, axis: number): number {
  const a = axis < 0 ? axis + rank : axis;
  if (!Number.isInteger(a) || a < 0 || a >= rank) throw new GpuError(`${op}: axis ${axis} out of range for rank ${rank}`);
  return a;
}
