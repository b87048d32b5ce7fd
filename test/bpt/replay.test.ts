// The stages' captured steps replay bit-identically: over several steps with dropout, task
// sampling and two batch shapes (padding rounds lengths to multiples of 8, so each shape gets its
// own plan), eager recording and capture + replay give the same losses and trained tensors, bit
// for bit: the BPT source step (SVGD with the SVGD code's RMSProp, statistics on logged steps),
// an MPT source step with distillation, the target step with the BPT prior (multi-target) and of
// PT, and evaluation (rank classification and greedy generation).
import { rmSync } from 'node:fs';
import { join } from 'node:path';
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { distillationLoss, distillationWeights } from '../../src/bpt/baselines/mpt.js';
import { sourceOptions, type SourceOptions } from '../../src/bpt/options.js';
import { GaussianPrior } from '../../src/bpt/prior.js';
import { LowRankPrompts, StackPrompts, type PromptModule } from '../../src/bpt/prompts.js';
import { makeModule, makeStepper, sourceRows, sourceStep, type ExtraTerm } from '../../src/bpt/source.js';
import type { CaptureStats } from '../../src/jit/capture.js';
import { tensor } from '../../src/tensor/create.js';
import { readAll, type Tensor } from '../../src/tensor/tensor.js';
import { collate, type Encoded } from '../../src/train/data.js';
import { Evaluator, type EvalSettings } from '../../src/train/eval.js';
import { disposeAll } from '../../src/train/host.js';
import { loadModel, releaseModel, type LoadedModel } from '../../src/train/model.js';
import { makeOptimizer } from '../../src/train/optimizers.js';
import { dropoutSeed, sampleTasks } from '../../src/train/sampler.js';
import { trainStep } from '../../src/train/step.js';
import { randArray, rng } from '../util/check.js';
import { tempDir, tinyModelDir } from '../util/fixtures.js';
import { initGpu } from '../util/gpu.js';

const t = suite('bpt/replay');
let root = '';
t.before(async () => {
  await initGpu();
  root = tempDir('replay');
  tinyModelDir(join(root, 'model'), 3, 0.1);
});
t.after(() => rmSync(root, { recursive: true, force: true }));

const K = 3, L = 4, SEED = 11;
const bits = (a: ArrayLike<number> & { buffer: ArrayBufferLike; byteOffset: number; length: number }) => [...new Uint32Array(a.buffer, a.byteOffset, a.length)];

/** Example `i` of `task` at step `s`: inputs of 3..8 tokens on even step pairs, 9..16 on odd ones (two padded shapes). */
function example(task: number, s: number, i: number): Encoded {
  const r = rng(1000 * s + 10 * task + i);
  const long = (s >> 1) % 2 === 1;
  const n = long ? 9 + Math.floor(r() * 8) : 3 + Math.floor(r() * 6);
  const ids = (m: number) => [...Array.from({ length: m - 1 }, () => 3 + Math.floor(r() * 250)), 1];
  return { example: { task: 'rte', id: `${s}.${task}.${i}`, fields: {}, label: i % 2 }, task, input: ids(n), target: ids(1 + Math.floor(r() * 3)) };
}

/** Reads every tensor of `outs` as bits, then frees them. */
async function bitsOf(outs: Record<string, Tensor | null>): Promise<Record<string, number[]>> {
  const present = Object.fromEntries(Object.entries(outs).filter((e): e is [string, Tensor] => e[1] !== null));
  const host = await readAll(present);
  disposeAll(present);
  return Object.fromEntries(Object.entries(host).map(([k, v]) => [k, bits(v)]));
}

interface Run {
  steps: Array<Record<string, number[]>>;
  params: Record<string, number[]>;
  replays: number;
}

