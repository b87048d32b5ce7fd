// bpt-webgpu: the engine. Tensors on the GPU, WGSL kernels with their VJPs, reverse-mode
// autodiff, optimizers, safetensors files and the Bayesian (RBF / SVGD) kernels, recorded into
// one submit per step.
//
//   import { initGpu, tensor, keep, matmul, square, sum, valueAndGrad } from 'bpt-webgpu';
//   await initGpu();
//   const W = keep(tensor(new Float32Array(6), [2, 3]));
//   const { value, grads } = valueAndGrad(() => sum(square(matmul(x, W))), [W]);
//
// The other entry points build on this one: 'bpt-webgpu/t5' (T5 checkpoints, the model,
// tokenizers) and 'bpt-webgpu/bpt' (the BPT stages, the baselines, tasks and metrics, pretraining).
// Layers, lowest first: the device and the recorder, tensors and scopes, ops, autodiff,
// optimizers, files. See docs/ARCHITECTURE.md.

// --- Device, recording, profiling -------------------------------------------------------------
/** Acquire (`initGpu`) and release (`shutdownGpu`) the process-wide WebGPU device; `gpu()` returns it. */
export { initGpu, shutdownGpu, gpu, gpuWait, GpuError } from './gpu/device.js';
export type { AdapterReport, GpuOptions, Gpu } from './gpu/device.js';
/** The recorder every op records into: `recorder().submit()`, `.sync()`, `.snapshot()`, `.pool`, `.profiler`. */
export { recorder } from './gpu/recorder.js';
export type { RecorderStats, Dispatch, BufferRange } from './gpu/recorder.js';
export type { PoolStats } from './gpu/buffers.js';
/** Per-kernel GPU time from timestamp queries, and Chrome/Perfetto traces of it. */
export { summarize as summarizeProfile, chromeTrace, chromeTraceChunks, writeChromeTrace, kernelFamily } from './gpu/profiler.js';
export type { KernelRecord, KernelSummary, HostSpan, TraceOptions } from './gpu/profiler.js';
/** Custom kernels: a WGSL source with the engine's binding convention, launched over tensors. */
export { grid } from './gpu/kernels.js';
export type { Kernel, Overrides } from './gpu/kernels.js';
export { uniformStruct, padTo } from './gpu/params.js';
export type { UniformStruct, Fields, FieldType, ParamValues } from './gpu/params.js';
export { launch } from './ops/launch.js';
/** Per-adapter kernel-variant tuning with an on-disk cache. */
export { tune, tunePending, tuningEnabled, tuneCachePath } from './gpu/tune.js';

// --- Tensors and lifetimes --------------------------------------------------------------------
export { Tensor, numel, readAll } from './tensor/tensor.js';
export type { DType, Shape, HostArray, HostGroup } from './tensor/tensor.js';
/** Host data to a new tensor, and host data into an existing one. */
export { tensor, write } from './tensor/create.js';
export type { HostData } from './tensor/create.js';
/** `tidy(fn)` frees every tensor fn made except its result; `keep(t)` exempts a tensor. */
export { tidy, keep } from './tensor/scope.js';
export { fill, zeros, ones } from './ops/fill.js';

// --- Ops (each differentiable unless noted) ---------------------------------------------------
export {
  neg, exp, log, sqrt, rsqrt, relu, gelu, tanh, sigmoid, abs, square, reciprocal, scale, shift, powScalar,
  add, sub, mul, div, pow, maximum, minimum, equal, greater, less,
} from './ops/elementwise.js';
export { broadcastShapes } from './ops/broadcast.js';
export { sum, sumTo, expand } from './ops/sum.js';
export { mean, max, argmax } from './ops/reduce.js';
export { matmul, matmulVariants, matmulChoice, tuneMatmul, MATMUL_VARIANTS } from './ops/matmul.js';
export type { MatmulOptions, MatmulVariant } from './ops/matmul.js';
export { softmax, logSoftmax } from './ops/softmax.js';
export type { SoftmaxOptions } from './ops/softmax.js';
export { rmsNorm } from './ops/rmsnorm.js';
export { crossEntropy, checkLabels } from './ops/cross_entropy.js';
export type { CrossEntropyOptions, Reduction } from './ops/cross_entropy.js';
export { dropout } from './ops/dropout.js';
export { nonFiniteCounts, nonFiniteAt } from './ops/finite.js';
export type { DropoutOptions } from './ops/dropout.js';
export { embedding, checkIds } from './ops/embedding.js';
export { reshape } from './ops/reshape.js';
export { permute, transpose, slice, sliceAxis, pad, concat, tile, cast, gatherRows, where } from './ops/layout.js';

// --- Autodiff and optimizers ------------------------------------------------------------------
/** `valueAndGrad(fn, wrt)`: a scalar, its gradients and (fn returning `{ value, aux }`) extra outputs; nothing is recorded outside it. */
export { valueAndGrad } from './autograd/grad.js';
export type { Aux, GradOptions, ValueAndGrad } from './autograd/grad.js';
export { noGrad, record } from './autograd/tape.js';
export type { Vjp, VjpContext } from './autograd/tape.js';
export { Optimizer } from './optim/optimizer.js';
export type { ArenaGroup, BaseOptions, GroupSpec, ParamGroup, OptimizerState } from './optim/optimizer.js';
/** `Arena`: parameters as aligned views of one buffer, so an optimizer updates a whole group at once (`opt.gradTargets()`). */
export { Arena, arenaLayout, arenaFits } from './tensor/arena.js';
export { SGD } from './optim/sgd.js';
export type { SgdOptions } from './optim/sgd.js';
export { AdamW } from './optim/adamw.js';
export type { AdamWOptions } from './optim/adamw.js';
export { Adafactor } from './optim/adafactor.js';
export type { AdafactorOptions } from './optim/adafactor.js';
export { constantSchedule, warmupConstantSchedule, linearWarmupDecaySchedule } from './optim/schedule.js';
export type { Schedule } from './optim/schedule.js';

// --- Step capture and replay --------------------------------------------------------------------
/** `capture(step)`: a step with fixed shapes recorded once, then replayed by its dispatches alone. */
export { capture } from './jit/capture.js';
export type { CaptureOptions, CapturedInputs, CapturedStep, CaptureStats, StepInputs, StepOutputs } from './jit/capture.js';
export { Scalar } from './tensor/scalar.js';

// --- Files: safetensors and host tensors --------------------------------------------------------
export { readSafetensors, SafetensorsError, SafetensorsReader } from './io/safetensors.js';
export type { SafetensorsFile } from './io/safetensors.js';
export { writeSafetensors } from './io/safetensors_writer.js';
export { assertFinite, toFloat32, toInt32, DtypeError, NonFiniteError } from './io/dtype.js';
export type { HostTensor } from './io/dtype.js';

// --- Bayesian kernels (usable without T5) -----------------------------------------------------
/** RBF kernel with the median-heuristic bandwidth, the SVGD direction, and the SVGD code's RMSProp. */
export { rbfKernel, readBandwidth, MAX_PARTICLES } from './bayes/rbf.js';
export type { RbfOptions, RbfResult, Bandwidth } from './bayes/rbf.js';
export { svgdDirection, kernelStats, readKernelStats, kernelStatsFrom } from './bayes/svgd.js';
export type { SvgdResult, KernelStats } from './bayes/svgd.js';
export { SvgdRmsprop } from './bayes/rmsprop.js';
