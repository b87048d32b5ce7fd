// A Tensor is a handle to a contiguous range of a pooled GPU buffer. Lifetimes are explicit:
// `dispose()` drops the handle (idempotent); the buffer goes back to the pool when the last handle
// on its storage is gone. `ref()` makes a second, independent handle: the autograd tape holds such
// handles so that what a backward pass needs survives a scope disposing the user's tensors.
import { BUFFER_ALIGN } from '../gpu/buffers.js';
import { GpuError } from '../gpu/device.js';
import { recorder, type BufferRange } from '../gpu/recorder.js';
import { keep, track } from './scope.js';

/** Element types. Everything is 4 bytes wide. */
export type DType = 'f32' | 'i32';
export type Shape = readonly number[];
export type HostArray<D extends DType = DType> = D extends 'f32' ? Float32Array : Int32Array;

const BYTES_PER_ELEMENT = 4;
/** Views start at offsets that are multiples of this many elements (BUFFER_ALIGN bytes). */
export const VIEW_ALIGN = BUFFER_ALIGN / BYTES_PER_ELEMENT;

export function numel(shape: Shape): number {
  let n = 1;
  for (const d of shape) n *= d;
  return n;
}

export function fmtShape(shape: Shape): string {
  return `[${shape.join(',')}]`;
}

function checkShape(shape: Shape, what: string): void {
  for (const d of shape) {
    if (!Number.isInteger(d) || d < 0) throw new GpuError(`${what}: invalid shape ${fmtShape(shape)}`);
  }
}

/** A pooled GPU buffer shared by a tensor and its views. */
class Storage {
  refs = 1;
  constructor(readonly buffer: GPUBuffer) {}
  drop(): void {
    if (--this.refs === 0) recorder().pool.release(this.buffer);
  }
}

export class Tensor {
  readonly shape: Shape;
  readonly dtype: DType;
  /** Offset into the storage, in elements. Views only exist at 256-byte aligned offsets. */
  readonly offset: number;
  /** Optional name, shown in errors and profiles. */
  name: string | undefined;
  private storage: Storage;
  private alive = true;

  private constructor(storage: Storage, shape: Shape, dtype: DType, offset: number) {
    this.storage = storage;
    this.shape = Object.freeze([...shape]);
    this.dtype = dtype;
    this.offset = offset;
    track(this);
  }

  /** A new uninitialised tensor from the pool. */
  static empty(shape: Shape, dtype: DType = 'f32', what = 'tensor'): Tensor {
    checkShape(shape, what);
    const bytes = Math.max(numel(shape), 1) * BYTES_PER_ELEMENT;
    return new Tensor(new Storage(recorder().pool.acquire(bytes, `${what} ${fmtShape(shape)}`)), shape, dtype, 0);
  }

  /** A view on the same storage; `offset` in elements, relative to this tensor. */
  view(shape: Shape, offset = 0, dtype: DType = this.dtype): Tensor {
    this.assertAlive('view');
    const abs = this.offset + offset;
    if (offset !== 0 && abs % VIEW_ALIGN !== 0) throw new GpuError(`view: offset ${abs} is not ${BUFFER_ALIGN}-byte aligned`);
    if (offset + numel(shape) > this.size) {
      throw new GpuError(`view: ${fmtShape(shape)} at offset ${offset} does not fit in ${fmtShape(this.shape)}`);
    }
    this.storage.refs++;
    return new Tensor(this.storage, shape, dtype, abs);
  }

  get size(): number {
    return numel(this.shape);
  }

  get rank(): number {
    return this.shape.length;
  }

  get disposed(): boolean {
    return !this.alive;
  }

  /** The buffer range for a kernel binding (never empty: bindings need at least 4 bytes). */
  get range(): BufferRange {
    this.assertAlive('bind');
    return {
      buffer: this.storage.buffer,
      offset: this.offset * BYTES_PER_ELEMENT,
      size: Math.max(this.size, 1) * BYTES_PER_ELEMENT,
    };
  }

  /** True when `other` shares this tensor's storage (then writes to one show in the other). */
  sharesStorage(other: Tensor): boolean {
    return this.storage === other.storage;
  }

  assertAlive(op: string): void {
    // A replay re-runs a captured step's dynamic regions over the step's (disposed) tensors: there
    // they only stand for buffers the plan still owns, and nothing is bound from them.
    if (!this.alive && !recorder().replaying) throw new GpuError(`${op}: tensor ${this.describe()} was used after dispose()`);
  }

  /** A second handle on the same data that no scope tracks; it needs its own `dispose`. */
  ref(): Tensor {
    return keep(this.view(this.shape));
  }

  /** Drops this handle; the storage returns to the pool when no handle refers to it any more. */
  dispose(): void {
    if (!this.alive) return;
    this.alive = false;
    this.storage.drop();
  }

  /** Copies the data to the host (waits for the GPU). */
  // Not async: a read inside a captured step must throw where it is called, not in a promise.
  toArray(): Promise<HostArray> {
    this.assertAlive('toArray');
    return readAll([this]).then((r) => r[0]!);
  }

  /** The single value of a one-element tensor. */
  item(): Promise<number> {
    if (this.size !== 1) return Promise.reject(new GpuError(`item: tensor ${this.describe()} has ${this.size} elements, not 1`));
    return this.toArray().then((a) => a[0]!);
  }

  describe(): string {
    return `${this.name ? this.name + ' ' : ''}${this.dtype}${fmtShape(this.shape)}`;
  }
}

/** The host copy of a tensor, or null where the tensor was null. */
export type HostOf<T> = T extends Tensor ? HostArray : null;

/** Host copies of an array or record of tensors (null entries allowed), in the same shape. */
export type HostGroup<T> = { -readonly [K in keyof T]: HostOf<T[K]> };

/**
 * Copies every tensor of `tensors` (an array or a record; null entries come back as null) to the
 * host in ONE readback: one staging buffer, one submit, one wait for the GPU. Each result is an
 * array of its tensor's dtype. A training step reads everything it reports this way, so the host
 * waits for the GPU once per step.
 */
export function readAll<T extends { [K in keyof T]: Tensor | null }>(tensors: T): Promise<HostGroup<T>> {
  recorder().refuseInCapture('reading tensors back to the host');
  return readAllNow(tensors);
}

async function readAllNow<T extends { [K in keyof T]: Tensor | null }>(tensors: T): Promise<HostGroup<T>> {
  const entries = Object.entries(tensors) as Array<[string, Tensor | null]>;
  const live = entries.filter((e): e is [string, Tensor] => e[1] !== null);
  for (const [k, t] of live) t.assertAlive(`readAll(${k})`);
  const ranges = live.map(([, t]) => ({ ...t.range, size: t.size * BYTES_PER_ELEMENT }));
  const bytes = await recorder().read(ranges, live.map(([, t]) => t.describe()).join(', '));
  const out = (Array.isArray(tensors) ? [] : {}) as Record<string, HostArray | null>;
  let i = 0;
  for (const [k, t] of entries) out[k] = t === null ? null : t.dtype === 'f32' ? new Float32Array(bytes[i++]!) : new Int32Array(bytes[i++]!);
  return out as HostGroup<T>;
}
