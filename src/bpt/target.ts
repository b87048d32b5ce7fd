// Stage 2 and the baselines it is compared with: train on the target task(s), evaluate on
// validation after every epoch, keep the best epoch's parameters, and report test with them.
// With several tasks the run is multi-target: batches mix the tasks, each row's prompt is its
// task's (BPT, MPT: a shared P and per-task U_k, V_k; other prompt methods share one prompt).
// Outputs: adapter/ (PEFT; multitask/ too for low-rank methods), attempt.safetensors or model/
// (finetune), extras.safetensors (adapter, bitfit), results.json, predictions_<split>.jsonl, run.json, log.jsonl.
import { join } from 'node:path';
import { recorder } from '../gpu/recorder.js';
import { writeDirAtomic, writeFileAtomic } from '../io/atomic.js';
import { saveHfCheckpoint } from '../io/checkpoint.js';
import { saveTokenizerFiles } from '../io/tokenizer/save.js';
import { toFiniteFloat32, type HostTensor } from '../io/dtype.js';
import { readSafetensors } from '../io/safetensors.js';
import { writeSafetensors } from '../io/safetensors_writer.js';
import { addAdapters, addBiases } from '../nn/t5/extras.js';
import { modelToHost } from '../nn/t5/weights.js';
import type { EvalResult } from '../tasks/index.js';
import { tidy } from '../tensor/scope.js';
import { readAll, type Tensor } from '../tensor/tensor.js';
import type { Resolved } from '../train/config.js';
import { collate, encodeExamples, type Encoded } from '../train/data.js';
import { loadTaskData, writeSplits, type TaskData } from '../train/datasets.js';
import { Evaluator, type PromptFor, type TaskEval } from '../train/eval.js';
import { disposeAll, namedToHost, restoreNamed, toHost, upload } from '../train/host.js';
import { trainLoop } from '../train/loop.js';
import { loadModel, modelSummary, releaseModel, type LoadedModel } from '../train/model.js';
import { makeOptimizer, makeSchedule, type ParamGroupDef } from '../train/optimizers.js';
import { Progress } from '../train/progress.js';
import { readRun, Run } from '../train/run.js';
import { dropoutSeed, epochBatches } from '../train/sampler.js';
import { trainStep, type TrainStep } from '../train/step.js';
import { firstNonFinite } from '../train/finite.js';
import { AttemptPrompt } from './baselines/attempt.js';
import { pickSource, trainProbe } from './baselines/spot.js';
import { initPrompts } from './init.js';
import { targetLr, WEIGHT_METHODS, type TargetMethod, type TargetOptions } from './options.js';
import { adapterInfo, loadAdapter, saveAdapter } from './peft.js';
import { GaussianPrior } from './prior.js';
import { LowRankPrompts, StackPrompts, type PromptModule } from './prompts.js';
import { SOURCE_FILES } from './source.js';

/** Which source method each target method builds on. */
/** Where adapter and BitFit runs keep their trained additions (HF-style names, see nn/t5/extras.ts). */
export const EXTRAS_FILE = 'extras.safetensors';

const SOURCE_OF: Partial<Record<TargetOptions['method'], string>> = { bpt: 'bpt', vanilla: 'vanilla', spot: 'spot', attempt: 'spot', mpt: 'mpt' };

/** What a target run trains. */
interface Trainable {
  module: PromptModule | null;
  prior: GaussianPrior | null;
  named: Map<string, Tensor>;
  groups: ParamGroupDef[];
  prompt: PromptFor;
  info: Record<string, unknown>;
}

