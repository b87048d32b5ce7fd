// A captured step: every dispatch and copy the recorder saw between `beginCapture` and
// `endCapture`, with its pipeline, a bind group made once over a uniform buffer the plan owns, and
// the buffers it touched. Replaying it encodes only setPipeline / setBindGroup / dispatch (CUDA
// graphs, tinygrad's TinyJit). Parameters that change per step come from the capture's dynamic
// regions: host code (an optimizer's step count, a dropout seed) that the replay runs again and
// whose dispatches are re-packed into their slots, each launch checked against the captured one.
import { BUFFER_ALIGN } from './buffers.js';
import { gpu, GpuError } from './device.js';
import type { Kernel } from './kernels.js';
import type { BufferRange } from './recorder.js';

/** One captured dispatch. */
export interface PlannedDispatch {
  kernel: Kernel;
  pipeline: GPUComputePipeline;
  layout: GPUBindGroupLayout;
  params: Uint8Array;
  ranges: BufferRange[];
  workgroups: readonly [number, number, number];
  label: string;
  /** Whether a dynamic region launched it (its parameters are re-packed at each replay). */
  dynamic: boolean;
}

/** One captured buffer-to-buffer copy; `before` is the number of dispatches recorded ahead of it. */
export interface PlannedCopy {
  src: BufferRange;
  dst: BufferRange;
  before: number;
  label: string;
}

/** Host code the replay runs again: its dispatches are `first..last-1`, its pool buffers `buffers`. */
export interface DynamicRegion {
  fn: () => void;
  first: number;
  last: number;
  buffers: GPUBuffer[];
}

/** What the recorder collects while capturing. */
export class CaptureLog {
  readonly dispatches: PlannedDispatch[] = [];
  readonly copies: PlannedCopy[] = [];
  readonly regions: DynamicRegion[] = [];
  /** Every pool buffer handed out during the capture, in order (the plan owns them afterwards). */
  readonly acquired: GPUBuffer[] = [];
  /** Depth of nested dynamic regions: only the outermost one is re-run. */
  regionDepth = 0;
}

const SLOT = BUFFER_ALIGN;

/** Buffer identities for comparing two captures: inputs and step buffers by order, others by object. */
const heldIds = new WeakMap<GPUBuffer, number>();
let nextId = 0;
function bufferKeys(log: CaptureLog, inputs: readonly GPUBuffer[]): (buf: GPUBuffer) => string {
  const roles = new Map<GPUBuffer, string>();
  log.acquired.forEach((b, i) => roles.set(b, `step${i}`));
  inputs.forEach((b, i) => roles.set(b, `input${i}`));
  return (buf) => {
    const role = roles.get(buf);
    if (role) return role;
    let id = heldIds.get(buf);
    if (id === undefined) heldIds.set(buf, (id = nextId++));
    return `held${id}`;
  };
}

export class Plan {
  readonly dispatches: readonly PlannedDispatch[];
  readonly copies: readonly PlannedCopy[];
  readonly regions: readonly DynamicRegion[];
  private readonly bindGroups: GPUBindGroup[];
  private readonly uniform: GPUBuffer;
  private readonly staging: Uint8Array;
  private dirty: [number, number] | null = null;
  private disposed = false;

  constructor(readonly log: CaptureLog, readonly inputs: readonly GPUBuffer[]) {
    this.dispatches = log.dispatches;
    this.copies = log.copies;
    this.regions = log.regions;
    const device = gpu().device;
    const n = Math.max(this.dispatches.length, 1);
    this.staging = new Uint8Array(n * SLOT);
    this.dispatches.forEach((d, i) => this.staging.set(d.params, i * SLOT));
    this.uniform = device.createBuffer({ size: n * SLOT, usage: GPUBufferUsage.UNIFORM | GPUBufferUsage.COPY_DST, label: 'plan params' });
    device.queue.writeBuffer(this.uniform, 0, this.staging);
    this.bindGroups = this.dispatches.map((d, i) =>
      device.createBindGroup({
        layout: d.layout,
        entries: [{ binding: 0, resource: { buffer: this.uniform, offset: i * SLOT, size: SLOT } }, ...d.ranges.map((r, j) => ({ binding: j + 1, resource: r }))],
        label: d.label,
      }),
    );
  }

