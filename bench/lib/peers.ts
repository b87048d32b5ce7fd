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
  data(): Promise<Float32Array | Int32Array>;
}
interface TfVariable extends TfTensor {
  readonly __variable: true;
}
interface TfOptimizer {
  minimize(f: () => TfTensor, returnCost: true, varList: TfVariable[]): TfTensor;
  dispose(): void;
}
interface TfCore {
  registerBackend(name: string, factory: () => unknown, priority?: number): boolean;
  removeBackend(name: string): void;
  setBackend(name: string): Promise<boolean>;
  ready(): Promise<void>;
  backend(): TfWebGpuBackend;
  version_core?: string;
  tensor(values: Float32Array | Int32Array, shape: number[], dtype: 'float32' | 'int32'): TfTensor;
  variable(initial: TfTensor): TfVariable;
  tidy<T>(fn: () => T): T;
  matMul(a: TfTensor, b: TfTensor, transposeA?: boolean, transposeB?: boolean): TfTensor;
  add(a: TfTensor, b: TfTensor): TfTensor;
  relu(x: TfTensor): TfTensor;
  oneHot(indices: TfTensor, depth: number): TfTensor;
  losses: { softmaxCrossEntropy(onehotLabels: TfTensor, logits: TfTensor): TfTensor };
  train: { adam(lr: number, beta1: number, beta2: number, epsilon: number): TfOptimizer };
}
interface TfWebGpuBackend {
  ensureCommandEncoderReady(): void;
  endComputePassEncoder(): void;
  submitQueue(): void;
  /** Dispatches recorded since tfjs's last submit (it submits every 15 by default). */
  dispatchCountInPass: number;
}
interface TfWebGpu {
  WebGPUBackend: new (device: GPUDevice, adapterInfo?: GPUAdapterInfo) => unknown;
}

/** A dense layer's initial values: weight [inputs, outputs] row-major, bias [outputs]. */
export interface DenseInit {
  inputs: number;
  outputs: number;
  weight: Float32Array;
  bias: Float32Array;
}

/** An MLP classifier's training problem: relu between layers, softmax cross-entropy (mean), Adam. */
export interface MlpSpec {
  x: Float32Array;
  batch: number;
  labels: Int32Array;
  classes: number;
  layers: DenseInit[];
  lr: number;
  betas: readonly [number, number];
  eps: number;
}

/** A peer's training step: the step (resolves when the GPU is done), the loss now, dispatch counts. */
export interface PeerTrainStep {
  step: () => Promise<void>;
  loss: () => Promise<number>;
  /** Dispatches and submits since the peer was built (its own counters, ours are the recorder's). */
  counts: () => { dispatches: number; submits: number };
  dispose: () => void;
}

export interface TfjsPeer {
  version: string;
  /** A timed step of `tf.matMul` on fixed random inputs, and their cleanup. */
  matmul(aShape: number[], bShape: number[], transA: boolean, transB: boolean): { step: () => Promise<void>; dispose: () => void };
  /** A training step of an MLP with `optimizer.minimize` (tf.variableGrads + Adam's update). */
  mlp(spec: MlpSpec): PeerTrainStep;
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
    // tfjs-core's Node bundle has no gradients (the @tensorflow/tfjs union package registers them);
    // the ESM gradient configs, bundled from this literal, register into tfjs's global registry.
    await import('@tensorflow/tfjs-core/dist/register_all_gradients.js');
  } catch (err) {
    return { skipped: `tfjs not installed (${(err as Error).message.split('\n')[0]})` };
  }
  // The kernels are registered for the name 'webgpu': replace its factory with one on our device.
  tf.removeBackend('webgpu');
  tf.registerBackend('webgpu', () => new webgpu.WebGPUBackend(g.device, g.adapter.info), 10);
  if (!(await tf.setBackend('webgpu'))) return { skipped: 'tfjs could not start its webgpu backend' };
  await tf.ready();
  const backend = tf.backend();
  // Counts tfjs's submits and the dispatches each carried; flush() submits what is pending.
  const counts = { dispatches: 0, submits: 0 };
  const submitQueue = backend.submitQueue.bind(backend);
  backend.submitQueue = () => {
    counts.dispatches += backend.dispatchCountInPass;
    counts.submits++;
    submitQueue();
  };
  const flush = async () => {
    backend.ensureCommandEncoderReady();
    backend.endComputePassEncoder();
    backend.submitQueue();
    await gpuWait(g.device.queue.onSubmittedWorkDone());
  };
  return {
    version: tf.version_core ?? 'unknown',
    matmul(aShape, bShape, transA, transB) {
      const a = tf.tensor(random(numel(aShape)), aShape, 'float32');
      const b = tf.tensor(random(numel(bShape)), bShape, 'float32');
      return {
        step: async () => {
          const c = tf.matMul(a, b, transA, transB);
          await flush();
          c.dispose();
        },
        dispose: () => {
          a.dispose();
          b.dispose();
        },
      };
    },
    mlp(spec) {
      const x = tf.tensor(spec.x, [spec.batch, spec.layers[0]!.inputs], 'float32');
      const labels = tf.tensor(spec.labels, [spec.batch], 'int32');
      const onehot = tf.tidy(() => tf.oneHot(labels, spec.classes));
      const vars = spec.layers.flatMap((l) => [
        tf.variable(tf.tensor(l.weight, [l.inputs, l.outputs], 'float32')),
        tf.variable(tf.tensor(l.bias, [l.outputs], 'float32')),
      ]);
      const opt = tf.train.adam(spec.lr, spec.betas[0], spec.betas[1], spec.eps);
      const loss = () => {
        let h = x;
        spec.layers.forEach((_, i) => {
          h = tf.add(tf.matMul(h, vars[2 * i]!), vars[2 * i + 1]!);
          if (i < spec.layers.length - 1) h = tf.relu(h);
        });
        return tf.losses.softmaxCrossEntropy(onehot, h);
      };
      const start = { ...counts };
      return {
        step: async () => {
          const cost = opt.minimize(loss, true, vars);
          await flush();
          cost.dispose();
        },
        loss: async () => {
          const value = tf.tidy(loss);
          const [v] = await value.data();
          value.dispose();
          return v!;
        },
        counts: () => ({ dispatches: counts.dispatches - start.dispatches, submits: counts.submits - start.submits }),
        dispose: () => {
          for (const t of [x, labels, onehot, ...vars]) t.dispose();
          opt.dispose();
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
    q = statistics.quantiles(times, n=4, method='inclusive')
    med = statistics.median(times)
    out.append({'wallMs': med, 'rmePct': 196.0 * sd / (len(times) ** 0.5) / mean, 'iqrPct': 100.0 * (q[2] - q[0]) / med, 'samples': len(times)})
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
