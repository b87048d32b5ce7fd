// Every dispatch of a step goes into one command encoder; `submit` sends it in one queue.submit.
//
// Per-dispatch parameters: `queue.writeBuffer` runs at once while recorded passes run at submit,
// so one uniform buffer rewritten between dispatches would leave every dispatch seeing the last
// value. Each dispatch instead gets its own BUFFER_ALIGN-byte slot in a uniform chunk; chunks are uploaded
// just before the submit and reused after it (queue order makes that safe).
import { BUFFER_ALIGN, BufferPool } from './buffers.js';
import { gpu, gpuWait, GpuError, onShutdown } from './device.js';
import { pipelineFor, takeCompileChecks, type Kernel, type Overrides } from './kernels.js';
import { CaptureLog, Plan } from './plan.js';
import { Profiler } from './profiler.js';

/** A dispatch's parameter slot: uniform binding offsets share the storage alignment. */
const SLOT = BUFFER_ALIGN;
const CHUNK = 64 * 1024;
/** Submits on its own beyond this many dispatches so that a runaway step cannot grow without bound. */
const MAX_DISPATCHES_PER_SUBMIT = 20000;

/** A storage buffer range bound to one kernel binding. */
export interface BufferRange {
  buffer: GPUBuffer;
  offset: number;
  size: number;
}

/** One kernel launch. */
export interface Dispatch {
  kernel: Kernel;
  overrides?: Overrides;
  /** Bytes of the kernel's `Params` uniform struct (at most 256). */
  params: ArrayBuffer;
  inputs: BufferRange[];
  outputs: BufferRange[];
  workgroups: readonly [number, number?, number?];
  /** What the op was, with shapes, for errors and profiles, e.g. `matmul [8,512]x[512,512]`. */
  label: string;
}

interface UniformChunk {
  buffer: GPUBuffer;
  staging: Uint8Array;
  used: number;
}

/** Counters for benchmarks and tests: how many dispatches went into how many submits, and how many reads. */
export interface RecorderStats {
  dispatches: number;
  submits: number;
  /** Dispatches in the most recent submit. */
  lastSubmitDispatches: number;
  /** Data readbacks (each one buffer mapping that waits for the GPU); the profiler's timestamp reads are not counted. */
  readbacks: number;
}

export class Recorder {
  readonly pool = new BufferPool();
  readonly profiler = new Profiler();
  private encoder: GPUCommandEncoder | null = null;
  private pass: GPUComputePassEncoder | null = null;
  private chunks: UniformChunk[] = [];
  private chunkIndex = 0;
  private labels: string[] = [];
  private errors: Array<Promise<GpuError | null>> = [];
  private stats: RecorderStats = { dispatches: 0, submits: 0, lastSubmitDispatches: 0, readbacks: 0 };
  /** The step being captured, if any. */
  private log: CaptureLog | null = null;
  /** The plan whose dynamic region is being re-run, and the next dispatch it expects. */
  private repacking: { plan: Plan; next: number } | null = null;

  private ensureEncoder(): GPUCommandEncoder {
    this.encoder ??= gpu().device.createCommandEncoder();
    return this.encoder;
  }

  private endPass(): void {
    this.pass?.end();
    this.pass = null;
  }

  private uniformSlot(params: ArrayBuffer, label: string): GPUBufferBinding {
    if (params.byteLength > SLOT) throw new GpuError(`${label}: ${params.byteLength} bytes of parameters exceed ${SLOT}`);
    let chunk = this.chunks[this.chunkIndex];
    if (chunk && chunk.used + SLOT > CHUNK) chunk = this.chunks[++this.chunkIndex];
    if (!chunk) {
      chunk = {
        buffer: gpu().device.createBuffer({ size: CHUNK, usage: GPUBufferUsage.UNIFORM | GPUBufferUsage.COPY_DST, label: 'params' }),
        staging: new Uint8Array(CHUNK),
        used: 0,
      };
      this.chunks.push(chunk);
    }
    const offset = chunk.used;
    chunk.staging.set(new Uint8Array(params), offset);
    chunk.used += SLOT;
    return { buffer: chunk.buffer, offset, size: SLOT };
  }