/** The source run's prompt stack [N, L, d] and names, checked against the model and L. */
function sourceStack(o: TargetOptions, d: number): { stack: HostTensor<Float32Array>; names: string[] } {
  const path = join(o.source!, SOURCE_FILES.stack);
  const { tensors, metadata } = readSafetensors(path, undefined, (header) => {
    const shape = header.tensors.get('prompts')?.shape;
    if (!shape) throw new Error(`${path}: tensor "prompts" is missing`);
    const [, l, width] = shape as [number, number, number];
    if (shape.length !== 3 || width !== d) throw new Error(`${path}: prompts are [${shape.join(', ')}], the model's d_model is ${d}`);
    if (l !== o.promptLength) throw new Error(`${path}: source prompts have length ${l} but promptLength is ${o.promptLength}`);
  });
  const t = tensors.get('prompts')!;
  return { stack: { data: toFiniteFloat32(t, `${path}: tensor "prompts"`), shape: [...t.shape] }, names: JSON.parse(metadata.bpt_names ?? '[]') as string[] };
}

/**
 * Builds what `o.method` trains. `train` feeds SPoT's probe; a resumed run (`resuming`) restores
 * every trainable tensor from its checkpoint, so SPoT's retrieval is not repeated.
 */
async function build(o: TargetOptions, lm: LoadedModel, train: readonly Encoded[], resuming: boolean): Promise<Trainable> {
  const d = lm.model.config.d_model;
  const lr = { p: targetLr(o), lowRank: o.lrLowRank };
  const t = o.tasks.length;
  const info: Record<string, unknown> = {};
  if (WEIGHT_METHODS.includes(o.method)) {
    const trained =
      o.method === 'finetune' ? [...lm.model.params.values()]
      : o.method === 'adapter' ? addAdapters(lm.model, o.bottleneck, o.seed)
      : addBiases(lm.model);
    const named = new Map(trained.map((t) => [t.name!, t]));
    info.trainedParameters = trained.reduce((n, t) => n + t.size, 0);
    return { module: null, prior: null, named, groups: [{ name: o.method, params: trained, lr: lr.p }], prompt: () => undefined, info };
  }
  if (o.source !== null) {
    const src = readRun(o.source, 'source');
    if (src.method !== SOURCE_OF[o.method]) throw new Error(`${o.source}: a '${src.method}' source run; target method '${o.method}' needs a '${SOURCE_OF[o.method]}' one`);
    info.source = { dir: o.source, method: src.method, tasks: src.options.tasks };
  }
  const init = { init: o.init, initText: o.initText, promptLength: o.promptLength, seed: o.seed };
  let module: PromptModule;
  let prior: GaussianPrior | null = null;
  if (o.method === 'bpt' || o.method === 'mpt') {
    const a = loadAdapter(join(o.source!, o.method === 'bpt' ? SOURCE_FILES.mean : SOURCE_FILES.multitask), d);
    if (a.prompt.shape[0] !== o.promptLength) throw new Error(`${o.source}: the source prompt has length ${a.prompt.shape[0]} but promptLength is ${o.promptLength}`);
    module = new LowRankPrompts(upload(a.prompt), t, o.rank);
    if (o.method === 'bpt') {
      prior = new GaussianPrior(upload(a.prompt), { sigma: o.sigma, penalize: o.penalize, scale: o.priorScale === 'batch' ? 1 : 1 / train.length });
      info.prior = { sigma: o.sigma, penalize: o.penalize, scale: o.priorScale, coefficient: prior.coefficient };
    }
  } else if (o.method === 'pt') {
    module = new StackPrompts(tidy(() => initPrompts(lm.model, lm.tokenizer, { ...init, count: 1 })));
  } else if (o.method === 'vanilla') {
    const { stack } = sourceStack(o, d);
    module = new StackPrompts(upload({ data: stack.data, shape: [1, o.promptLength, d] }));
  } else {
    const { stack, names } = sourceStack(o, d);
    if (o.method === 'spot' && resuming) {
      module = new StackPrompts(upload({ data: stack.data.slice(0, o.promptLength * d), shape: [1, o.promptLength, d] }));
    } else if (o.method === 'spot') {
      const probe = await trainProbe(lm, train, {
        steps: o.spotProbeSteps, batchSize: o.batchSize, lr: lr.p, weightDecay: o.weightDecay,
        padMultiple: o.padMultiple, modelDropout: o.modelDropout, init,
      });
      const pick = pickSource(probe, stack);
      info.spot = { chosen: names[pick.index] ?? pick.index, similarities: Object.fromEntries(pick.similarities.map((s, i) => [names[i] ?? String(i), s])) };
      const size = o.promptLength * d;
      module = new StackPrompts(upload({ data: stack.data.slice(pick.index * size, (pick.index + 1) * size), shape: [1, o.promptLength, d] }));
    } else {
      const target = tidy(() => initPrompts(lm.model, lm.tokenizer, { ...init, count: 1 }));
      const P = tidy(() => target.view([o.promptLength, d]));
      target.dispose();
      module = new AttemptPrompt(lm.model, P, upload(stack), { dim: o.attemptDim, temperature: o.attemptTemperature, seed: o.seed });
      info.attempt = { sources: names, temperature: (module as AttemptPrompt).temperature };
    }
  }
  const m = module;
  return { module: m, prior, named: m.named(), groups: m.groups(lr), prompt: (batch) => m.prompt(batch), info };
}

