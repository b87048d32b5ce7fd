// BPT's source stage on a t5-small-shaped random model (issue 4), M = 5 particles x K = 6 tasks =
// 30 rows of a 100-token prompt + up to 128 input tokens and up to 8 target tokens:
//  (a) the SVGD kernels (svgdDirection + kernelStats) for M = 5, D = 76,800 (T5-base's prompt
//      size) and for this model's own prompt size, against one BPT source step: target < 2%;
//  (b) one BPT source step (sourceObjective of src/bpt/source.ts: one batched forward/backward with
//      a per-row prompt index and per-row-weighted token NLL, then svgdDirection and AdamW on -phi,
//      as its sourceStep does on steps that log nothing) against one prompt-tuning step on the same
//      30 rows (recordStepOn of src/train/step.ts: one prompt for every row, mean loss, AdamW):
//      target <= 1.2x.
// Both steps use the model's dropout (bpt source's default) and one submit each (asserted); they
// take turns, one iteration each per round. A full-shape step takes minutes on a software adapter:
// it gets one round by default, and a small shape (same model and rows, 10 + 16 tokens, up to 4
// targets) is the quick check.
//   node dist/bench/bpt.js [--shape full|small|both] [--iters 3 (small)] [--full-iters 1] [--quick (= --shape small)] [--trace=FILE] [--out=FILE]
import { kernelStats, svgdDirection } from '../src/bayes/svgd.js';
import { StackPrompts } from '../src/bpt/prompts.js';
import { sourceObjective, sourceRows, uploadSourceBatch } from '../src/bpt/source.js';
import { gpu, initGpu, shutdownGpu } from '../src/gpu/device.js';
import { ByT5Tokenizer } from '../src/io/tokenizer/byt5_tokenizer.js';
import type { RunMode } from '../src/nn/t5/model.js';
import { neg } from '../src/ops/elementwise.js';
import { AdamW } from '../src/optim/adamw.js';
import { keep, tidy } from '../src/tensor/scope.js';
import { collate, uploadBatch, type Encoded } from '../src/train/data.js';
import type { LoadedModel } from '../src/train/model.js';
import { recordStepOn } from '../src/train/step.js';
import { rng } from '../src/util/random.js';
import { compareKernels, printKernelDiff, type KernelDiff } from './lib/breakdown.js';
import { numberFlag, suiteArgs } from './lib/args.js';
import { pairedRatios, printTable, timeOurs, timeSideBySide, writeResults, type Row, type Timing } from './lib/harness.js';
import { promptOf, randomIds, t5Small } from './lib/t5.js';
import { reshape } from '../src/ops/reshape.js';

const values = suiteArgs('bpt', {
  shape: { type: 'string', default: 'both', arg: 'full|small|both', help: 'which shapes (default both; --quick: small)' },
  iters: { type: 'string', help: 'timed rounds of the small shape (default 3)' },
  'full-iters': { type: 'string', help: 'timed rounds of the full shape (default 1)' },
});
const SHAPES = {
  full: { prompt: 100, input: 128, target: 8, iters: numberFlag('full-iters', values['full-iters'], 1) },
  small: { prompt: 10, input: 16, target: 4, iters: numberFlag('iters', values.iters, 3) },
};
type ShapeName = keyof typeof SHAPES;
const names: ShapeName[] = values.quick ? ['small'] : values.shape === 'both' ? ['small', 'full'] : [values.shape as ShapeName];
if (names.some((n) => !(n in SHAPES))) throw new Error(`--shape must be full, small or both, got ${values.shape}`);
const M = 5, K = 6, SVGD_D = 76_800;
const LR = 0.3, WEIGHT_DECAY = 1e-5;

await initGpu();
process.stdout.write(`adapter: ${gpu().report.description} (${gpu().report.vendor} ${gpu().report.architecture})\n`);
const model = t5Small();
const d = model.config.d_model;
// sourceObjective reads only the model; the tokenizer is never used here.
const lm: LoadedModel = { model, tokenizer: new ByT5Tokenizer(), dir: 'random t5-small-shaped weights' };
const mode = (seed: number): RunMode => ({ training: true, seed });

/** K tasks' examples: input lengths in [input/2, input] with one at the maximum, targets in [1, target]. */
function examples(shape: (typeof SHAPES)[ShapeName], seed: number): Encoded[] {
  const u = rng(seed);
  return Array.from({ length: K }, (_, task) => {
    const len = task === 0 ? shape.input : Math.ceil(shape.input / 2 + u() * (shape.input / 2));
    const tlen = task === 0 ? shape.target : 1 + Math.floor(u() * shape.target);
    const ids = (n: number, s: number) => [...randomIds(n - 1, model.config.vocab_size, s), 1];
    return { example: { task: 'sst2', id: `${task}`, fields: {}, label: null }, task, input: ids(len, seed + 2 * task), target: ids(tlen, seed + 2 * task + 1) };
  });
}

/** Times the SVGD kernels (direction + diagnostics) on random particles [M, D]. */
async function svgdTiming(D: number): Promise<Timing> {
  const x = keep(promptOf([M, D], 11)), s = keep(promptOf([M, D], 12));
  const timing = await timeOurs(() => tidy(() => void kernelStats(x, s, svgdDirection(x, s))), { warmup: 3, gpuIters: 20, minSamples: 10, maxTime: 1 });
  x.dispose();
  s.dispose();
  return timing;
}

