// A `bpt pretrain` step (issues 14 and 15): full weight training of a T5 v1.1 from random init
// (src/pretrain/init.ts) with Adafactor as `bpt pretrain` configures it, no dropout, on synthetic
// token batches, recorded by the same function the command records (recordStepOn, src/train/step.ts),
// eagerly and replayed from a capture (src/jit), side by side. Reports tokens/s (encoder + decoder
// tokens), step ms, dispatches, host ms to record and submit, the step's FLOPs as achieved GFLOP/s
// and, beside them, the best matmul GFLOP/s of this adapter at the step's own matmul shapes
// (every variant of the matmul family, measured in the same run). The per-kernel GPU time of the
// replayed step (timestamp queries) is printed, and written as a trace with --trace=FILE.
// Default: the embedded model chosen for issue 15 (gated-gelu, d 128, 4 x 32 heads, d_ff 384,
// 3 + 2 layers, vocab 8192, batch 32 x 64 -> 16); --preset=byte is the old byte model (d 96, 2 + 2,
// d_ff 256, vocab 384, 16 x 128 -> 32); every size can be set by a flag.
//   node dist/bench/pretrain.js [--preset=sp8k|byte] [--d-model N] [--heads N] [--d-kv N] [--d-ff N]
//     [--enc-layers N] [--dec-layers N] [--vocab N] [--ff gated-gelu|relu] [--batch N] [--input N]
//     [--target N] [--iters N] [--no-matmul] [--quick] [--trace=FILE] [--out=FILE]
import { loadavg } from 'node:os';
import { gpu, initGpu, shutdownGpu } from '../src/gpu/device.js';
import type { KernelRecord } from '../src/gpu/profiler.js';
import { capture, type CapturedInputs } from '../src/jit/capture.js';
import { makeT5Config, t5ParameterCount, type T5Config } from '../src/nn/t5/config.js';
import type { Seq2SeqBatch } from '../src/nn/t5/seq2seq.js';
import { disposeModel, modelFromCheckpoint } from '../src/nn/t5/weights.js';
import { matmul, matmulVariants, type MatmulOptions } from '../src/ops/matmul.js';
import { initCheckpoint } from '../src/pretrain/init.js';
import { tensor } from '../src/tensor/create.js';
import { keep, tidy } from '../src/tensor/scope.js';
import { readAll } from '../src/tensor/tensor.js';
import type { LoadedModel } from '../src/train/model.js';
import { makeOptimizer } from '../src/train/optimizers.js';
import { recordStepOn } from '../src/train/step.js';
import { ByT5Tokenizer } from '../src/io/tokenizer/byt5_tokenizer.js';
import { numberFlag, suiteArgs } from './lib/args.js';
import { iterationBreakdown } from './lib/breakdown.js';
import { printTable, timeOurs, timeSideBySide, writeResults, type Row } from './lib/harness.js';
import { batchOf, type BatchShape } from './lib/t5.js';
import { pretrainFlops, type StepFlops } from './lib/flops.js';

const PRESETS = {
  sp8k: { dModel: 128, heads: 4, dKv: 32, dFf: 384, enc: 3, dec: 2, vocab: 8192, ff: 'gated-gelu', batch: 32, input: 64, target: 16 },
  byte: { dModel: 96, heads: 4, dKv: 24, dFf: 256, enc: 2, dec: 2, vocab: 384, ff: 'gated-gelu', batch: 16, input: 128, target: 32 },
} as const;

const values = suiteArgs('pretrain', {
  preset: { type: 'string', default: 'sp8k', help: `the model and batch the other flags start from: ${Object.keys(PRESETS).join(' or ')}` },
  'd-model': { type: 'string', help: 'd_model' },
  heads: { type: 'string', help: 'attention heads' },
  'd-kv': { type: 'string', help: 'width of a head' },
  'd-ff': { type: 'string', help: 'feed-forward width' },
  'enc-layers': { type: 'string', help: 'encoder layers' },
  'dec-layers': { type: 'string', help: 'decoder layers' },
  vocab: { type: 'string', help: 'vocabulary size (untied lm_head)' },
  ff: { type: 'string', help: "feed_forward_proj: 'gated-gelu' or 'relu'" },
  batch: { type: 'string', help: 'rows of a batch' },
  input: { type: 'string', help: 'encoder tokens per row' },
  target: { type: 'string', help: 'decoder tokens per row' },
  iters: { type: 'string', help: 'timed rounds (default 7, 3 with --quick)' },
  'no-matmul': { type: 'boolean', default: false, help: "skip the matmul variants' GFLOP/s at the step's shapes" },
});
const preset = PRESETS[values.preset as keyof typeof PRESETS];
if (!preset) throw new Error(`--preset: ${Object.keys(PRESETS).join(' or ')}, got '${values.preset}'`);
const num = (flag: string, v: string | undefined, d: number) => numberFlag(flag, v, d);
const ff = values.ff ?? preset.ff;
if (ff !== 'gated-gelu' && ff !== 'relu') throw new Error(`--ff: 'gated-gelu' or 'relu', got '${ff}'`);
const config: T5Config = makeT5Config({
  vocab_size: num('vocab', values.vocab, preset.vocab),
  d_model: num('d-model', values['d-model'], preset.dModel),
  num_heads: num('heads', values.heads, preset.heads),
  d_kv: num('d-kv', values['d-kv'], preset.dKv),
  d_ff: num('d-ff', values['d-ff'], preset.dFf),
  num_layers: num('enc-layers', values['enc-layers'], preset.enc),
  num_decoder_layers: num('dec-layers', values['dec-layers'], preset.dec),
  feed_forward_proj: ff,
  dropout_rate: 0,
  tie_word_embeddings: false,
});
const shape: BatchShape = {
  rows: num('batch', values.batch, values.quick ? 4 : preset.batch),
  input: num('input', values.input, values.quick ? 16 : preset.input),
  target: num('target', values.target, values.quick ? 4 : preset.target),
};
const ITERS = numberFlag('iters', values.iters, values.quick ? 3 : 7);

