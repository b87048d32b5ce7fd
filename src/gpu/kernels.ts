// Kernels are WGSL sources with a fixed binding convention, compiled once and cached per
// (shader, entry point, override constants):
//   @group(0) @binding(0)            var<uniform> p: Params;       per-dispatch parameters (params.ts)
//   @group(0) @binding(1 .. n)       var<storage, read> ...;       the `inputs` buffers
//   @group(0) @binding(n+1 .. n+m)   var<storage, read_write> ...; the `outputs` buffers
// Override constants (tile sizes, workgroup sizes, variant switches) specialise a shader without
// string templating.
import { gpu, GpuError, onShutdown } from './device.js';
import type { Fields, UniformStruct } from './params.js';

/** A compute shader and the shape of its bindings. */
export interface Kernel<F extends Fields = Fields> {
  /** Name used in labels, error messages and profiles, e.g. `matmul` or `unary.exp`. */
  readonly name: string;
  /** WGSL source, without the declarations of its parameter structs. */
  readonly code: string;
  /** The struct this entry point reads at binding 0. */
  readonly params: UniformStruct<F>;
  /**
   * Every parameter struct the source uses, when its entry points read different ones (one
   * module per .wgsl file must declare them all); default `[params]`.
   */
  readonly structs?: readonly UniformStruct[];
  /** Entry point; default `main`. */
  readonly entry?: string;
  /** Number of read-only storage bindings (1 .. inputs). */
  readonly inputs: number;
  /** Number of read-write storage bindings after the inputs. */
  readonly outputs: number;
  /** How many of the last inputs are `var<uniform>` bindings (each at most 64 KiB) instead of storage. */
  readonly uniformInputs?: number;
}

/** Override constants for one pipeline; numbers or booleans as WGSL allows. */
export type Overrides = Readonly<Record<string, number | boolean>>;

interface Compiled {
  pipeline: GPUComputePipeline;
  layout: GPUBindGroupLayout;
}

const modules = new Map<string, GPUShaderModule>();
const layouts = new Map<string, GPUBindGroupLayout>();
const pipelines = new Map<string, Compiled>();
/** Asynchronous compile/validation results not yet looked at; `takeCompileChecks` hands them over. */
let checks: Array<Promise<GpuError | null>> = [];

onShutdown(() => {
  modules.clear();
  layouts.clear();
  pipelines.clear();
  checks = [];
});

function bindGroupLayout(inputs: number, outputs: number, uniforms: number): GPUBindGroupLayout {
  const key = `${inputs}/${outputs}/${uniforms}`;
  let layout = layouts.get(key);
  if (!layout) {
    const entries: GPUBindGroupLayoutEntry[] = [
      { binding: 0, visibility: GPUShaderStage.COMPUTE, buffer: { type: 'uniform' } },
    ];
    for (let i = 0; i < inputs + outputs; i++) {
      entries.push({
        binding: i + 1,
        visibility: GPUShaderStage.COMPUTE,
        buffer: { type: i >= inputs ? 'storage' : i >= inputs - uniforms ? 'uniform' : 'read-only-storage' },
      });
    }
    layout = gpu().device.createBindGroupLayout({ entries, label: `layout ${key}` });
    layouts.set(key, layout);
  }
  return layout;
}

/**
 * The kernel's WGSL with its parameter structs appended: module-scope declarations may come in any
 * order, and appending keeps the line numbers of compile errors those of the .wgsl file.
 */
function sourceOf(kernel: Kernel): string {
  const structs = kernel.structs ?? [kernel.params];
  if (!structs.includes(kernel.params)) throw new GpuError(`kernel "${kernel.name}": its params ${kernel.params.name} are not among its structs`);
  return `${kernel.code}\n// Parameter structs, declared in TypeScript:\n${structs.map((s) => s.wgsl).join('')}`;
}

function shaderModule(kernel: Kernel): GPUShaderModule {
  let module = modules.get(kernel.name);
  if (!module) {
    const device = gpu().device;
    // The compilation info below reports the error with the shader's name; the scope keeps Dawn
    // from also raising it as an uncaptured error.
    device.pushErrorScope('validation');
    module = device.createShaderModule({ code: sourceOf(kernel), label: kernel.name });
    void device.popErrorScope();
    modules.set(kernel.name, module);
    checks.push(
      module.getCompilationInfo().then((info) => {
        const errors = info.messages.filter((m) => m.type === 'error');
        if (errors.length === 0) return null;
        const text = errors.map((m) => `  line ${m.lineNum}:${m.linePos}: ${m.message}`).join('\n');
        return new GpuError(`WGSL compile error in shader "${kernel.name}":\n${text}`);
      }),
    );
  }
  return module;
}

/** The cached pipeline for a kernel specialised by `overrides`. */
export function pipelineFor(kernel: Kernel, overrides: Overrides = {}): Compiled {
  const keys = Object.keys(overrides).sort();
  const key = `${kernel.name}|${kernel.entry ?? 'main'}|${keys.map((k) => `${k}=${overrides[k]}`).join(',')}`;
  let compiled = pipelines.get(key);
  if (!compiled) {
    const device = gpu().device;
    const layout = bindGroupLayout(kernel.inputs, kernel.outputs, kernel.uniformInputs ?? 0);
    const module = shaderModule(kernel);
    const constants: Record<string, number> = {};
    for (const k of keys) constants[k] = Number(overrides[k]);
    device.pushErrorScope('validation');
    const pipeline = device.createComputePipeline({
      label: key,
      layout: device.createPipelineLayout({ bindGroupLayouts: [layout] }),
      compute: { module, entryPoint: kernel.entry ?? 'main', constants },
    });
    checks.push(
      device.popErrorScope().then((e) => (e ? new GpuError(`pipeline "${key}" is invalid: ${e.message}`) : null)),
    );
    compiled = { pipeline, layout };
    pipelines.set(key, compiled);
  }
  return compiled;
}

/** Hands over (and forgets) the pending compile checks; the recorder awaits them at sync points. */
export function takeCompileChecks(): Array<Promise<GpuError | null>> {
  const out = checks;
  checks = [];
  return out;
}

/** Number of pipelines compiled so far (tests use it to see that the cache works). */
export function pipelineCount(): number {
  return pipelines.size;
}

/**
 * Workgroup grid for `count` workgroups along one logical axis: dispatches are limited to 65535
 * per dimension, so large counts spill into y. Shaders rebuild the index as
 * `wid.x + wid.y * nwg.x` and skip indices past the end.
 */
export function grid(count: number): [number, number, number] {
  const max = 65535;
  if (count <= max) return [Math.max(count, 1), 1, 1];
  const y = Math.ceil(count / max);
  return [Math.ceil(count / y), y, 1];
}
