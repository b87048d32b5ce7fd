// The public library API of bpt-webgpu: what embedders import.
//
//   import { initGpu, tensor, matmul, valueAndGrad, AdamW, tidy } from 'bpt-webgpu';
//   await initGpu();
//   const W = keep(tensor(new Float32Array(6), [2, 3]));
//   const { value, grads } = valueAndGrad(() => sum(square(matmul(x, W))), [W]);
//
// Layers, lowest first: the device and the recorder (one submit per step), tensors and scopes,
// ops with their VJPs, autodiff, optimizers, the T5 model and its I/O, the Bayesian kernels, and
// the BPT pipeline with its tasks and metrics. See docs/ARCHITECTURE.md.

// --- Device, recording, profiling -------------------------------------------------------------
/** Acquire (`initGpu`) and release (`shutdownGpu`) the process-wide WebGPU device; `gpu()` returns it. */
export { initGpu, shutdownGpu, gpu, gpuWait, GpuError } from './gpu/device.js';
export type { AdapterReport, GpuOptions, Gpu } from './gpu/device.js';
/** The recorder every op records into: `recorder().submit()`, `.sync()`, `.snapshot()`, `.pool`, `.profiler`. */
export { recorder } from './gpu/recorder.js';
export type { RecorderStats, Dispatch, BufferRange } from './gpu/recorder.js';
export type { PoolStats } from './gpu/buffers.js';
/** Per-kernel GPU time from timestamp queries, and Chrome/Perfetto traces of it. */
export { summarize as summarizeProfile, chromeTrace } from './gpu/profiler.js';
export type { KernelRecord, KernelSummary } from './gpu/profiler.js';
/** Custom kernels: a WGSL source with the engine's binding convention, launched over tensors. */
export { grid, pipelineCount } from './gpu/kernels.js';
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
export type { DropoutOptions } from './ops/dropout.js';
export { embedding, checkIds } from './ops/embedding.js';
export { reshape } from './ops/reshape.js';
export { permute, transpose, slice, sliceAxis, pad, concat, tile, cast, gatherRows, where } from './ops/layout.js';

// --- Autodiff and optimizers ------------------------------------------------------------------
/** `valueAndGrad(fn, wrt)`: a scalar, its gradients and (fn returning `{ value, aux }`) extra outputs; nothing is recorded outside it. */
export { valueAndGrad } from './autograd/grad.js';
export type { Aux, ValueAndGrad } from './autograd/grad.js';
export { noGrad, record } from './autograd/tape.js';
export type { Vjp, VjpContext } from './autograd/tape.js';
export { Optimizer } from './optim/optimizer.js';
export type { BaseOptions, GroupSpec, ParamGroup, OptimizerState } from './optim/optimizer.js';
export { SGD } from './optim/sgd.js';
export type { SgdOptions } from './optim/sgd.js';
export { AdamW } from './optim/adamw.js';
export type { AdamWOptions } from './optim/adamw.js';
export { Adafactor } from './optim/adafactor.js';
export type { AdafactorOptions } from './optim/adafactor.js';
export { constantSchedule, warmupConstantSchedule, linearWarmupDecaySchedule } from './optim/schedule.js';
export type { Schedule } from './optim/schedule.js';

// --- T5 ---------------------------------------------------------------------------------------
export { T5Model } from './nn/t5/model.js';
export type { RunMode, DecoderCache } from './nn/t5/model.js';
export { parseT5Config, makeT5Config, t5ConfigToJson, t5ParameterShapes, t5ParameterCount, T5ConfigError } from './nn/t5/config.js';
export type { T5Config } from './nn/t5/config.js';
export { t5Attention, t5AttentionVariants, relativePositionBucket } from './nn/t5/attention.js';
export type { T5AttentionOptions, T5AttentionBias, T5AttentionBackward, T5AttentionVariant } from './nn/t5/attention.js';
export { modelFromCheckpoint, modelToHost, disposeModel, randomCheckpoint } from './nn/t5/weights.js';
export { seq2seq, seq2seqLogits, tokenNll } from './nn/t5/seq2seq.js';
export type { Seq2SeqBatch, Seq2SeqOutput, Seq2SeqLogits } from './nn/t5/seq2seq.js';
export { greedyGenerate, scoreCandidates } from './nn/t5/generate.js';
export type { GenerateOptions } from './nn/t5/generate.js';
export { prependPrompt } from './nn/prompt.js';
export type { PromptInput } from './nn/prompt.js';
export { addAdapters, addBiases, loadExtras } from './nn/t5/extras.js';

// --- Files ------------------------------------------------------------------------------------
export { readSafetensors, SafetensorsError } from './io/safetensors.js';
export type { SafetensorsFile } from './io/safetensors.js';
export { writeSafetensors } from './io/safetensors_writer.js';
export { toFloat32, toInt32, DtypeError } from './io/dtype.js';
export type { HostTensor } from './io/dtype.js';
export { loadHfCheckpoint, saveHfCheckpoint, CheckpointError } from './io/checkpoint.js';
export type { HfCheckpoint } from './io/checkpoint.js';
export { loadTokenizer } from './io/tokenizer/load.js';
export { T5Tokenizer } from './io/tokenizer/t5_tokenizer.js';
export { ByT5Tokenizer } from './io/tokenizer/byt5_tokenizer.js';
export type { Tokenizer } from './io/tokenizer/tokenizer.js';

// --- Bayesian kernels (usable without T5) -----------------------------------------------------
/** RBF kernel with the median-heuristic bandwidth, the SVGD direction, and the SVGD code's RMSProp. */
export { rbfKernel, readBandwidth, MAX_PARTICLES } from './bayes/rbf.js';
export type { RbfOptions, RbfResult, Bandwidth } from './bayes/rbf.js';
export { svgdDirection, kernelStats, readKernelStats, kernelStatsFrom } from './bayes/svgd.js';
export type { SvgdResult, KernelStats } from './bayes/svgd.js';
export { SvgdRmsprop } from './bayes/rmsprop.js';

// --- BPT pipeline, tasks and metrics ----------------------------------------------------------
export { runSource } from './bpt/source.js';
export { runTarget } from './bpt/target.js';
export { runEval } from './bpt/eval_stage.js';
export { sourceOptions, targetOptions, evalOptions, SOURCE_METHODS, TARGET_METHODS } from './bpt/options.js';
export type { SourceOptions, TargetOptions, EvalOptions } from './bpt/options.js';
export { saveAdapter, loadAdapter } from './bpt/peft.js';
export type { Adapter, PromptAdapter, MultitaskAdapter } from './bpt/peft.js';
export * as tasks from './tasks/index.js';

// --- Pretraining, the demo, reports -----------------------------------------------------------
/** T5 span-corruption pretraining (noise mask and sentinels as in T5's preprocessors). */
export { runPretrain } from './pretrain/pretrain.js';
export { randomSpansNoiseMask, spanCorrupt } from './pretrain/span_corruption.js';
export { runDemo } from './demo/demo.js';
/** Writes a self-contained report.html for a run directory. */
export { writeRunReport } from './report/html.js';