await initGpu();
const report = gpu().report;
const load0 = loadavg()[0]!;
process.stdout.write(`adapter: ${report.description} (${report.vendor} ${report.architecture})\n`);
const caseName = `d${config.d_model} ${config.num_layers}+${config.num_decoder_layers} ff${config.d_ff} V${config.vocab_size} B${shape.rows} x ${shape.input} -> ${shape.target}`;
const flops: StepFlops = pretrainFlops(config, shape);
const tokens = shape.rows * (shape.input + shape.target);
process.stdout.write(`case ${caseName}: ${t5ParameterCount(config)} parameters, ${tokens} tokens and ${(flops.total / 1e9).toFixed(2)} GFLOP a step ` +
  `(matmuls ${(flops.matmul / 1e9).toFixed(2)}, attention ${(flops.attention / 1e9).toFixed(2)}, lm_head ${(flops.lmHead / 1e9).toFixed(2)})\n`);

const ckpt = initCheckpoint(config, 1);
const batch = batchOf(shape, config.vocab_size, 7);
// The step as `bpt pretrain` records it: every weight trained, Adafactor as the command makes it.
const runs = [false, true].map((enabled) => {
  // The step never tokenizes: any tokenizer completes the LoadedModel.
  const lm: LoadedModel = { model: modelFromCheckpoint(ckpt, { arena: true }), tokenizer: new ByT5Tokenizer(), dir: '(random init)' };
  const params = [...lm.model.params.values()];
  const opt = makeOptimizer('adafactor', [{ name: 'model', params, lr: 1e-3 }], 0);
  const target = { prompt: () => undefined, penalty: null, params: lm.model.params };
  const step = capture(({ seed, ...b }: CapturedInputs<Seq2SeqBatch & { seed: number }>) => {
    const r = recordStepOn(lm, b, () => undefined, target, opt, { training: false, seed });
    return [r.values.loss, r.values.check];
  }, { enabled });
  let calls = 0;
  return {
    impl: `ours: pretraining step, ${enabled ? 'replay' : 'eager'}`,
    run: () => tidy(() => void step({ ...batch, seed: calls++ })),
    /** One step whose loss is read back (both runs must agree bit for bit). */
    loss: async () => {
      const [loss, check] = step({ ...batch, seed: calls++ });
      const value = (await readAll([loss!]))[0]![0]!;
      loss!.dispose();
      check!.dispose();
      return value;
    },
    dispose: () => {
      step.dispose();
      opt.dispose();
      disposeModel(lm.model);
    },
  };
});

// Eager, capture, verifying capture: the fourth call replays. Both models train on the same
// batches from the same weights, so their losses agree step for step.
for (let i = 0; i < 5; i++) {
  const [a, b] = [await runs[0]!.loss(), await runs[1]!.loss()];
  if (!Object.is(a, b)) throw new Error(`step ${i}: replayed loss ${b} differs from the eager ${a}`);
}
const sbs = await timeSideBySide(runs.map((r) => r.run), { warmup: 1, gpuIters: values.quick ? 1 : 3, wallIters: ITERS });
const rows: Row[] = [];
for (const [j, r] of runs.entries()) {
  const t = sbs.timings[j]!;
  rows.push({
    case: caseName, impl: r.impl, timing: t, flops: flops.total, dispatches: t.dispatches ?? 0, hostMs: t.recordMs ?? NaN,
    notes: {
      tokens_per_s: tokens / (t.wallMs / 1e3),
      ...(t.gpuMs ? { tokens_per_s_gpu: tokens / (t.gpuMs / 1e3) } : {}),
      gflops_wall: flops.total / (t.wallMs * 1e6),
      host_ms: t.recordMs ?? NaN,
    },
  });
}

