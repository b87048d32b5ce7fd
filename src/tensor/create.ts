// Tensors from host data.
import { gpu, GpuError } from '../gpu/device.js';
import { recorder } from '../gpu/recorder.js';
import { fmtShape, numel, Tensor, type DType, type Shape } from './tensor.js';

/** Host data accepted by `tensor`: typed arrays are uploaded as they are, number arrays converted. */
export type HostData = Float32Array | Float64Array | Int32Array | Uint32Array | readonly number[];

/**
 * Uploads host data as a new tensor. The dtype defaults to i32 for Int32Array and f32 otherwise.
 * Throws when the data length disagrees with the shape, or when i32 data is not integral.
 */
export function tensor(data: HostData, shape?: Shape, dtype?: DType): Tensor {
  const dt: DType = dtype ?? (data instanceof Int32Array ? 'i32' : 'f32');
  const sh = shape ?? [data.length];
  if (numel(sh) !== data.length) {
    throw new GpuError(`tensor: ${data.length} values do not fill shape ${fmtShape(sh)} (${numel(sh)} elements)`);
  }
  let host: Float32Array | Int32Array;
  if (dt === 'f32') host = data instanceof Float32Array ? data : Float32Array.from(data);
  else {
    if (!(data instanceof Int32Array)) {
      for (let i = 0; i < data.length; i++) {
        const v = data[i]!;
        if (!Number.isInteger(v) || v < -2147483648 || v > 2147483647) throw new GpuError(`tensor: i32 value ${v} at [${i}] is not a 32-bit integer`);
      }
    }
    host = data instanceof Int32Array ? data : Int32Array.from(data);
  }
  recorder().refuseInCapture('tensor(data), an upload of host data,');
  const t = Tensor.empty(sh, dt, 'tensor');
  if (host.length > 0) gpu().device.queue.writeBuffer(t.range.buffer, t.range.offset, host.buffer, host.byteOffset, host.byteLength);
  return t;
}

/**
 * Overwrites a tensor's contents from the host (same element count). Work recorded so far is
 * submitted first, because the upload runs at once and must not overtake dispatches that read `t`.
 */
export function write(t: Tensor, data: Float32Array | Int32Array): void {
  if (data.length !== t.size) throw new GpuError(`write: ${data.length} values for ${t.describe()}`);
  if ((data instanceof Int32Array) !== (t.dtype === 'i32')) throw new GpuError(`write: ${data.constructor.name} into ${t.describe()}`);
  recorder().refuseInCapture(`write(${t.describe()}), an upload of host data,`);
  recorder().submit();
  gpu().device.queue.writeBuffer(t.range.buffer, t.range.offset, data.buffer, data.byteOffset, data.byteLength);
}
