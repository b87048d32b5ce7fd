// Stage 1: prompts learned on the source tasks.
//   bpt:     M particles sampled from the global posterior with SVGD. Each step every particle is
//            prepended to K inputs, one per source task (or kappa sampled tasks), all M x K rows in
//            ONE batched forward/backward with a per-row prompt index. The objective is
//            sum_j L_j (L_j = particle j's loss, summed or averaged over its examples), so the
//            gradient w.r.t. the stack holds in row j exactly grad L_j: the score -grad L_j needs
//            no rescaling. phi (svgdDirection) goes to the optimizer as -phi (AdamW, Adafactor,
//            SGD) or is followed by the SVGD code's RMSProp ascent.
//   vanilla: one prompt on all source tasks (the same balanced per-task batches, mean loss).
//   spot:    one prompt per source task, all trained in the same batched step.
//   mpt:     a shared P o (U_k V_k) per source task, optionally distilled from SPoT teachers.
// Outputs: prompts.safetensors (the stack), mean/ (PEFT adapter of the mean prompt), adapters/<name>/
// per prompt, multitask/ for mpt; run.json lists them.
import { join } from 'node:path';
import { valueAndGrad } from '../autograd/grad.js';
import { noGrad } from '../autograd/tape.js';
import { capture, type CaptureOptions, type CapturedInputs, type CaptureStats } from '../jit/capture.js';
import { SvgdRmsprop } from '../bayes/rmsprop.js';
import { kernelStats, kernelStatsFrom, svgdDirection } from '../bayes/svgd.js';
import type { HostTensor } from '../io/dtype.js';
import { writeSafetensors } from '../io/safetensors_writer.js';
import type { RunMode } from '../nn/t5/model.js';
import { seq2seqLogits, tokenNll, type Seq2SeqLogits } from '../nn/t5/seq2seq.js';
import { add, mul, neg } from '../ops/elementwise.js';
import { tensor } from '../tensor/create.js';
import { tidy } from '../tensor/scope.js';
import { readAll, type Tensor } from '../tensor/tensor.js';
import type { Resolved } from '../train/config.js';
import { collate, encodeExamples, lossWeights, uploadStepBatch, type Encoded, type HostBatch, type StepBatch } from '../train/data.js';
import { loadTaskData, writeSplits } from '../train/datasets.js';
import { disposeAll, namedToHost, restoreNamed, toHost, upload } from '../train/host.js';
import { firstNonFinite, recordStepCheck } from '../train/finite.js';
import { trainLoop } from '../train/loop.js';
import { loadModel, modelSummary, releaseModel, type LoadedModel } from '../train/model.js';
import { makeOptimizer, makeSchedule, type GradientOptimizer } from '../train/optimizers.js';
import { Run } from '../train/run.js';
import { dropoutSeed, sampleTasks, TaskStream, type StreamState } from '../train/sampler.js';
import { distillationLoss, distillationWeights, loadTeachers } from './baselines/mpt.js';
import { initPrompts } from './init.js';
import type { SourceMethod, SourceOptions } from './options.js';
import { adapterInfo, saveAdapter } from './peft.js';
import { LowRankPrompts, StackPrompts, type PromptModule } from './prompts.js';
import { sum } from '../ops/sum.js';
import { reshape } from '../ops/reshape.js';

/** Files of a source run, relative to its directory (recorded in run.json as info.files). */
export const SOURCE_FILES = { stack: 'prompts.safetensors', mean: 'mean', adapters: 'adapters', multitask: 'multitask' } as const;

/** One step's rows: which example of which task each row holds, and which prompt it uses. */
export interface SourceRows {
  rows: Encoded[];
  promptIndex: number[];
  /** Objective weight of each row's example loss (see the file comment). */
  scale: number[];
}

/**
 * Builds one step's rows. bpt: particle-major, each particle with `perTask` examples of each
 * sampled task (the same examples for every particle when shared). Other methods: the examples of
 * each sampled task once, prompt = 0 (vanilla), the task (spot, mpt).
 */