const rows: Row[] = [];
const summary: Record<string, unknown> = {};
const svgd76800 = await svgdTiming(SVGD_D);
rows.push({ case: `M ${M}, D ${SVGD_D}`, impl: 'ours: svgdDirection + kernelStats', timing: svgd76800 });
for (const name of names) {
  const shape = SHAPES[name];
  const L = shape.prompt;
  const pool = examples(shape, 21);
  const picked = sourceRows({ method: 'bpt', particles: M, examplesPerTask: 1, particleBatch: 'shared', score: 'sum' }, [...Array(K).keys()], (t) => pool[t]!);
  const h = collate(picked.rows, { padId: 0, decoderStartId: 0, padMultiple: 8, promptIndex: picked.promptIndex });
  const caseName = `${name}: ${h.rows} rows x (${L}+${h.inputLength}) -> ${h.targetLength}`;
  process.stdout.write(`${caseName}, ${shape.iters} timed round(s) after 1 warm-up\n`);

  const stack = new StackPrompts(promptOf([M, L, d], 31));
  const bptOpt = new AdamW([stack.stack], { lr: LR, weightDecay: WEIGHT_DECAY });
  const P = keep(promptOf([L, d], 32));
  const ptOpt = new AdamW([P], { lr: LR, weightDecay: WEIGHT_DECAY });
  let seed = 0;
  const bptStep = () =>
    tidy(() => {
      const { grads } = sourceObjective(lm, stack, uploadSourceBatch(h, picked.scale, 'mean'), mode(seed++));
      const flat = reshape(stack.stack, [M, L * d]);
      const dir = svgdDirection(flat, neg(reshape(grads[0]!, [M, L * d])));
      bptOpt.step([reshape(neg(dir.phi), [M, L, d])]);
    });
  const ptStep = () => tidy(() => {
    const { values } = recordStepOn(lm, uploadBatch(h), () => P, { prompt: () => P, penalty: null, params: new Map([['prompt', P]]) }, ptOpt, mode(seed++));
    values.loss.dispose();
    values.check.dispose();
  });

  const sbs = await timeSideBySide([bptStep, ptStep], { warmup: 1, gpuIters: shape.iters, wallIters: shape.iters });
  const { timings, records, memory } = sbs;
  const [bpt, pt] = timings as [Timing, Timing];
  for (const [impl, t] of [['BPT source step', bpt], ['prompt-tuning step', pt]] as const) {
    if (t.submits !== 1) throw new Error(`${impl}: ${t.submits} submits per step, expected 1`);
  }
  const svgdOwn = await svgdTiming(L * d);
  // Median over rounds of BPT / PT, each round's pair measured back to back.
  const ratio = pairedRatios(sbs, 0, 1);
  const share = (s: Timing) => ({
    gpu_pct: s.gpuMs && bpt.gpuMs ? (100 * s.gpuMs) / bpt.gpuMs : NaN,
    wall_pct: (100 * s.wallMs) / bpt.wallMs,
  });
  const svgdShare = { [`D${SVGD_D}`]: share(svgd76800), [`D${L * d}`]: share(svgdOwn) };
  rows.push(
    { case: caseName, impl: `ours: BPT source step (M ${M})`, timing: bpt, notes: { bpt_over_pt_gpu: ratio.gpu, bpt_over_pt_wall: ratio.wall, bpt_over_pt_cpu: ratio.cpu, peak_MiB: memory[0]!.peak / 2 ** 20, record_ms: bpt.recordMs ?? NaN } },
    { case: caseName, impl: 'ours: prompt-tuning step', timing: pt, notes: { peak_MiB: memory[1]!.peak / 2 ** 20, record_ms: pt.recordMs ?? NaN } },
    {
      case: caseName,
      impl: `ours: svgd kernels, D ${L * d}`,
      timing: svgdOwn,
      notes: { pct_of_step_gpu: svgdShare[`D${L * d}`]!.gpu_pct, pct_of_d76800_gpu: svgdShare[`D${SVGD_D}`]!.gpu_pct },
    },
  );
  let diffs: KernelDiff[] = [];
  if (records[0]!.length) {
    diffs = compareKernels(records[0]!, records[1]!);
    process.stdout.write(`GPU time by kernel, BPT source step vs prompt-tuning step (${caseName}), largest differences:\n`);
    printKernelDiff(diffs, ['bpt', 'pt'], 10);
  }
  summary[name] = {
    rows: h.rows, prompt: L, inputLength: h.inputLength, targetLength: h.targetLength,
    bptOverPt: { ...ratio, target: 1.2, met: ratio.gpu <= 1.2 },
    svgdShareOfStep: { ...svgdShare, target_pct: 2, met: svgdShare[`D${SVGD_D}`]!.gpu_pct < 2 },
    kernels: diffs,
  };
  process.stdout.write(`${name}: BPT / PT = ${ratio.gpu.toFixed(3)} (GPU), ${ratio.wall.toFixed(3)} (wall), ${ratio.cpu.toFixed(3)} (CPU time); ` +
    `SVGD (D ${SVGD_D}) = ${svgdShare[`D${SVGD_D}`]!.gpu_pct.toFixed(3)}% of the BPT step (GPU)\n`);
  stack.dispose();
  bptOpt.dispose();
  P.dispose();
  ptOpt.dispose();
}
printTable(rows);
const path = writeResults('bpt', rows, {
  model: 't5-small-shaped, random weights, dropout 0.1 in training mode',
  particles: M, tasks: K, optimizer: `AdamW lr ${LR} wd ${WEIGHT_DECAY}`,
  shapes: summary,
});
process.stdout.write(`\nwrote ${path}\n`);
await shutdownGpu();