/** Where an evaluation reports: rows of `task` done, and rows done over all tasks. */
type EvalReport = (task: string, done: number, total: number, doneAll: number) => void;

/** The evaluator of a run's validation and test splits (its captured steps serve every epoch). */
function makeEvaluator(lm: LoadedModel, o: TargetOptions, prompt: PromptFor): Evaluator {
  return new Evaluator(lm.model, lm.tokenizer, {
    mode: o.evalMode, batchSize: o.evalBatchSize, maxNewTokens: o.maxNewTokens, maxTargetLength: o.maxTargetLength,
    format: o.format, padMultiple: o.padMultiple,
  }, prompt);
}

/** Per-task evaluation of one split with the current parameters. */
async function evaluateSplit(ev: Evaluator, rows: readonly Encoded[][], tasks: readonly string[], report: EvalReport): Promise<TaskEval[]> {
  const out: TaskEval[] = [];
  let before = 0;
  for (const [k, r] of rows.entries()) {
    out.push(await ev.evaluate(r, (n) => report(tasks[k]!, n, r.length, before + n)));
    before += r.length;
  }
  return out;
}

const summary = (evals: readonly TaskEval[], tasks: readonly string[]): string =>
  evals.map((e, k) => `${tasks[k]} ${e.result.score.toFixed(2)}`).join(' | ');

const average = (evals: readonly TaskEval[]): number => evals.reduce((a, e) => a + e.result.score, 0) / evals.length;

interface Best {
  score: number;
  epoch: number;
}

/** Writes the trained prompt / model in its interoperable form; returns the files written. */
async function writeOutputs(o: TargetOptions, run: Run, lm: LoadedModel, tr: Trainable): Promise<Record<string, string>> {
  const info = adapterInfo(lm);
  const m = tr.module;
  if (m === null && o.method === 'finetune') {
    const host = await modelToHost(lm.model);
    writeDirAtomic(run.path('model'), (tmp) => {
      saveHfCheckpoint(tmp, lm.model.config, host);
      saveTokenizerFiles(tmp, lm.tokenizer, o.tokenizer ?? o.model);
    });
    return { model: 'model' };
  }
  if (m === null) {
    const host = await namedToHost(tr.named);
    writeSafetensors(run.path(EXTRAS_FILE), host);
    return { extras: EXTRAS_FILE };
  }
  if (m instanceof AttemptPrompt) {
    await m.save(run.path('attempt.safetensors'), (tr.info.attempt as { sources: string[] }).sources);
    return { attempt: 'attempt.safetensors' };
  }
  const files: Record<string, string> = { adapter: 'adapter' };
  if (m instanceof LowRankPrompts) {
    const multi = await m.toAdapter(o.tasks);
    saveAdapter(run.path('multitask'), multi, info);
    files.multitask = 'multitask';
    if (o.tasks.length > 1) {
      saveAdapter(run.path('adapter'), multi, info);
      return files;
    }
  }
  const thetas = tidy(() => m.thetas());
  const theta = await toHost(thetas);
  thetas.dispose();
  saveAdapter(run.path('adapter'), { kind: 'prompt', prompt: { data: theta.data, shape: theta.shape.slice(1) } }, info);
  return files;
}

