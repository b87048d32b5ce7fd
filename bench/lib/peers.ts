// Peers for benchmarks, measured in the same run as the engine:
//  - tfjs-webgpu 4.22 on the SAME adapter and device: dawn.node's GPU object becomes
//    `navigator.gpu`, and the 'webgpu' backend is re-registered over our device (a dawn adapter
//    makes one device only). Its steps are timed like ours: record, submit, wait without spinning.
//  - OpenBLAS through NumPy in a python3 subprocess, when python3 can import numpy.
// Both load at run time and skip with a reason when absent.
import { spawnSync } from 'node:child_process';
import { gpu, gpuWait } from '../../src/gpu/device.js';
import { recorder } from '../../src/gpu/recorder.js';
import { timeWall, type Timing, type TimingOptions } from './harness.js';

/** A peer that could not be set up, and why. */
export interface Skipped {
  skipped: string;
}

/** The slice of tfjs-core's API the benchmarks use. */
interface TfTensor {
  dispose(): void;
}
interface TfCore {
  registerBackend(name: string, factory: () => unknown, priority?: number): boolean;
  removeBackend(name: string): void;
  setBackend(name: string): Promise<boolean>;
  ready(): Promise<void>;
  backend(): TfWebGpuBackend;
  version_core?: string;
  tensor(values: Float32Array, shape: number[], dtype: 'float32'): TfTensor;
  matMul(a: TfTensor, b: TfTensor, transposeA?: boolean, transposeB?: boolean): TfTensor;
}
interface TfWebGpuBackend {
  ensureCommandEncoderReady(): void;
  endComputePassEncoder(): void;
  submitQueue(): void;
}
interface TfWebGpu {
  WebGPUBackend: new (device: GPUDevice, adapterInfo?: GPUAdapterInfo) => unknown;
}

export interface TfjsPeer {
  version: string;
  /** A timed step of `tf.matMul` on fixed random inputs, and their cleanup. */
  matmul(aShape: number[], bShape: number[], transA: boolean, transB: boolean): { step: () => Promise<void>; dispose: () => void };
}

async function importOptional<T>(name: string): Promise<T> {
  const mod = (await import(name)) as T & { default?: T };
  return mod.default ?? mod;
}

const random = (n: number) => Float32Array.from({ length: n }, (_, i) => Math.sin(i * 0.618) * 0.5);
const numel = (shape: readonly number[]) => shape.reduce((a, b) => a * b, 1);

/** tfjs-webgpu on the engine's own device; call after initGpu. */
export async function tfjsPeer(): Promise<TfjsPeer | Skipped> {
  const g = gpu();
  const nav = (globalThis as { navigator?: object }).navigator;
  if (nav) Object.defineProperty(nav, 'gpu', { value: g.instance, configurable: true });
  else Object.defineProperty(globalThis, 'navigator', { value: { gpu: g.instance }, configurable: true });
  let tf: TfCore, webgpu: TfWebGpu;
  try {
    tf = await importOptional<TfCore>('@tensorflow/tfjs-core');
    webgpu = await importOptional<TfWebGpu>('@tensorflow/tfjs-backend-webgpu');
  } catch (err) {
    return { skipped: `tfjs not installed (${(err as Error).message.split('\n')[0]})` };
  }
  // The kernels are registered for the name 'webgpu': replace its factory with one on our device.
  tf.removeBackend('webgpu');
  tf.registerBackend('webgpu', () => new webgpu.WebGPUBackend(g.device, g.adapter.info), 10);
  if (!(await tf.setBackend('webgpu'))) return { skipped: 'tfjs could not start its webgpu backend' };
  await tf.ready();
  const backend = tf.backend();
  return {
    version: tf.version_core ?? 'unknown',
    matmul(aShape, bShape, transA, transB) {
      const a = tf.tensor(random(numel(aShape)), aShape, 'float32');
      const b = tf.tensor(random(numel(bShape)), bShape, 'float32');
      return {
        step: async () => {
          const c = tf.matMul(a, b, transA, transB);
          backend.ensureCommandEncoderReady();
          backend.endComputePassEncoder();
          backend.submitQueue();
          await gpuWait(g.device.queue.onSubmittedWorkDone());
          c.dispose();
        },
        dispose: () => {
          a.dispose();
          b.dispose();
        },
      };
    },
  };
}

/** Times a tfjs step after warm-up runs (its pipelines compile at first use too). */
export async function timePeerStep(step: () => Promise<void>, opts: TimingOptions = {}): Promise<Timing> {
  await recorder().sync();
  for (let i = 0; i < (opts.warmup ?? 2); i++) await step();
  return timeWall(step, opts);
}

export interface NumpyCase {
  aShape: number[];
  bShape: number[];
  transA: boolean;
  transB: boolean;
}

export interface NumpyResult {
  version: string;
  blas: string;
  timings: Timing[];
}

// Median of repeated np.matmul on float32 inputs (transposes as views, as BLAS takes them),
// after two warm-up calls; at least 5 repetitions and about maxTime seconds per case.
const NUMPY_SCRIPT = `
import json, sys, time, statistics
import numpy as np
cfg = json.load(sys.stdin)
rng = np.random.default_rng(0)
out = []
for c in cfg['cases']:
    a = rng.standard_normal(c['aShape'], dtype=np.float32)
    b = rng.standard_normal(c['bShape'], dtype=np.float32)
    x = np.swapaxes(a, -1, -2) if c['transA'] else a
    y = np.swapaxes(b, -1, -2) if c['transB'] else b
    for _ in range(2): np.matmul(x, y)
    times = []
    start = time.perf_counter()
    while len(times) < 5 or (time.perf_counter() - start < cfg['maxTime'] and len(times) < 200):
        t0 = time.perf_counter(); np.matmul(x, y); times.append((time.perf_counter() - t0) * 1e3)
    mean = statistics.fmean(times)
    sd = statistics.stdev(times) if len(times) > 1 else 0.0
    out.append({'wallMs': statistics.median(times), 'rmePct': 196.0 * sd / (len(times) ** 0.5) / mean, 'samples': len(times)})
blas = 'unknown'
try:
    info = np.show_config(mode='dicts')
    blas = '%s %s' % (info['Build Dependencies']['blas'].get('name', '?'), info['Build Dependencies']['blas'].get('version', ''))
except Exception:
    pass
print(json.dumps({'version': np.__version__, 'blas': blas.strip(), 'timings': out}))
`;

/** OpenBLAS sgemm through NumPy, or why it was skipped (no python3, no numpy). */
export function numpyMatmul(cases: NumpyCase[], { maxTime = 1.5 }: { maxTime?: number } = {}): NumpyResult | Skipped {
  const res = spawnSync('python3', ['-c', NUMPY_SCRIPT], { input: JSON.stringify({ cases, maxTime }), encoding: 'utf8', maxBuffer: 1 << 24 });
  if (res.error) return { skipped: `python3 not available (${res.error.message})` };
  if (res.status !== 0) {
    const last = (res.stderr ?? '').trim().split('\n').pop() ?? '';
    return { skipped: /No module named/.test(last) ? 'numpy is not importable by python3' : `python3 failed: ${last}` };
  }
  return JSON.parse(res.stdout) as NumpyResult;
}