export function sourceRows(o: Pick<SourceOptions, 'method' | 'particles' | 'examplesPerTask' | 'particleBatch' | 'score'>,
  tasks: readonly number[], draw: (task: number) => Encoded): SourceRows {
  const out: SourceRows = { rows: [], promptIndex: [], scale: [] };
  const drawSet = (): Encoded[] => tasks.flatMap((t) => Array.from({ length: o.examplesPerTask }, () => draw(t)));
  if (o.method === 'bpt') {
    const shared = o.particleBatch === 'shared' ? drawSet() : null;
    for (let j = 0; j < o.particles; j++) {
      const rows = shared ?? drawSet();
      const scale = o.score === 'sum' ? 1 : 1 / rows.length;
      for (const r of rows) {
        out.rows.push(r);
        out.promptIndex.push(j);
        out.scale.push(scale);
      }
    }
    return out;
  }
  const rows = drawSet();
  const perTask = new Map<number, number>();
  for (const r of rows) perTask.set(r.task, (perTask.get(r.task) ?? 0) + 1);
  for (const r of rows) {
    out.rows.push(r);
    out.promptIndex.push(o.method === 'vanilla' ? 0 : r.task);
    // spot: each prompt's own task mean; vanilla, mpt: the batch mean.
    out.scale.push(o.method === 'spot' ? 1 / perTask.get(r.task)! : 1 / rows.length);
  }
  return out;
}

/** What each source method trains. */
export function makeModule(o: SourceOptions, lm: LoadedModel): PromptModule {
  const k = o.tasks.length;
  const count = o.method === 'bpt' ? o.particles : o.method === 'spot' ? k : 1;
  const init = { init: o.init, initText: o.initText, promptLength: o.promptLength, count, seed: o.seed };
  const stack = initPrompts(lm.model, lm.tokenizer, init);
  if (o.method !== 'mpt') return new StackPrompts(stack);
  const P = reshape(stack, [o.promptLength, lm.model.config.d_model]);
  stack.dispose();
  return new LowRankPrompts(P, k, o.rank);
}

/** The stepping rule: a gradient optimizer (fed -phi for bpt) or the SVGD code's RMSProp. */
export type Stepper = { kind: 'gradient'; opt: GradientOptimizer } | { kind: 'rmsprop'; opt: SvgdRmsprop };

/** The stepping rule `o` names, over the module's tensors. */
export function makeStepper(o: SourceOptions, module: PromptModule): Stepper {
  if (o.optimizer === 'svgd-rmsprop') return { kind: 'rmsprop', opt: new SvgdRmsprop({ stepSize: o.lr }) };
  return { kind: 'gradient', opt: makeOptimizer(o.optimizer, module.groups({ p: o.lr, lowRank: o.lr }), o.weightDecay) };
}

interface StepOutput {
  value: Tensor;
  rowLoss: Tensor;
  stats: Tensor | null;
  extra: Tensor | null;
  /** Non-finite counts of the tensors the step checked (train/finite.ts). */
  check: Tensor;
}

/** The batched objective, its gradients (module.named() order), the per-row example losses and the extra term. */
export interface ObjectiveOutput {
  value: Tensor;
  grads: Tensor[];
  rowLoss: Tensor;
  extra: Tensor | null;
}

/** A scalar added to the objective (MPT's distillation): token weights made on the host, and the recorded term. */
export interface ExtraTerm {
  /** Its token weights [B, T] for a batch. */
  weights(h: HostBatch): Float32Array;
  /** The term from the batch, those weights and the student's outputs. */
  loss(batch: StepBatch, weights: Tensor, student: Seq2SeqLogits): Tensor;
}

/** One source step's batch on the GPU: the rows, their prompt indices and the loss weights [B, T]. */
export interface SourceBatch extends StepBatch {
  /** sum(nll * objWeights) is the objective (lossWeights with the rows' scales). */
  objWeights: Tensor;
  /** sum_t nll[r, t] * exWeights[r, t] is row r's example loss. */
  exWeights: Tensor;
  /** The extra term's weights, when there is one. */
  extraWeights?: Tensor;
}

/** Uploads a source step's batch (tensors in the caller's scope). */
export function uploadSourceBatch(h: HostBatch, scale: readonly number[], tokenLoss: 'mean' | 'sum', extraTerm?: ExtraTerm): SourceBatch {
  const shape = [h.rows, h.targetLength];
  return {
    ...uploadStepBatch(h),
    objWeights: tensor(lossWeights(h, scale, tokenLoss), shape),
    exWeights: tensor(lossWeights(h, new Array<number>(h.rows).fill(1), tokenLoss), shape),
    ...(extraTerm ? { extraWeights: tensor(extraTerm.weights(h), shape) } : {}),
  };
}

