// GPU time per dispatch from timestamp queries. While profiling, the recorder gives every dispatch
// its own compute pass with begin/end timestamps; each submit resolves its query set into a buffer
// that is read back when the caller asks for the records. Off by default: separate passes and
// timestamps cost a little on every dispatch.
import { gpu, gpuWait, GpuError } from './device.js';

/** One profiled dispatch. */
export interface KernelRecord {
  /** The op's label, with shapes. */
  label: string;
  /** The kernel (shader) name. */
  kernel: string;
  /** GPU start time, nanoseconds, on the device's clock. */
  startNs: number;
  /** GPU duration, nanoseconds. */
  durationNs: number;
}

/** Per-kernel totals over a set of records. */
export interface KernelSummary {
  kernel: string;
  calls: number;
  totalMs: number;
  medianUs: number;
}

const QUERIES_PER_SET = 4096;

interface Batch {
  querySet: GPUQuerySet;
  labels: Array<[label: string, kernel: string]>;
}

export class Profiler {
  enabled = false;
  private batch: Batch | null = null;
  private spareSets: GPUQuerySet[] = [];
  private pendingReads: Array<Promise<KernelRecord[]>> = [];

  /** Starts timing every dispatch. Throws when the adapter has no timestamp queries. */
  start(): void {
    if (!gpu().hasTimestamps) throw new GpuError('profiling needs the timestamp-query feature, which this adapter lacks');
    this.enabled = true;
  }

  /** Stops timing; records already taken can still be collected. */
  stop(): void {
    this.enabled = false;
  }

  /** True when the current query set has no room left (the recorder then submits). */
  get full(): boolean {
    return this.batch !== null && this.batch.labels.length * 2 >= QUERIES_PER_SET;
  }

  /** Timestamp writes for the next dispatch, or undefined when not profiling. */
  timestampWrites(label: string, kernel: string): GPUComputePassTimestampWrites | undefined {
    if (!this.enabled || this.full) return undefined;
    this.batch ??= {
      querySet: this.spareSets.pop() ?? gpu().device.createQuerySet({ type: 'timestamp', count: QUERIES_PER_SET }),
      labels: [],
    };
    const i = this.batch.labels.length;
    this.batch.labels.push([label, kernel]);
    return { querySet: this.batch.querySet, beginningOfPassWriteIndex: 2 * i, endOfPassWriteIndex: 2 * i + 1 };
  }

  /** Resolves this submit's queries into a buffer that `collect` maps later. */
  beforeSubmit(encoder: GPUCommandEncoder, endPass: () => void): void {
    const batch = this.batch;
    if (!batch || batch.labels.length === 0) return;
    endPass();
    const device = gpu().device;
    const bytes = batch.labels.length * 16;
    const resolve = device.createBuffer({ size: bytes, usage: GPUBufferUsage.QUERY_RESOLVE | GPUBufferUsage.COPY_SRC });
    const staging = device.createBuffer({ size: bytes, usage: GPUBufferUsage.MAP_READ | GPUBufferUsage.COPY_DST });
    encoder.resolveQuerySet(batch.querySet, 0, batch.labels.length * 2, resolve, 0);
    encoder.copyBufferToBuffer(resolve, 0, staging, 0, bytes);
    this.batch = null;
    this.pendingReads.push(
      (async () => {
        // The recorder submits right after this returns; mapping before that submit is an error.
        await Promise.resolve();
        await gpuWait(staging.mapAsync(GPUMapMode.READ));
        const t = new BigInt64Array(staging.getMappedRange());
        const records = batch.labels.map(([label, kernel], i) => ({
          label,
          kernel,
          startNs: Number(t[2 * i]!),
          durationNs: Math.max(0, Number(t[2 * i + 1]! - t[2 * i]!)),
        }));
        staging.unmap();
        staging.destroy();
        resolve.destroy();
        this.spareSets.push(batch.querySet);
        return records;
      })(),
    );
  }

  /** Waits for every submitted batch and returns its records, oldest first. */
  async collect(): Promise<KernelRecord[]> {
    const reads = this.pendingReads;
    this.pendingReads = [];
    return (await Promise.all(reads)).flat();
  }

  reset(): void {
    this.enabled = false;
    this.batch = null;
    this.spareSets = [];
    this.pendingReads = [];
  }
}

/** Totals and medians per kernel, slowest first. */
export function summarize(records: KernelRecord[]): KernelSummary[] {
  const by = new Map<string, number[]>();
  for (const r of records) {
    const list = by.get(r.kernel);
    if (list) list.push(r.durationNs);
    else by.set(r.kernel, [r.durationNs]);
  }
  return [...by.entries()]
    .map(([kernel, ns]) => {
      ns.sort((a, b) => a - b);
      return { kernel, calls: ns.length, totalMs: ns.reduce((a, b) => a + b, 0) / 1e6, medianUs: ns[ns.length >> 1]! / 1e3 };
    })
    .sort((a, b) => b.totalMs - a.totalMs);
}

/** Chrome / Perfetto trace (the JSON array format): open it in ui.perfetto.dev or chrome://tracing. */
export function chromeTrace(records: KernelRecord[]): string {
  const t0 = records.length ? Math.min(...records.map((r) => r.startNs)) : 0;
  const events = records.map((r) => ({
    name: r.label,
    cat: r.kernel,
    ph: 'X',
    ts: (r.startNs - t0) / 1e3,
    dur: r.durationNs / 1e3,
    pid: 1,
    tid: 1,
  }));
  return JSON.stringify({ traceEvents: events, displayTimeUnit: 'ms' });
}
