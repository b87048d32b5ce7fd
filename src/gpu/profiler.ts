// GPU time per dispatch from timestamp queries. While profiling, the recorder gives every dispatch
// its own compute pass with begin/end timestamps; each submit resolves its query set into a buffer
// that is read back when the caller asks for the records. Off by default: separate passes and
// timestamps cost a little on every dispatch.
import { closeSync, openSync, writeSync } from 'node:fs';
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

/** A span of host work (recording an iteration, say) on the host's own clock. */
export interface HostSpan {
  name: string;
  /** Start, milliseconds (e.g. `performance.now()`). */
  startMs: number;
  durationMs: number;
}

/** How a trace names its process and threads. */
export interface TraceOptions {
  /** The process row in Perfetto, e.g. the suite or run. */
  process?: string;
  /** The GPU queue's thread. */
  gpuThread?: string;
  /** Host spans, shown on a thread of their own (their clock is not the GPU's: each starts at 0). */
  host?: readonly HostSpan[];
  /** The host thread's name. */
  hostThread?: string;
}

const PID = 1, GPU_TID = 1, HOST_TID = 2;

/** A kernel's family (`matmul.uniform` -> `matmul`): the trace category Perfetto groups by. */
export const kernelFamily = (kernel: string): string => kernel.split('.', 1)[0]!;

/**
 * The trace's text in pieces, one event at a time, so that a trace of any length can be written
 * without building it (or a spread over its records) in memory.
 */
export function* chromeTraceChunks(records: readonly KernelRecord[], opts: TraceOptions = {}): Generator<string> {
  let t0 = Infinity;
  for (const r of records) if (r.startNs < t0) t0 = r.startNs;
  const host = opts.host ?? [];
  let h0 = Infinity;
  for (const s of host) if (s.startMs < h0) h0 = s.startMs;
  const meta = (tid: number, name: string, value: string) => ({ name, ph: 'M', pid: PID, tid, args: { name: value } });
  const head = [
    meta(GPU_TID, 'process_name', opts.process ?? 'bpt-webgpu'),
    meta(GPU_TID, 'thread_name', opts.gpuThread ?? 'GPU queue'),
    ...(host.length ? [meta(HOST_TID, 'thread_name', opts.hostThread ?? 'host recording')] : []),
  ];
  yield '{"displayTimeUnit":"ms","traceEvents":[\n';
  let first = true;
  const event = (e: object) => {
    const s = `${first ? '' : ',\n'}${JSON.stringify(e)}`;
    first = false;
    return s;
  };
  for (const e of head) yield event(e);
  for (const r of records) {
    yield event({ name: r.label, cat: kernelFamily(r.kernel), ph: 'X', ts: (r.startNs - t0) / 1e3, dur: r.durationNs / 1e3, pid: PID, tid: GPU_TID, args: { kernel: r.kernel } });
  }
  for (const s of host) yield event({ name: s.name, cat: 'host', ph: 'X', ts: (s.startMs - h0) * 1e3, dur: s.durationMs * 1e3, pid: PID, tid: HOST_TID });
  yield '\n]}\n';
}

/** Chrome / Perfetto trace (JSON object format) as one string: for small traces; see `writeChromeTrace`. */
export function chromeTrace(records: readonly KernelRecord[], opts: TraceOptions = {}): string {
  return [...chromeTraceChunks(records, opts)].join('');
}

/**
 * Writes a Chrome / Perfetto trace (open it in ui.perfetto.dev or chrome://tracing) event by event,
 * in blocks of about 1 MiB: a trace of any length. Kernels are grouped by family (`cat`), the
 * process and threads are named (metadata events).
 */
export function writeChromeTrace(path: string, records: readonly KernelRecord[], opts: TraceOptions = {}): void {
  const fd = openSync(path, 'w');
  try {
    let block = '';
    for (const chunk of chromeTraceChunks(records, opts)) {
      block += chunk;
      if (block.length >= 1 << 20) {
        writeSync(fd, block);
        block = '';
      }
    }
    writeSync(fd, block);
  } finally {
    closeSync(fd);
  }
}