/**
 * sum_r scale[r] * loss_r over the rows of `batch` (loss_r: the mean or sum of row r's target-token
 * NLL; the scales are in its objective weights) in one forward/backward, with the gradient w.r.t.
 * every tensor of the module. With scale[r] = 1 (or 1/n_j) for the rows of particle j, gradient row
 * j is grad L_j exactly, since no other row depends on particle j. Tensors belong to the caller's scope.
 */
export function sourceObjective(lm: LoadedModel, module: PromptModule, batch: SourceBatch, mode: RunMode, extraTerm?: ExtraTerm): ObjectiveOutput {
  const { value, grads, aux } = valueAndGrad(() => {
    const out = seq2seqLogits(lm.model, batch, module.prompt(batch), mode);
    const nll = tokenNll(out.logits, batch.labels);
    const rowLoss = noGrad(() => sum(mul(nll, batch.exWeights), 1));
    const objective = sum(mul(nll, batch.objWeights));
    const extra = extraTerm ? extraTerm.loss(batch, batch.extraWeights!, out) : null;
    return { value: extra ? add(objective, extra) : objective, aux: { rowLoss, extra } };
  }, [...module.named().values()]);
  return { value, grads, ...aux };
}

/** A source step, captured per batch shape (src/jit); call it with a step's host batch. */
export interface SourceStep {
  /** Records one step; returns tensors to read back and the names of the checked tensors. */
  (h: HostBatch, scale: readonly number[], seed: number, wantStats: boolean): { out: StepOutput; checked: string[] };
  /** Calls by how they ran: [steps without SVGD statistics, steps with]. */
  readonly stats: ReadonlyArray<Readonly<CaptureStats>>;
  dispose(): void;
}

/**
 * The source step (forward, backward, direction, update, finiteness check) as captured steps: one
 * without and one with the SVGD statistics (logged steps only), replayed per batch shape. The
 * step's host data (rows, prompt indices, loss weights, dropout seed) are its inputs.
 */
export function sourceStep(o: SourceOptions, lm: LoadedModel, module: PromptModule, stepper: Stepper, extraTerm?: ExtraTerm,
  options: CaptureOptions = {}): SourceStep {
  let checked: string[] = [];
  const body = (wantStats: boolean) => ({ seed, ...batch }: CapturedInputs<SourceBatch & { seed: number }>) => {
    const { value, grads, rowLoss, extra } = sourceObjective(lm, module, batch, { training: o.modelDropout, seed }, extraTerm);
    const out: Record<string, Tensor> = { value, rowLoss };
    if (o.method === 'bpt' && module instanceof StackPrompts) {
      const [m, l, d] = module.stack.shape as [number, number, number];
      const flat = reshape(module.stack, [m, l * d]);
      const scores = neg(reshape(grads[0]!, [m, l * d]));
      const dir = svgdDirection(flat, scores, { bandwidth: o.bandwidth });
      if (wantStats) out.stats = kernelStats(flat, scores, dir);
      if (stepper.kind === 'rmsprop') stepper.opt.step(flat, dir.phi);
      else stepper.opt.step([reshape(neg(dir.phi), [m, l, d])]);
    } else if (stepper.kind === 'gradient') stepper.opt.step(grads);
    const check = recordStepCheck({ objective: value, 'distillation loss': extra }, module.named(), grads);
    checked = check.names;
    if (extra) out.extra = extra;
    out.check = check.counts;
    return out;
  };
  // The statistics change the dispatch list: they get their own captured step.
  const steps = [capture(body(false), options), capture(body(true), options)] as const;
  const step = (h: HostBatch, scale: readonly number[], seed: number, wantStats: boolean) => {
    const captured = steps[wantStats && o.method === 'bpt' ? 1 : 0];
    const r = tidy(() => captured({ ...uploadSourceBatch(h, scale, o.tokenLoss, extraTerm), seed }));
    return { out: { value: r.value!, rowLoss: r.rowLoss!, stats: r.stats ?? null, extra: r.extra ?? null, check: r.check! }, checked };
  };
  return Object.assign(step, {
    stats: steps.map((c) => c.stats),
    dispose: () => steps.forEach((c) => c.dispose()),
  });
}