/** Runs a training setup eagerly and captured; asserts that both agree bit for bit and that the captured run replayed. */
async function bothWays(run: (enabled: boolean) => Promise<Run>): Promise<void> {
  const eager = await run(false);
  const captured = await run(true);
  assert.is(eager.replays, 0);
  assert.ok(captured.replays >= 2, `${captured.replays} replays`);
  assert.equal(captured.steps, eager.steps);
  assert.equal(captured.params, eager.params);
  // Dropout, task sampling and the updates really changed the losses from step to step.
  assert.ok(new Set(eager.steps.map((s) => Object.values(s)[0]![0])).size > 2);
}

const replays = (stats: ReadonlyArray<Readonly<CaptureStats>>) => stats.reduce((n, s) => n + s.replays, 0);

function options(flags: Record<string, string>): SourceOptions {
  return sourceOptions(null, {
    model: join(root, 'model'), out: join(root, 'unused'), tasks: 'rte,mrpc,cola', 'prompt-length': String(L), seed: String(SEED), ...flags,
  });
}

async function sourceRun(o: SourceOptions, enabled: boolean, steps: number, extra?: (lm: LoadedModel) => { term: ExtraTerm; dispose(): void }): Promise<Run> {
  const lm = loadModel(o.model, null);
  const module = makeModule(o, lm);
  const stepper = makeStepper(o, module);
  const ex = extra?.(lm);
  const step = sourceStep(o, lm, module, stepper, ex?.term, { enabled });
  const out: Run = { steps: [], params: {}, replays: 0 };
  for (let s = 0; s < steps; s++) {
    const tasks = sampleTasks(K, o.taskSampling, o.seed, s);
    let i = 0;
    const picked = sourceRows(o, tasks, (task) => example(task, s, i++));
    const h = collate(picked.rows, { padId: 0, decoderStartId: 0, padMultiple: 8, promptIndex: picked.promptIndex, promptCount: module.promptCount });
    if (stepper.kind === 'gradient') stepper.opt.setLrScale(1 / (1 + s));
    out.steps.push(await bitsOf({ ...step(h, picked.scale, dropoutSeed(o.seed, s), s % 2 === 1).out }));
  }
  out.params = await bitsOf(Object.fromEntries([...module.named()].map(([k, v]) => [k, v.ref()])));
  out.replays = replays(step.stats);
  if (stepper.kind === 'rmsprop') assert.is(stepper.opt.stepCount, steps, 'a replay counts its step');
  step.dispose();
  ex?.dispose();
  stepper.opt.dispose();
  module.dispose();
  releaseModel(lm);
  return out;
}

t('BPT source step (SVGD, RMSProp, statistics on logged steps) replays bit-identically', async () => {
  // Each (shape, with/without statistics) pair is called 4 times: eager, capture, check, replay.
  const o = options({ method: 'bpt', particles: '3', 'task-sampling': '2', optimizer: 'svgd-rmsprop', lr: '0.05' });
  await bothWays((enabled) => sourceRun(o, enabled, 16));
});

t('MPT source step with distillation from teacher prompts replays bit-identically', async () => {
  const o = options({ method: 'mpt', 'task-sampling': '2' });
  const teachers = randArray(rng(5), K * L * 16);
  await bothWays((enabled) => sourceRun(o, enabled, 8, (lm) => {
    const teacher = new StackPrompts(tensor(teachers, [K, L, lm.model.config.d_model]));
    return {
      term: { weights: (h) => distillationWeights(h, 0.5), loss: (batch, w, student) => distillationLoss(lm, batch, w, student, { teacher, hidden: true }) },
      dispose: () => teacher.dispose(),
    };
  }));
});

/** A target setup: the module, the prior's penalty (or none). */
type TargetSetup = (lm: LoadedModel) => { module: PromptModule; prior: GaussianPrior | null };