  /** Records one dispatch into the current step. */
  dispatch(d: Dispatch): void {
    if (this.repacking) {
      this.repacking.plan.repack(this.repacking.next++, d.kernel, d.params, d.label);
      return;
    }
    const device = gpu().device;
    if (this.stats.lastSubmitDispatches >= MAX_DISPATCHES_PER_SUBMIT || this.profiler.full) this.submit();
    const { pipeline, layout } = pipelineFor(d.kernel, d.overrides);
    const entries: GPUBindGroupEntry[] = [{ binding: 0, resource: this.uniformSlot(d.params, d.label) }];
    if (d.inputs.length !== d.kernel.inputs || d.outputs.length !== d.kernel.outputs) {
      throw new GpuError(
        `${d.label}: kernel "${d.kernel.name}" takes ${d.kernel.inputs} inputs and ${d.kernel.outputs} outputs, got ${d.inputs.length} and ${d.outputs.length}`,
      );
    }
    [...d.inputs, ...d.outputs].forEach((r, i) => entries.push({ binding: i + 1, resource: r }));
    const bindGroup = device.createBindGroup({ layout, entries, label: d.label });
    const encoder = this.ensureEncoder();
    const timestampWrites = this.profiler.timestampWrites(d.label, d.kernel.name);
    if (timestampWrites) {
      this.endPass();
      this.pass = encoder.beginComputePass({ label: d.label, timestampWrites });
    } else {
      this.pass ??= encoder.beginComputePass();
    }
    this.pass.setPipeline(pipeline);
    this.pass.setBindGroup(0, bindGroup);
    const [x, y = 1, z = 1] = d.workgroups;
    this.pass.dispatchWorkgroups(x, y, z);
    if (timestampWrites) this.endPass();
    this.labels.push(d.label);
    this.stats.dispatches++;
    this.stats.lastSubmitDispatches++;
    this.log?.dispatches.push({
      kernel: d.kernel, pipeline, layout, params: new Uint8Array(d.params.slice(0)), ranges: [...d.inputs, ...d.outputs],
      workgroups: [x, y, z], label: d.label, dynamic: this.log.regionDepth > 0,
    });
  }

  /** Records a buffer-to-buffer copy (sizes multiple of 4). */
  copy(src: BufferRange, dst: BufferRange, label: string): void {
    if (this.repacking) throw new GpuError(`replay: ${label}: a dynamic region may only launch kernels, not copy`);
    this.log?.copies.push({ src, dst, before: this.log.dispatches.length, label });
    this.endPass();
    this.ensureEncoder().copyBufferToBuffer(src.buffer, src.offset, dst.buffer, dst.offset, src.size);
    this.labels.push(label);
  }

  /** Sends everything recorded so far in one queue.submit. */
  submit(): void {
    const g = gpu();
    if (this.profiler.enabled) this.profiler.beforeSubmit(this.ensureEncoder(), this.endPass.bind(this));
    this.endPass();
    if (!this.encoder) return;
    for (let i = 0; i <= this.chunkIndex && i < this.chunks.length; i++) {
      const c = this.chunks[i]!;
      if (c.used > 0) g.device.queue.writeBuffer(c.buffer, 0, c.staging, 0, c.used);
      c.used = 0;
    }
    this.chunkIndex = 0;
    const labels = this.labels;
    // Encoding errors surface at finish(), so the scopes must already be open then.
    g.device.pushErrorScope('out-of-memory');
    g.device.pushErrorScope('validation');
    const commands = this.encoder.finish();
    this.encoder = null;
    this.labels = [];
    g.device.queue.submit([commands]);
    const describe = (e: GPUError | null, kind: string) =>
      e ? new GpuError(`GPU ${kind} error in a submit of ${labels.length} operations (${summarise(labels)}): ${e.message}`) : null;
    this.errors.push(g.device.popErrorScope().then((e) => describe(e, 'validation')));
    this.errors.push(g.device.popErrorScope().then((e) => describe(e, 'out-of-memory')));
    this.pool.afterSubmit();
    this.stats.submits++;
    this.stats.lastSubmitDispatches = 0;
  }

  /** Submits pending work, waits for the GPU, and throws the first error it reported. */
  async sync(): Promise<void> {
    this.submit();
    await gpuWait(gpu().device.queue.onSubmittedWorkDone());
    await this.throwErrors();
  }

  private async throwErrors(): Promise<void> {
    const pending = [...takeCompileChecks(), ...this.errors];
    this.errors = [];
    for (const e of await Promise.all(pending)) if (e) throw e;
    gpu().check();
  }

  /**
   * Copies buffer ranges to the host after everything recorded so far has run: one staging buffer,
   * one submit and one mapping for all of them, however many there are.
   */
  async read(srcs: readonly BufferRange[], label: string): Promise<ArrayBuffer[]> {
    this.refuseInCapture(`reading ${label} back to the host`);
    if (srcs.length === 0) return [];
    const device = gpu().device;
    // Range sizes are whole elements (multiples of 4), as copyBufferToBuffer requires.
    const offsets: number[] = [];
    let size = 0;
    for (const src of srcs) {
      offsets.push(size);
      size += src.size;
    }
    const staging = device.createBuffer({ size: Math.max(size, 4), usage: GPUBufferUsage.MAP_READ | GPUBufferUsage.COPY_DST, label: `read ${label}` });
    srcs.forEach((src, i) => {
      if (src.size > 0) this.copy(src, { buffer: staging, offset: offsets[i]!, size: src.size }, `read ${label}`);
    });
    this.submit();
    this.stats.readbacks++;
    try {
      await gpuWait(staging.mapAsync(GPUMapMode.READ));
    } catch (err) {
      await this.throwErrors();
      throw new GpuError(`reading back ${label} failed: ${(err as Error).message}`);
    }
    await this.throwErrors();
    const mapped = staging.getMappedRange();
    const out = srcs.map((src, i) => mapped.slice(offsets[i]!, offsets[i]! + src.size));
    staging.unmap();
    staging.destroy();
    return out;
  }