// The matmul family's best at the step's own shapes: the encoder's feed-forward input, the head
// and the head's weight gradient, every variant this adapter runs, in the same process.
const matmulRows: Row[] = [];
if (!values['no-matmul']) {
  const e = shape.rows * shape.input, d = shape.rows * shape.target;
  const shapes: Array<{ name: string; a: number[]; b: number[]; opts: MatmulOptions }> = [
    { name: `ff in [${e},${config.d_model}]x[${config.d_model},${config.d_ff}]`, a: [e, config.d_model], b: [config.d_model, config.d_ff], opts: {} },
    { name: `lm_head [${d},${config.d_model}]x[${config.d_model},${config.vocab_size}]`, a: [d, config.d_model], b: [config.d_model, config.vocab_size], opts: {} },
    { name: `lm_head dW [${d},${config.d_model}]^T x [${d},${config.vocab_size}]`, a: [d, config.d_model], b: [d, config.vocab_size], opts: { transA: true } },
  ];
  const fill = (n: number) => Float32Array.from({ length: n }, (_, i) => Math.sin(i * 0.618) * 0.5);
  for (const s of shapes) {
    const a = keep(tensor(fill(s.a[0]! * s.a[1]!), s.a));
    const b = keep(tensor(fill(s.b[0]! * s.b[1]!), s.b));
    const m = s.opts.transA ? s.a[1]! : s.a[0]!, k = s.opts.transA ? s.a[0]! : s.a[1]!;
    for (const variant of matmulVariants(s.a, s.b, s.opts)) {
      const timing = await timeOurs(() => tidy(() => void matmul(a, b, { ...s.opts, variant })), { warmup: 1, gpuIters: 3, minSamples: 3, maxTime: 0.5 });
      matmulRows.push({ case: s.name, impl: `ours:${variant}`, timing, flops: 2 * m * k * s.b[1]! });
    }
    a.dispose();
    b.dispose();
  }
}
// A replay has no timestamp queries (its gpu ms is 0): its rate is from wall time.
const gflops = (r: Row) => r.flops! / ((r.timing.gpuMs || r.timing.wallMs) * 1e6);
const bestMatmul = matmulRows.length ? matmulRows.reduce((x, y) => (gflops(y) > gflops(x) ? y : x)) : null;
// The replay's rate is by wall time: the best matmul's by wall time is the like-for-like one.
const bestWall = matmulRows.length ? Math.max(...matmulRows.map((r) => r.flops! / (r.timing.wallMs * 1e6))) : NaN;
for (const r of rows) {
  r.notes!.gflops = gflops(r);
  if (bestMatmul) Object.assign(r.notes!, { best_matmul_gflops: gflops(bestMatmul), best_matmul_gflops_wall: bestWall });
}
printTable([...rows, ...matmulRows]);
const [eager, replay] = rows as [Row, Row];
process.stdout.write(`replayed step: ${(replay.notes!.tokens_per_s as number).toFixed(0)} tokens/s (wall), ${replay.timing.wallMs.toFixed(1)} ms, ` +
  `${replay.dispatches} dispatches, host ${replay.hostMs!.toFixed(1)} ms (eager ${eager.hostMs!.toFixed(1)} ms), ${gflops(replay).toFixed(2)} GFLOP/s` +
  (bestMatmul ? ` against the best matmul's ${gflops(bestMatmul).toFixed(2)} by GPU time (${bestMatmul.impl} on ${bestMatmul.case}), ${bestWall.toFixed(2)} by wall time` : '') + '\n');

// Where the step's GPU time goes, per kernel: the eager step's median profiled round (a replay
// runs the same dispatches, without timestamp queries).
const eagerRecords: KernelRecord[][] = sbs.records[0]!.length ? [sbs.records[0]!] : [];
if (eagerRecords.length) {
  const bd = iterationBreakdown(eagerRecords);
  process.stdout.write(`\nGPU time of the step by kernel (${bd.gpuMs.toFixed(1)} ms summed, ${bd.spanMs.toFixed(1)} ms first to last):\n`);
  for (const k of bd.kernels.slice(0, 25)) process.stdout.write(`  ${k.kernel.padEnd(36)} ${String(k.calls).padStart(5)}  ${k.ms.toFixed(2).padStart(8)} ms  ${((100 * k.ms) / bd.gpuMs).toFixed(1).padStart(5)}%\n`);
}
process.stdout.write(`load average ${load0.toFixed(2)} -> ${loadavg()[0]!.toFixed(2)}\n`);
const path = writeResults('pretrain', [...rows, ...matmulRows], { config, shape, flops, iters: ITERS, loadAverage: [load0, loadavg()[0]] });
process.stdout.write(`wrote ${path}\n`);
for (const r of runs) r.dispose();
for (const t of Object.values(batch)) t.dispose();
await shutdownGpu();
