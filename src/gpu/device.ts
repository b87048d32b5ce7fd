// The only place that talks to dawn.node to get a device. Everything above asks `gpu()`.
//
// Two dawn.node traps, both measured, are handled here:
//  1. The object that `create()` returns must stay reachable for the life of the process, or Dawn
//     later crashes at random inside ProcessEvents. `Gpu.instance` holds it.
//  2. While a GPU promise is pending dawn.node re-queues setImmediate(ProcessEvents), so a plain
//     `await` spins the JS thread at 100% and steals a core from lavapipe. `gpuWait` busy-polls for
//     about a millisecond (tiny work stays fast) and then sleeps in short slices between turns.
import { create, globals } from 'webgpu';

// GPUBufferUsage, GPUMapMode, ... are globals in browsers; dawn.node hands them over as an object.
// Installed at import so that every module above can use them in top-level constants.
Object.assign(globalThis, globals);

/** What the engine learned about its adapter; printed by benchmarks and the CLI. */
export interface AdapterReport {
  vendor: string;
  architecture: string;
  device: string;
  description: string;
  /**
   * True for CPU (software) adapters such as Mesa's lavapipe; kernel variants are chosen by it.
   * False on any adapter when `initGpu` was asked for a discrete GPU's variants (`variants: 'gpu'`).
   */
  isSoftware: boolean;
  features: string[];
  subgroupMinSize: number;
  subgroupMaxSize: number;
  maxBufferSize: number;
  maxStorageBufferBindingSize: number;
  maxComputeWorkgroupSizeX: number;
  maxComputeInvocationsPerWorkgroup: number;
  maxComputeWorkgroupStorageSize: number;
}

/** Options for `initGpu`. */
export interface GpuOptions {
  /** Extra dawn.node toggles, e.g. `['enable-dawn-features=allow_unsafe_apis']`. */
  dawnFlags?: string[];
  /** Power preference passed to requestAdapter. */
  powerPreference?: GPUPowerPreference;
  /** Ask for no optional features (to test the portable kernel paths). */
  portable?: boolean;
  /**
   * 'gpu': choose the kernel variants a discrete GPU gets even on a software adapter, so that
   * the host cost of a GPU's dispatch list can be measured anywhere (benchmarks). Default 'adapter'.
   */
  variants?: 'adapter' | 'gpu';
}

/** An error the GPU reported, with the engine operations that were in flight when it happened. */
export class GpuError extends Error {
  override name = 'GpuError';
}

const OPTIONAL_FEATURES: GPUFeatureName[] = ['timestamp-query', 'shader-f16', 'subgroups'];

export class Gpu {
  /** The GPU object from dawn.node, kept reachable on purpose (trap 1). */
  readonly instance: GPU;
  readonly adapter: GPUAdapter;
  readonly device: GPUDevice;
  readonly report: AdapterReport;
  readonly hasTimestamps: boolean;
  readonly hasF16: boolean;
  readonly hasSubgroups: boolean;
  /** Set once the device is lost or destroyed; every later use throws it. */
  lostError: GpuError | null = null;
  private uncaptured: GpuError | null = null;

  private constructor(instance: GPU, adapter: GPUAdapter, device: GPUDevice, variants: 'adapter' | 'gpu') {
    this.instance = instance;
    this.adapter = adapter;
    this.device = device;
    const feats = (f: GPUFeatureName) => device.features.has(f);
    this.hasTimestamps = feats('timestamp-query');
    this.hasF16 = feats('shader-f16');
    this.hasSubgroups = feats('subgroups');
    const info = adapter.info as GPUAdapterInfo & { subgroupMinSize?: number; subgroupMaxSize?: number };
    const description = info.description || `${info.vendor} ${info.architecture} ${info.device}`.trim();
    this.report = {
      vendor: info.vendor,
      architecture: info.architecture,
      device: info.device,
      description,
      isSoftware: variants === 'adapter' && /llvmpipe|lavapipe|swiftshader|software|cpu/i.test(`${description} ${info.architecture} ${info.vendor}`),
      features: [...device.features].sort(),
      subgroupMinSize: info.subgroupMinSize ?? 0,
      subgroupMaxSize: info.subgroupMaxSize ?? 0,
      maxBufferSize: device.limits.maxBufferSize,
      maxStorageBufferBindingSize: device.limits.maxStorageBufferBindingSize,
      maxComputeWorkgroupSizeX: device.limits.maxComputeWorkgroupSizeX,
      maxComputeInvocationsPerWorkgroup: device.limits.maxComputeInvocationsPerWorkgroup,
      maxComputeWorkgroupStorageSize: device.limits.maxComputeWorkgroupStorageSize,
    };
    device.lost.then((info) => {
      if (info.reason !== 'destroyed') this.lostError = new GpuError(`GPU device lost: ${info.message}`);
      else this.lostError ??= new GpuError('GPU device was destroyed (shutdownGpu was called)');
    });
    device.addEventListener('uncapturederror', (ev) => {
      const e = (ev as GPUUncapturedErrorEvent).error;
      this.uncaptured ??= new GpuError(`uncaptured GPU ${e.constructor.name}: ${e.message}`);
    });
  }