function scores(evals: readonly TaskEval[], tasks: readonly string[]): Record<string, EvalResult> {
  return Object.fromEntries(evals.map((e, k) => [tasks[k]!, e.result]));
}

function predictionLines(evals: readonly TaskEval[], rows: readonly Encoded[][], tasks: readonly string[]): string[] {
  return evals.flatMap((e, k) => e.predictions.map((p, i) => {
    const ex = rows[k]![i]!.example;
    return `${JSON.stringify({ task: tasks[k], id: ex.id, prediction: p, label: ex.label })}\n`;
  }));
}

/** What a completed target run produced: results.json's content and where it is. */
export interface TargetOutcome {
  out: string;
  method: TargetMethod;
  best_epoch: number;
  validation: { average: number; tasks: Record<string, EvalResult> };
  test: { average: number; tasks: Record<string, EvalResult> };
  eval_mode: string[];
  history: Array<{ epoch: number; average: number; tasks: Record<string, EvalResult> }>;
}

/** Runs (or continues) a target stage or baseline described by `o`; null when it stopped before the end (see runSource). */
export async function runTarget(o: TargetOptions, resume: boolean): Promise<TargetOutcome | null> {
  Run.check(o.out, resume);
  const data: TaskData[] = o.tasks.map((key) => loadTaskData(key, { dataDir: o.dataDir, splitSeed: o.splitSeed, maxTrain: o.maxTrain, maxEval: o.maxEval, testRest: o.testRest.includes(key) }));
  const lm = loadModel(o.model, o.tokenizer, { arena: o.method === 'finetune' });
  let tr: Trainable | null = null;
  let evaluator: Evaluator | null = null;
  let opened: Run | null = null;
  try {
    const enc = { format: o.format, maxInputLength: o.maxInputLength, maxTargetLength: o.maxTargetLength };
    const train = data.map((d, k) => encodeExamples(lm.tokenizer, d.train, k, enc));
    const validation = data.map((d, k) => encodeExamples(lm.tokenizer, d.validation, k, enc));
    const test = data.map((d, k) => encodeExamples(lm.tokenizer, d.test, k, enc));
    const union = train.flat();
    const run = Run.open(o.out, 'target', o.method, o as unknown as Resolved, resume);
    opened = run;
    writeSplits(o.out, data.map((d) => ({ ...d.splits, key: d.ref.key })));
    tr = await build(o, lm, union, run.resumed !== null);
    const t = tr;
    const ev = (evaluator = makeEvaluator(lm, o, t.prompt));
    const opt = makeOptimizer(o.optimizer as 'adamw' | 'adafactor' | 'sgd', t.groups, o.weightDecay);
    const perEpoch = Math.ceil(union.length / o.batchSize);
    const total = o.epochs * perEpoch;
    const schedule = makeSchedule(o.schedule, o.warmupSteps, total);
    let best: Best = { score: -Infinity, epoch: 0 };
    let bestTensors = new Map<string, HostTensor<Float32Array>>();
    let history: Array<{ epoch: number; average: number; tasks: Record<string, EvalResult> }> = [];
    const resumed = run.resumed;
    if (resumed) {
      restoreNamed(t.named, resumed.tensors, run.checkpointPath);
      if (resumed.optimizer) opt.loadState(resumed.optimizer);
      const extra = resumed.extra as { best: Best; history: typeof history };
      best = extra.best;
      history = extra.history;
      for (const [k, v] of resumed.tensors) if (k.startsWith('best/')) bestTensors.set(k.slice(5), v);
    }
    if (!resumed) run.setInfo({ model: modelSummary(lm), tasks: data.map((d) => ({ key: d.ref.key, train: d.train.length, validation: d.validation.length, test: d.test.length })), ...t.info });
    const { pad_token_id: padId, decoder_start_token_id: startId } = lm.model.config;
    const lrP = targetLr(o);
    let batches: number[][] = [];
    let batchesEpoch = -1;
    const penalty = t.prior && t.module ? () => t.prior!.penalty(t.module!) : null;
    const step: TrainStep = trainStep(lm, { prompt: t.prompt, penalty, params: t.named }, opt, o.modelDropout);
    let finished: boolean;
    try {
      finished = await trainLoop(run, {
        label: `target ${o.method}`,
        totalSteps: total,
        startStep: resumed?.step ?? 0,
        settings: o,
        step: async (s, log) => {
          const epoch = Math.floor(s / perEpoch);
          if (epoch !== batchesEpoch) {
            batches = epochBatches(union.length, o.batchSize, o.seed, epoch);
            batchesEpoch = epoch;
          }
          const h = collate(batches[s % perEpoch]!.map((i) => union[i]!), { padId, decoderStartId: startId, padMultiple: o.padMultiple, promptCount: t.module?.promptCount });
          opt.setLrScale(schedule(s));
          const { values: out, checked } = step(h, dropoutSeed(o.seed, s));
          try {
            const host = await readAll(out);
            const loss = host.loss[0]!;
            const nonFinite = firstNonFinite(host.check as Int32Array, checked);
            if (!log) return { loss, nonFinite };
            return { loss, nonFinite, fields: { epoch, lr: lrP * schedule(s), ...(host.penalty ? { penalty: host.penalty[0]! } : {}) } };
          } finally {
            disposeAll(out);
          }
        },
        after: async (done, progress) => {
          if (done % perEpoch !== 0) return false;
          const epoch = done / perEpoch;
          const evals = await evaluateSplit(ev, validation, o.tasks, (task, n, of) => progress.status(`eval ${task} ${n}/${of}`));
          progress.status(null);
          progress.log(`epoch ${epoch} validation: ${summary(evals, o.tasks)}`);
          const avg = average(evals);
          history.push({ epoch, average: avg, tasks: scores(evals, o.tasks) });
          run.log.write({ kind: 'eval', step: done, epoch, split: 'validation', average: avg, tasks: scores(evals, o.tasks) });
          if (avg > best.score) {
            best = { score: avg, epoch };
            bestTensors = await namedToHost(t.named);
          }
          return true;
        },
        checkpoint: async (done) => {
          const tensors = await namedToHost(t.named);
          for (const [k, v] of bestTensors) tensors.set(`best/${k}`, v);
          run.saveCheckpoint({ step: done, tensors, optimizer: await opt.state(), extra: { best, history } });
        },
      });
    } finally {
      step.dispose();
      opt.dispose();
    }
    if (!finished) return null;
    restoreNamed(t.named, bestTensors, 'best epoch');
    await recorder().sync();
    const testProgress = new Progress('test', test.reduce((a, r) => a + r.length, 0), o.progress);
    let testEvals: TaskEval[];
    try {
      testEvals = await evaluateSplit(ev, test, o.tasks, (_task, _n, _of, all) => testProgress.update(all));
      testProgress.log(`test (best epoch ${best.epoch}): ${summary(testEvals, o.tasks)}`);
    } finally {
      testProgress.stop();
    }
    const files = await writeOutputs(o, run, lm, t);
    const results: Omit<TargetOutcome, 'out'> = {
      method: o.method,
      best_epoch: best.epoch,
      validation: { average: best.score, tasks: history.find((h) => h.epoch === best.epoch)?.tasks ?? {} },
      test: { average: average(testEvals), tasks: scores(testEvals, o.tasks) },
      eval_mode: testEvals.map((e) => e.mode),
      history,
    };
    writeFileAtomic(run.path('results.json'), [`${JSON.stringify(results, null, 2)}\n`]);
    writeFileAtomic(run.path('predictions_test.jsonl'), predictionLines(testEvals, test, o.tasks));
    run.complete({ files: { ...files, results: 'results.json', predictions: 'predictions_test.jsonl' }, best_epoch: best.epoch, validation: best.score, test: results.test.average }, o.keepCheckpoint);
    return { out: o.out, ...results };
  } finally {
    evaluator?.dispose();
    if (tr) {
      tr.module?.dispose();
      tr.prior?.dispose();
    }
    releaseModel(lm);
    opened?.close();
  }
}