  /** Re-packs dispatch `index`'s parameters during a dynamic region's re-run. */
  repack(index: number, kernel: Kernel, params: ArrayBuffer, label: string): void {
    const d = this.dispatches[index];
    if (!d || d.kernel !== kernel) {
      throw new GpuError(`replay: a dynamic region launched ${label} where the capture had ${d ? d.label : 'nothing'}; its host code must launch the same kernels every step`);
    }
    this.staging.set(new Uint8Array(params), index * SLOT);
    this.dirty = this.dirty ? [Math.min(this.dirty[0], index), Math.max(this.dirty[1], index + 1)] : [index, index + 1];
  }

  /** Uploads the re-packed parameters (one write covering every changed slot). */
  upload(): void {
    if (!this.dirty) return;
    const [a, b] = this.dirty;
    gpu().device.queue.writeBuffer(this.uniform, a * SLOT, this.staging, a * SLOT, (b - a) * SLOT);
    this.dirty = null;
  }

  /** Encodes every dispatch and copy, in capture order. */
  encode(encoder: GPUCommandEncoder): void {
    if (this.disposed) throw new GpuError('replay: the plan was disposed');
    let pass: GPUComputePassEncoder | null = null;
    let pipeline: GPUComputePipeline | null = null;
    let c = 0;
    const copyUpTo = (i: number) => {
      for (; c < this.copies.length && this.copies[c]!.before <= i; c++) {
        pass?.end();
        pass = null;
        const { src, dst } = this.copies[c]!;
        encoder.copyBufferToBuffer(src.buffer, src.offset, dst.buffer, dst.offset, src.size);
      }
    };
    for (let i = 0; i < this.dispatches.length; i++) {
      copyUpTo(i);
      const d = this.dispatches[i]!;
      if (!pass) {
        pass = encoder.beginComputePass();
        pipeline = null;
      }
      if (d.pipeline !== pipeline) pass.setPipeline((pipeline = d.pipeline));
      pass.setBindGroup(0, this.bindGroups[i]!);
      pass.dispatchWorkgroups(d.workgroups[0], d.workgroups[1], d.workgroups[2]);
    }
    (pass as GPUComputePassEncoder | null)?.end();
    copyUpTo(Infinity);
  }

  /**
   * Why `other`, a capture of the same step one call later, could not be replaced by a replay of
   * this plan: a different dispatch list, different buffers, or parameters that changed outside a
   * dynamic region. Null when they agree.
   */
  differenceFrom(other: Plan): string | null {
    const a = this.dispatches;
    const b = other.dispatches;
    if (a.length !== b.length) return `the step recorded ${a.length} dispatches once and ${b.length} the next time`;
    if (this.copies.length !== other.copies.length) return `the step recorded ${this.copies.length} copies once and ${other.copies.length} the next time`;
    const keys = [bufferKeys(this.log, this.inputs), bufferKeys(other.log, other.inputs)] as const;
    const ranges = (k: 0 | 1, rs: readonly BufferRange[]) => rs.map((r) => `${keys[k](r.buffer)}@${r.offset}+${r.size}`).join(' ');
    for (let i = 0; i < a.length; i++) {
      const x = a[i]!;
      const y = b[i]!;
      const at = `dispatch ${i} (${x.label})`;
      if (x.pipeline !== y.pipeline || x.label !== y.label) return `${at} became ${y.label}`;
      if (x.workgroups.join() !== y.workgroups.join()) return `${at} changed its grid from [${x.workgroups.join()}] to [${y.workgroups.join()}]`;
      if (ranges(0, x.ranges) !== ranges(1, y.ranges)) {
        return `${at} bound other buffers the next time (a pool allocation order that depends on more than the shapes, or a tensor created in the step and kept)`;
      }
      if (!x.dynamic && !sameBytes(x.params, y.params)) {
        return `${at} has parameters that changed between two calls (${changedFields(x, y)}) outside any dynamic region: pass the value that drives them as a scalar input or compute it on the GPU`;
      }
    }
    return null;
  }

  dispose(): void {
    if (this.disposed) return;
    this.disposed = true;
    this.uniform.destroy();
  }
}

function sameBytes(a: Uint8Array, b: Uint8Array): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}

function changedFields(x: PlannedDispatch, y: PlannedDispatch): string {
  const names: string[] = [];
  for (const f of x.kernel.params.fields) {
    if (!sameBytes(x.params.subarray(f.offset, f.offset + f.size), y.params.subarray(f.offset, f.offset + f.size))) names.push(f.name);
  }
  return `${x.kernel.params.name}.${names.join(', ')}`;
}