  static async create(opts: GpuOptions = {}): Promise<Gpu> {
    const instance = create(opts.dawnFlags ?? []);
    const adapter = await instance.requestAdapter(opts.powerPreference ? { powerPreference: opts.powerPreference } : undefined);
    if (!adapter) {
      throw new GpuError(
        'no WebGPU adapter found: Dawn needs a Vulkan driver. On Debian bookworm without a GPU install Mesa 25 ' +
          '(mesa-vulkan-drivers from bookworm-backports); see .ci/setup-vulkan.sh',
      );
    }
    const requiredFeatures = opts.portable ? [] : OPTIONAL_FEATURES.filter((f) => adapter.features.has(f));
    const l = adapter.limits;
    const device = await adapter.requestDevice({
      requiredFeatures,
      requiredLimits: {
        maxBufferSize: l.maxBufferSize,
        maxStorageBufferBindingSize: l.maxStorageBufferBindingSize,
        maxStorageBuffersPerShaderStage: l.maxStorageBuffersPerShaderStage,
        maxComputeWorkgroupSizeX: l.maxComputeWorkgroupSizeX,
        maxComputeWorkgroupSizeY: l.maxComputeWorkgroupSizeY,
        maxComputeInvocationsPerWorkgroup: l.maxComputeInvocationsPerWorkgroup,
        maxComputeWorkgroupStorageSize: l.maxComputeWorkgroupStorageSize,
        maxComputeWorkgroupsPerDimension: l.maxComputeWorkgroupsPerDimension,
      },
    });
    return new Gpu(instance, adapter, device, opts.variants ?? 'adapter');
  }

  /** Throws if the device is gone or reported an error nobody captured. */
  check(): void {
    if (this.lostError) throw this.lostError;
    if (this.uncaptured) {
      const e = this.uncaptured;
      this.uncaptured = null;
      throw e;
    }
  }
}

let current: Promise<Gpu> | null = null;
let ready: Gpu | null = null;

/** Acquires the process-wide device (once). Later calls return the same one; options apply to the first. */
export function initGpu(opts: GpuOptions = {}): Promise<Gpu> {
  current ??= Gpu.create(opts).then((g) => {
    ready = g;
    // Dawn keeps the process alive until its device is gone; release it when Node is otherwise done.
    process.once('beforeExit', () => void shutdownGpu());
    return g;
  });
  return current;
}

/** The device, which `initGpu` must have acquired first (all tensor code is synchronous). */
export function gpu(): Gpu {
  if (!ready) throw new GpuError('GPU not initialised: await initGpu() before creating tensors');
  ready.check();
  return ready;
}

const shutdownHooks: Array<() => void> = [];
/** Lets lower layers (buffer pool, pipeline cache) forget device objects at shutdown. */
export function onShutdown(fn: () => void): void {
  shutdownHooks.push(fn);
}

/** Destroys the device so the process can exit promptly. A later initGpu starts a new one. */
export async function shutdownGpu(): Promise<void> {
  const g = ready;
  current = null;
  ready = null;
  if (!g) return;
  for (const fn of shutdownHooks) fn();
  g.device.destroy();
}

const sleepCell = new Int32Array(new SharedArrayBuffer(4));
const nextTurn = () => new Promise<void>((resolve) => setImmediate(resolve));

/**
 * Awaits a GPU promise without spinning the JS thread (trap 2): poll for ~1 ms, then sleep
 * 0.25 ms slices between event-loop turns so lavapipe's worker threads keep both cores.
 */
export async function gpuWait<T>(p: Promise<T>): Promise<T> {
  let done = false;
  p.then(
    () => (done = true),
    () => (done = true),
  );
  const t0 = performance.now();
  while (!done) {
    if (performance.now() - t0 > 1) Atomics.wait(sleepCell, 0, 0, 0.25);
    await nextTurn();
  }
  return p;
}