async function targetRun(setup: TargetSetup, enabled: boolean, steps: number): Promise<Run> {
  const lm = loadModel(join(root, 'model'), null);
  const { module, prior } = setup(lm);
  const opt = makeOptimizer('adamw', module.groups({ p: 0.3, lowRank: 0.4 }), 1e-5);
  const step = trainStep(lm, { prompt: (b) => module.prompt(b), penalty: prior ? () => prior.penalty(module) : null, params: module.named() }, opt, true, { enabled });
  const out: Run = { steps: [], params: {}, replays: 0 };
  for (let s = 0; s < steps; s++) {
    // Multi-target batches: each row's task (and prompt) drawn anew every step.
    const r = rng(77 + s);
    const rows = Array.from({ length: 4 }, (_, i) => example(Math.floor(r() * K), s, i));
    const h = collate(rows, { padId: 0, decoderStartId: 0, padMultiple: 8, promptCount: module.promptCount });
    opt.setLrScale(1 / (1 + s));
    out.steps.push(await bitsOf({ ...step(h, dropoutSeed(SEED, s)).values }));
  }
  out.params = await bitsOf(Object.fromEntries([...module.named()].map(([k, v]) => [k, v.ref()])));
  out.replays = step.stats.replays;
  step.dispose();
  opt.dispose();
  prior?.dispose();
  module.dispose();
  releaseModel(lm);
  return out;
}

t('target step with the BPT prior (multi-target P o (U V)) replays bit-identically', async () => {
  const mu = randArray(rng(6), L * 16);
  await bothWays((enabled) => targetRun((lm) => {
    const d = lm.model.config.d_model;
    const module = new LowRankPrompts(tensor(mu, [L, d]), K, 2);
    return { module, prior: new GaussianPrior(tensor(mu, [L, d]), { sigma: 0.5, penalize: 'theta', scale: 1 }) };
  }, enabled, 8));
});

t('PT target step replays bit-identically', async () => {
  const p = randArray(rng(7), L * 16);
  await bothWays((enabled) => targetRun((lm) => ({ module: new StackPrompts(tensor(p, [1, L, lm.model.config.d_model])), prior: null }), enabled, 8));
});

for (const mode of ['rank', 'generate'] as const) {
  t(`evaluation (${mode}) with a per-task prompt replays to the same predictions`, async () => {
    // 24 rows of both lengths over the three tasks' prompts: batches of 4 in two shapes, evaluated twice.
    const rows = Array.from({ length: 24 }, (_, i) => example(i % K, i % 4 < 2 ? 0 : 2, i));
    const settings: EvalSettings = { mode, batchSize: 4, maxNewTokens: 3, maxTargetLength: 8, format: 't5', padMultiple: 8 };
    const mu = randArray(rng(8), L * 16);
    const results = [];
    for (const replay of [false, true]) {
      const lm = loadModel(join(root, 'model'), null);
      const module = new LowRankPrompts(tensor(mu, [L, lm.model.config.d_model]), K, 2, {
        U: tensor(randArray(rng(9), K * L * 2), [K, L, 2]), V: tensor(randArray(rng(10), K * 2 * 16), [K, 2, 16]),
      });
      const ev = new Evaluator(lm.model, lm.tokenizer, settings, (b) => module.prompt(b), { replay });
      const predictions = [];
      for (let epoch = 0; epoch < 2; epoch++) {
        const e = await ev.evaluate(rows);
        assert.is(e.mode, mode);
        predictions.push(e.predictions);
      }
      const stats = mode === 'rank' ? ev.stats.score : ev.stats.encode;
      results.push({ predictions, replays: stats.replays });
      ev.dispose();
      module.dispose();
      releaseModel(lm);
    }
    const [eager, captured] = results;
    assert.is(eager!.replays, 0);
    assert.ok(captured!.replays >= 4, `${captured!.replays} replays`);
    assert.equal(captured!.predictions, eager!.predictions);
    assert.equal(captured!.predictions[1], captured!.predictions[0]);
    if (mode === 'generate') assert.ok(new Set(eager!.predictions[0]).size > 1, 'the predictions differ from row to row');
  });
}

t.run();