  /** True while a replay re-runs a dynamic region (its launches only re-pack parameters). */
  get replaying(): boolean {
    return this.repacking !== null;
  }

  /** True between `beginCapture` and `endCapture`. */
  get capturing(): boolean {
    return this.log !== null;
  }

  /** Throws, naming `what`, while a step is being captured or replayed: a replay could not repeat it. */
  refuseInCapture(what: string): void {
    if (this.log || this.repacking) {
      throw new GpuError(`capture: ${what} inside a captured step cannot be replayed (a replay runs no host code); do it before or after the step, or pass the data as an input of the step`);
    }
  }

  /**
   * Starts capturing: until `endCapture`, dispatches and copies run as usual and are also kept
   * for a plan, and every pool buffer handed out belongs to it.
   */
  beginCapture(): void {
    if (this.log || this.repacking) throw new GpuError('capture: a step is already being captured (captures do not nest)');
    this.log = new CaptureLog();
    this.pool.startTap(this.log.acquired);
  }

  /** Ends the capture; `inputs` are the buffers the step's inputs are copied into at each replay. */
  endCapture(inputs: readonly GPUBuffer[]): Plan {
    const log = this.stopCapture();
    return new Plan(log, inputs);
  }

  /** Ends a capture that failed: its buffers go back to the pool. */
  abortCapture(): void {
    if (this.log) this.pool.unclaim(this.stopCapture().acquired);
  }

  private stopCapture(): CaptureLog {
    const log = this.log;
    if (!log) throw new GpuError('capture: no capture in progress');
    this.log = null;
    this.pool.endTap();
    return log;
  }

  /**
   * Runs host code whose dispatches' parameters may differ from step to step (a step count, a
   * learning rate, a seed read from a Scalar): while capturing, `fn` is kept and a replay runs it
   * again, re-packing the parameters of the dispatches it launches (same kernels, same buffers).
   */
  dynamic(fn: () => void): void {
    const log = this.log;
    if (!log || this.repacking) return fn();
    const first = log.dispatches.length;
    const a = log.acquired.length;
    log.regionDepth++;
    try {
      fn();
    } finally {
      log.regionDepth--;
    }
    if (log.regionDepth === 0) log.regions.push({ fn, first, last: log.dispatches.length, buffers: log.acquired.slice(a) });
  }

  /**
   * Records one replay of `plan`: re-runs its dynamic regions, uploads the parameters they
   * changed, and encodes its dispatches after what is recorded so far. Earlier work is submitted
   * first, since the uploads run at once and must not overtake an earlier replay of the plan.
   */
  replay(plan: Plan, inputs: ReadonlyArray<{ src: BufferRange; dst: BufferRange }> = []): void {
    if (this.log || this.repacking) throw new GpuError('replay: not inside a capture');
    this.submit();
    for (const r of plan.regions) {
      this.repacking = { plan, next: r.first };
      try {
        this.pool.withScript(r.buffers, r.fn);
        if (this.repacking.next !== r.last) {
          throw new GpuError(`replay: a dynamic region launched ${this.repacking.next - r.first} dispatches, at capture ${r.last - r.first}`);
        }
      } finally {
        this.repacking = null;
      }
    }
    plan.upload();
    this.endPass();
    const encoder = this.ensureEncoder();
    for (const { src, dst } of inputs) encoder.copyBufferToBuffer(src.buffer, src.offset, dst.buffer, dst.offset, src.size);
    plan.encode(encoder);
    const n = plan.dispatches.length;
    this.labels.push(`replay of a captured step (${n} dispatches)`);
    this.stats.dispatches += n;
    this.stats.lastSubmitDispatches += n;
  }

  /** Frees a plan: its uniform buffer, and its step buffers go back to the pool. */
  disposePlan(plan: Plan): void {
    // Replays of it may still wait in the encoder.
    this.submit();
    plan.dispose();
    this.pool.unclaim(plan.log.acquired);
  }

  snapshot(): RecorderStats {
    return { ...this.stats };
  }

  /** Forgets device objects (the device is gone). */
  reset(): void {
    this.encoder = null;
    this.pass = null;
    this.chunks = [];
    this.chunkIndex = 0;
    this.labels = [];
    this.errors = [];
    this.log = null;
    this.repacking = null;
    this.pool.reset();
    this.profiler.reset();
  }
}

function summarise(labels: string[]): string {
  const shown = labels.slice(-8).join('; ');
  return labels.length > 8 ? `last 8: ${shown}` : shown;
}

let shared: Recorder | null = null;

/** The process-wide recorder that every op records into. */
export function recorder(): Recorder {
  shared ??= new Recorder();
  return shared;
}

onShutdown(() => {
  shared?.reset();
  shared = null;
});