/** Per-task mean example loss (and per-particle for bpt) from one step's row losses. */
function lossFields(o: SourceOptions, rows: readonly Encoded[], promptIndex: readonly number[], rowLoss: Float32Array): Record<string, unknown> {
  const mean = (xs: number[]) => xs.reduce((a, b) => a + b, 0) / Math.max(1, xs.length);
  const byTask: Record<string, number> = {};
  o.tasks.forEach((key, t) => {
    const xs = rows.flatMap((r, i) => (r.task === t ? [rowLoss[i]!] : []));
    if (xs.length) byTask[key] = mean(xs);
  });
  const fields: Record<string, unknown> = { task_loss: byTask };
  if (o.method === 'bpt') {
    fields.particle_loss = Array.from({ length: o.particles }, (_, j) => mean(rows.flatMap((_, i) => (promptIndex[i] === j ? [rowLoss[i]!] : []))));
  }
  return fields;
}

/** Host copy of the mean over the stack's first axis [N, L, d] -> [L, d]. */
function meanPrompt(stack: HostTensor<Float32Array>): HostTensor<Float32Array> {
  const [n, l, d] = stack.shape as [number, number, number];
  const out = new Float32Array(l * d);
  for (let i = 0; i < l * d; i++) {
    let s = 0;
    for (let k = 0; k < n; k++) s += stack.data[k * l * d + i]!;
    out[i] = s / n;
  }
  return { data: out, shape: [l, d] };
}

/** Writes the source outputs (see the file comment); returns the names of the stack's prompts. */
async function writeOutputs(o: SourceOptions, run: Run, lm: LoadedModel, module: PromptModule): Promise<string[]> {
  const info = adapterInfo(lm);
  const thetas = tidy(() => module.thetas());
  const stack = await toHost(thetas);
  thetas.dispose();
  const n = stack.shape[0]!;
  const names = o.method === 'bpt' ? Array.from({ length: n }, (_, j) => `particle-${j}`) : o.method === 'vanilla' ? ['prompt'] : [...o.tasks];
  writeSafetensors(run.path(SOURCE_FILES.stack), { prompts: stack }, { format: 'pt', bpt_names: JSON.stringify(names), bpt_method: o.method });
  saveAdapter(run.path(SOURCE_FILES.mean), { kind: 'prompt', prompt: meanPrompt(stack) }, info);
  const size = stack.shape[1]! * stack.shape[2]!;
  names.forEach((name, k) => {
    const prompt = { data: stack.data.slice(k * size, (k + 1) * size), shape: stack.shape.slice(1) };
    saveAdapter(join(run.path(SOURCE_FILES.adapters), name.replace(/[^A-Za-z0-9._+-]/g, '_')), { kind: 'prompt', prompt }, info);
  });
  if (module instanceof LowRankPrompts) saveAdapter(run.path(SOURCE_FILES.multitask), await module.toAdapter(o.tasks), info);
  return names;
}

/** What a completed source run produced (also in its run.json). */
export interface SourceOutcome {
  out: string;
  method: SourceMethod;
  steps: number;
  /** The saved prompts (adapters/<name>). */
  prompts: string[];
}

/**
 * Runs (or, with `resume`, continues) the source stage described by `o`; null when it stopped
 * before the last step (--stop-after or a signal), leaving a checkpoint to resume from.
 */
