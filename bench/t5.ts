// T5-small-shaped prompt tuning (issue 3): forward, and forward + gradient w.r.t. a soft prompt
// P [100, 512], of a random-weight model with t5-small's shapes (d_model 512, 8 heads of 64, d_ff
// 2048 relu, 6 + 6 layers, vocab 32128, tied head) on 8 rows of 100 prompt + 128 input tokens and
// 8 target tokens, without dropout. Reports tokens/s (encoder tokens, prompt included), dispatches
// and submits per step, peak GPU memory (pool bytes in use), the ratio (forward + prompt gradient)
// / forward (target <= 2.2), and a per-kernel GPU-time breakdown of one forward + backward step
// split into its forward and backward dispatches, with a Chrome trace of that step in <results dir>/t5-trace.json.
//   node dist/bench/t5.js [--quick] [--iters 3] [--batch 8] [--prompt 100] [--input 128] [--target 8] [--trace=FILE] [--out=FILE]
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { valueAndGrad } from '../src/autograd/grad.js';
import { gpu, initGpu, shutdownGpu } from '../src/gpu/device.js';
import { chromeTrace, type KernelRecord } from '../src/gpu/profiler.js';
import { tuningEnabled } from '../src/gpu/tune.js';
import { seq2seq } from '../src/nn/t5/seq2seq.js';
import { keep, tidy } from '../src/tensor/scope.js';
import { numberFlag, suiteArgs } from './lib/args.js';
import { kernelSplit, printKernelSplit, type KernelSplit } from './lib/breakdown.js';
import { pairedRatios, printTable, resultsDir, timeSideBySide, writeResults, type Row } from './lib/harness.js';
import { batchOf, promptOf, t5Small, type BatchShape } from './lib/t5.js';

const values = suiteArgs('t5', {
  iters: { type: 'string', help: 'timed rounds (default 3; an odd count keeps the breakdown equal to gpu ms)' },
  batch: { type: 'string', help: 'rows (default 8, 2 with --quick)' },
  prompt: { type: 'string', help: 'prompt tokens (default 100, 20 with --quick)' },
  input: { type: 'string', help: 'input tokens (default 128, 32 with --quick)' },
  target: { type: 'string', help: 'target tokens (default 8, 4 with --quick)' },
});
// --quick: the same model on a batch of 2 x (20 + 32) tokens, for a check in seconds.
const dflt = values.quick ? { iters: 3, batch: 2, prompt: 20, input: 32, target: 4 } : { iters: 3, batch: 8, prompt: 100, input: 128, target: 8 };
const ITERS = numberFlag('iters', values.iters, dflt.iters);
const shape: BatchShape = { rows: numberFlag('batch', values.batch, dflt.batch), input: numberFlag('input', values.input, dflt.input), target: numberFlag('target', values.target, dflt.target) };
const L = numberFlag('prompt', values.prompt, dflt.prompt);

await initGpu();
const report = gpu().report;
process.stdout.write(`adapter: ${report.description} (${report.vendor} ${report.architecture})\n`);
const t0 = performance.now();
const model = t5Small();
process.stdout.write(`t5-small-shaped random model built in ${((performance.now() - t0) / 1e3).toFixed(1)} s\n`);
const caseName = `B${shape.rows} x (${L}+${shape.input}) -> ${shape.target}`;
process.stdout.write(`case ${caseName}, ${ITERS} timed iterations after 1 warm-up, matmul tuning ${tuningEnabled() ? 'cache as found' : 'off'}\n`);

const batch = batchOf(shape, model.config.vocab_size, 7);
const P = keep(promptOf([L, model.config.d_model], 3));
const forward = () => tidy(() => void seq2seq(model, batch, P).loss);
const withGrad = () => tidy(() => void valueAndGrad(() => seq2seq(model, batch, P).loss, [P]));

const tokens = shape.rows * (L + shape.input);
const cases = [
  { impl: 'ours: forward', run: forward },
  { impl: 'ours: forward + prompt grad', run: withGrad },
];
// Side by side (one iteration of each per round): the ratio is what matters on a shared machine.
const sbs = await timeSideBySide(cases.map((c) => c.run), { warmup: 1, gpuIters: ITERS, wallIters: ITERS });
const { timings, records, memory: memories } = sbs;
const rows: Row[] = [];
for (const [j, c] of cases.entries()) {
  const timing = timings[j]!;
  if (timing.submits !== 1) throw new Error(`${c.impl}: ${timing.submits} submits per step, expected 1`);
  const memory = memories[j]!;
  rows.push({
    case: caseName,
    impl: c.impl,
    timing,
    notes: {
      tokens_per_s_gpu: timing.gpuMs ? tokens / (timing.gpuMs / 1e3) : NaN,
      tokens_per_s_wall: tokens / (timing.wallMs / 1e3),
      peak_MiB: memory.peak / 2 ** 20,
      step_MiB: memory.step / 2 ** 20,
      record_ms: timing.recordMs ?? NaN,
    },
  });
}
// The median over rounds of (forward + gradient) / forward, each round's pair measured back to back.
const ratio = pairedRatios(sbs, 1, 0);
rows[1]!.notes = { ...rows[1]!.notes, ratio_gpu: ratio.gpu, ratio_wall: ratio.wall, ratio_cpu: ratio.cpu };
printTable(rows);
process.stdout.write(`(forward + prompt gradient) / forward: ${ratio.gpu.toFixed(2)} (GPU), ${ratio.wall.toFixed(2)} (wall), ` +
  `${ratio.cpu.toFixed(2)} (CPU time); target <= 2.2: ${ratio.gpu <= 2.2 ? 'met' : 'MISSED'} (GPU)\n`);

let split: KernelSplit | null = null;
if (gpu().hasTimestamps) {
  // The last profiled round: a forward alone, then a forward + backward.
  const [fwdRecords, stepRecords] = records as [KernelRecord[], KernelRecord[]];
  split = kernelSplit(fwdRecords, stepRecords);
  process.stdout.write('\nGPU time of one forward + backward step by kernel (forward dispatches first, then the tape):\n');
  printKernelSplit(split, 10);
  const trace = join(resultsDir(), 't5-trace.json');
  writeFileSync(trace, chromeTrace(stepRecords));
  process.stdout.write(`trace of that step: ${trace}\n`);
}

const path = writeResults('t5', rows, {
  model: { d_model: 512, num_heads: 8, d_kv: 64, d_ff: 2048, act: 'relu', layers: '6+6', vocab: model.config.vocab_size, weights: 'random (randomCheckpoint)' },
  shape: { ...shape, prompt: L, tokensPerStep: tokens },
  ratio: { ...ratio, target: 2.2, met: ratio.gpu <= 2.2 },
  tuning: tuningEnabled() ? 'cache as found' : 'off (BPT_TUNE=0)',
  ...(split ? { breakdown: split } : {}),
});
process.stdout.write(`\nwrote ${path}\n`);
P.dispose();
for (const t of Object.values(batch)) t.dispose();
await shutdownGpu();
