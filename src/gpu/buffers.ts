// Storage buffers come from a pool keyed by size class. A released buffer is only reusable after
// the submit that used it: `queue.writeBuffer` runs at once, while recorded passes run at submit, so
// handing a buffer out earlier could let a fresh upload clobber data a recorded dispatch still reads.
import { gpu, GpuError } from './device.js';

// UNIFORM too: a kernel may read a <= 64 KiB range of a tensor through a uniform binding, which
// software adapters (lavapipe) load far faster than storage (matmul's uniform-panel variant).
const USAGE = GPUBufferUsage.STORAGE | GPUBufferUsage.UNIFORM | GPUBufferUsage.COPY_SRC | GPUBufferUsage.COPY_DST;
/**
 * Binding offsets (storage and uniform) must be multiples of this on every adapter we target: the
 * one alignment that buffer size classes, tensor views and per-dispatch parameter slots share.
 */
export const BUFFER_ALIGN = 256;

/**
 * Rounds a byte count up to its size class: four classes per power of two (at most 19% waste),
 * each a multiple of 256 bytes.
 */
export function sizeClass(bytes: number): number {
  if (bytes <= BUFFER_ALIGN) return BUFFER_ALIGN;
  const pow = 2 ** Math.floor(Math.log2(bytes));
  const step = Math.max(pow / 4, BUFFER_ALIGN);
  return Math.ceil(bytes / step) * step;
}

/** Pool statistics, in bytes, for memory-flatness tests and the profiler. */
export interface PoolStats {
  /** Bytes of every GPU buffer the pool has created and not destroyed. */
  allocated: number;
  /** Bytes handed out and not yet released. */
  inUse: number;
  /** High-water mark of `inUse` since the last `resetPeak`. */
  peakInUse: number;
  /** Number of GPU buffers created so far. */
  buffersCreated: number;
}

export class BufferPool {
  private readonly free = new Map<number, GPUBuffer[]>();
  private pending: GPUBuffer[] = [];
  /** While a step is captured: every buffer handed out, in order. */
  private tap: GPUBuffer[] | null = null;
  /** While a dynamic region is re-run: the buffers it got at capture, handed out again in order. */
  private script: { buffers: readonly GPUBuffer[]; next: number } | null = null;
  /** Buffers a captured plan uses: never handed out again until the plan lets go (true once released). */
  private readonly claimed = new Map<GPUBuffer, boolean>();
  private stats: PoolStats = { allocated: 0, inUse: 0, peakInUse: 0, buffersCreated: 0 };

  /** A buffer of at least `bytes` bytes (STORAGE | UNIFORM | COPY_SRC | COPY_DST). */
  acquire(bytes: number, what: string): GPUBuffer {
    const g = gpu();
    const size = sizeClass(bytes);
    if (bytes > g.report.maxStorageBufferBindingSize) {
      throw new GpuError(
        `${what}: ${bytes} bytes exceed this device's maxStorageBufferBindingSize (${g.report.maxStorageBufferBindingSize})`,
      );
    }
    if (this.script) {
      const buf = this.script.buffers[this.script.next++];
      if (!buf || buf.size !== size) throw new GpuError(`replay: ${what} asks for other buffers than at capture; a dynamic region must allocate the same every step`);
      return buf;
    }
    let buf = this.free.get(size)?.pop();
    if (!buf) {
      buf = g.device.createBuffer({ size, usage: USAGE, label: what });
      this.stats.allocated += size;
      this.stats.buffersCreated++;
    }
    this.stats.inUse += size;
    this.stats.peakInUse = Math.max(this.stats.peakInUse, this.stats.inUse);
    if (this.tap) {
      this.tap.push(buf);
      this.claimed.set(buf, false);
    }
    return buf;
  }

  /** Returns a buffer; it becomes reusable after the next submit (`afterSubmit`). */
  release(buf: GPUBuffer): void {
    if (this.script) return;
    this.stats.inUse -= buf.size;
    if (this.claimed.has(buf)) this.claimed.set(buf, true);
    else this.pending.push(buf);
  }

  /**
   * Until `endTap`, lists every buffer handed out into `list` (a step capture) and claims it for
   * the plan: released, it is not reused until `unclaim`.
   */
  startTap(list: GPUBuffer[]): void {
    this.tap = list;
  }

  endTap(): void {
    this.tap = null;
  }

  /** A plan lets go of its buffers: those already released become reusable after the next submit. */
  unclaim(buffers: readonly GPUBuffer[]): void {
    for (const b of buffers) {
      const released = this.claimed.get(b);
      if (released === undefined) continue;
      this.claimed.delete(b);
      if (released) this.pending.push(b);
    }
  }

  /** Runs `fn` handing out `buffers` in order instead of pool buffers, and ignoring releases. */
  withScript(buffers: readonly GPUBuffer[], fn: () => void): void {
    this.script = { buffers, next: 0 };
    try {
      fn();
    } finally {
      this.script = null;
    }
  }

  /** Called by the recorder right after a submit: pending buffers may now be reused. */
  afterSubmit(): void {
    for (const buf of this.pending) {
      const list = this.free.get(buf.size);
      if (list) list.push(buf);
      else this.free.set(buf.size, [buf]);
    }
    this.pending = [];
  }

  /** Destroys every idle buffer (those in use are untouched). */
  trim(): void {
    for (const list of this.free.values()) {
      for (const buf of list) {
        this.stats.allocated -= buf.size;
        buf.destroy();
      }
    }
    this.free.clear();
  }

  snapshot(): PoolStats {
    return { ...this.stats };
  }

  resetPeak(): void {
    this.stats.peakInUse = this.stats.inUse;
  }

  /** Forgets everything (the device is gone). */
  reset(): void {
    this.free.clear();
    this.pending = [];
    this.claimed.clear();
    this.tap = null;
    this.script = null;
    this.stats = { allocated: 0, inUse: 0, peakInUse: 0, buffersCreated: 0 };
  }
}