export async function runSource(o: SourceOptions, resume: boolean): Promise<SourceOutcome | null> {
  Run.check(o.out, resume);
  const data = o.tasks.map((key) => loadTaskData(key, { dataDir: o.dataDir, splitSeed: o.splitSeed, maxTrain: o.maxTrain, maxEval: null }));
  const lm = loadModel(o.model, o.tokenizer);
  let module: PromptModule | null = null;
  let stepper: Stepper | null = null;
  let teachers: StackPrompts | null = null;
  let captured: SourceStep | null = null;
  let opened: Run | null = null;
  try {
    const encOpts = { format: o.format, maxInputLength: o.maxInputLength, maxTargetLength: o.maxTargetLength };
    const train = data.map((d, k) => encodeExamples(lm.tokenizer, d.train, k, encOpts));
    const run = Run.open(o.out, 'source', o.method, o as unknown as Resolved, resume);
    opened = run;
    writeSplits(o.out, data.map((d) => ({ ...d.splits, key: d.ref.key })));
    module = makeModule(o, lm);
    stepper = makeStepper(o, module);
    teachers = o.teachers === null ? null : loadTeachers(o.teachers, o.tasks, o.promptLength, lm.model.config.d_model);
    const teacher = teachers;
    const distill: ExtraTerm | undefined = teacher
      ? { weights: (h) => distillationWeights(h, o.distillWeight), loss: (batch, w, student) => distillationLoss(lm, batch, w, student, { teacher, hidden: o.distillHidden }) }
      : undefined;
    const streams = train.map((rows, k) => new TaskStream(rows.length, o.seed, k));
    const schedule = makeSchedule(o.schedule, o.warmupSteps, o.steps);
    const resumed = run.resumed;
    if (resumed) {
      restoreNamed(module.named(), resumed.tensors, run.checkpointPath);
      const extra = resumed.extra as { streams: StreamState[]; rmspropSteps?: number };
      extra.streams.forEach((s, k) => streams[k]!.load(s));
      if (stepper.kind === 'gradient' && resumed.optimizer) stepper.opt.loadState(resumed.optimizer);
      if (stepper.kind === 'rmsprop') {
        const h = resumed.tensors.get('svgd_rmsprop.H');
        stepper.opt.restore(h ? upload(h) : null, extra.rmspropSteps ?? 0);
      }
    }
    run.setInfo({
      model: modelSummary(lm),
      tasks: data.map((d) => ({ key: d.ref.key, train: d.train.length })),
      objective: o.method === 'bpt'
        ? `sum_j L_j, L_j = ${o.score} over particle j's examples of the per-example ${o.tokenLoss} token NLL; score_j = -grad L_j`
        : `per-example ${o.tokenLoss} token NLL, ${o.method === 'spot' ? 'each prompt its own task mean' : 'batch mean'}`,
    });
    const { pad_token_id: padId, decoder_start_token_id: startId } = lm.model.config;
    const mod = module, step = stepper;
    const recordStep = sourceStep(o, lm, mod, step, distill);
    captured = recordStep;
    const finished = await trainLoop(run, {
      label: `source ${o.method}`,
      totalSteps: o.steps,
      startStep: resumed?.step ?? 0,
      settings: o,
      step: async (s, log) => {
        const tasks = o.method === 'spot' ? train.map((_, k) => k) : sampleTasks(train.length, o.taskSampling, o.seed, s);
        const picked = sourceRows(o, tasks, (t) => train[t]![streams[t]!.next()]!);
        const h = collate(picked.rows, {
          padId, decoderStartId: startId, padMultiple: o.padMultiple, promptIndex: picked.promptIndex, promptCount: mod.promptCount,
        });
        const lrScale = schedule(s);
        if (step.kind === 'gradient') step.opt.setLrScale(lrScale);
        const { out, checked } = recordStep(h, picked.scale, dropoutSeed(o.seed, s), log);
        try {
          const host = await readAll(out);
          const objective = host.value[0]!;
          const rowLoss = host.rowLoss as Float32Array;
          const loss = rowLoss.reduce((a, b) => a + b, 0) / rowLoss.length;
          const nonFinite = firstNonFinite(host.check as Int32Array, checked);
          if (!log) return { loss, nonFinite };
          const fields: Record<string, unknown> = { objective, lr: o.lr * (step.kind === 'gradient' ? lrScale : 1), tasks: tasks.map((t) => o.tasks[t]), ...lossFields(o, picked.rows, picked.promptIndex, rowLoss) };
          if (host.extra) fields.distill = host.extra[0]!;
          if (host.stats) {
            const st = kernelStatsFrom(host.stats);
            Object.assign(fields, { h: st.h, mean_off_diagonal_k: st.meanOffDiagonalK, attraction: st.attraction, repulsion: st.repulsion });
          }
          return { loss, nonFinite, fields };
        } finally {
          disposeAll(out);
        }
      },
      checkpoint: async (done) => {
        const tensors = await namedToHost(mod.named());
        const extra: Record<string, unknown> = { streams: streams.map((s) => s.save()) };
        if (step.kind === 'rmsprop') {
          extra.rmspropSteps = step.opt.stepCount;
          if (step.opt.history) tensors.set('svgd_rmsprop.H', await toHost(step.opt.history));
        }
        run.saveCheckpoint({ step: done, tensors, optimizer: step.kind === 'gradient' ? await step.opt.state() : null, extra });
      },
    });
    if (!finished) return null;
    const names = await writeOutputs(o, run, lm, mod);
    run.complete({ files: SOURCE_FILES, prompts: names, steps: o.steps }, o.keepCheckpoint);
    return { out: o.out, method: o.method, steps: o.steps, prompts: names };
  } finally {
    captured?.dispose();
    module?.dispose();
    stepper?.opt.dispose();
    teachers?.dispose();
    releaseModel(lm);
    opened?.close();
  }
}
