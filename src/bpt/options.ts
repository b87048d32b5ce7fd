// The options of the three stages (`bpt source`, `bpt target`, `bpt eval`) with the paper's
// protocol as defaults (T5, prompt length 100, max input 256, batch 32, AdamW with 500 warmup
// steps and linear decay, prompt lr 0.3, low-rank lr 0.4, 20 epochs, M = 5 particles, median
// bandwidth). Where the method leaves a choice open (docs/METHOD.md), the field says which default
// we chose. The options every training command shares come from src/train/options.ts.
import { ConfigError, field, readConfigFile, resolveConfig, type Schema } from '../train/config.js';
import { parseTaskRef } from '../train/datasets.js';
import type { EvalMode } from '../train/eval.js';
import { RUN_FIELDS, type ProgressMode } from '../train/options.js';

export const SOURCE_METHODS = ['bpt', 'vanilla', 'spot', 'mpt'] as const;
export const TARGET_METHODS = ['bpt', 'pt', 'vanilla', 'spot', 'attempt', 'mpt', 'finetune', 'adapter', 'bitfit'] as const;

/** Methods that train the model's own weights or additions to them rather than a prompt (one task each). */
export const WEIGHT_METHODS: readonly TargetMethod[] = ['finetune', 'adapter', 'bitfit'];
export type SourceMethod = (typeof SOURCE_METHODS)[number];
export type TargetMethod = (typeof TARGET_METHODS)[number];
export type OptimizerName = 'adamw' | 'adafactor' | 'sgd' | 'svgd-rmsprop';
export type PromptInit = 'vocab' | 'uniform' | 'text';

/** Options every stage shares: the model, the data and where results go. */
export interface DataOptions {
  model: string;
  tokenizer: string | null;
  dataDir: string | null;
  tasks: readonly string[];
  format: 'attempt' | 't5';
  maxInputLength: number;
  maxTargetLength: number;
  padMultiple: number;
  splitSeed: number;
  progress: ProgressMode;
  out: string;
}

/** Options of the stages that evaluate. */
export interface EvalFields {
  maxEval: number | null;
  evalBatchSize: number;
  evalMode: EvalMode;
  maxNewTokens: number | null;
}

/** Options of the training stages. */
export interface TrainOptions extends DataOptions {
  maxTrain: number | null;
  promptLength: number;
  seed: number;
  modelDropout: boolean;
  optimizer: OptimizerName;
  weightDecay: number;
  warmupSteps: number;
  schedule: 'linear' | 'constant';
  checkpointEvery: number;
  logEvery: number;
  keepCheckpoint: boolean;
  stopAfter: number | null;
  init: PromptInit;
  initText: string | null;
  rank: number;
}

export interface SourceOptions extends TrainOptions {
  method: SourceMethod;
  lr: number;
  particles: number;
  steps: number;
  examplesPerTask: number;
  taskSampling: number | null;
  particleBatch: 'shared' | 'independent';
  score: 'sum' | 'mean';
  tokenLoss: 'mean' | 'sum';
  bandwidth: 'median' | number;
  teachers: string | null;
  distillWeight: number;
  distillHidden: boolean;
}

export interface TargetOptions extends TrainOptions, EvalFields {
  method: TargetMethod;
  testRest: readonly string[];
  source: string | null;
  lr: number | null;
  lrLowRank: number;
  bottleneck: number;
  epochs: number;
  batchSize: number;
  sigma: number;
  penalize: 'theta' | 'P';
  priorScale: 'batch' | 'dataset';
  spotProbeSteps: number;
  attemptDim: number;
  attemptTemperature: number | null;
}

export interface EvalOptions extends DataOptions, EvalFields {
  adapter: string | null;
  split: 'validation' | 'test';
}

type SchemaOf<T> = { [K in keyof T]-?: Schema[string] };

const DATA: SchemaOf<DataOptions> = {
  model: field.dir('Hugging Face T5 checkpoint directory (config.json + model.safetensors)'),
  tokenizer: field.path('tokenizer: a spiece.model or a checkpoint directory; null = the model directory', null),
  dataDir: field.dir('data root holding the official task files in glue/, superglue/ and squad/; not needed for the demo tasks', null),
  tasks: field.list('tasks: GLUE/SuperGLUE ids (rte, superglue-cb, ...), sentiment[:amazon|imdb|yelp], spam'),
  format: field.enum('text format (ATTEMPT digits or T5 words)', ['attempt', 't5'], 'attempt'),
  maxInputLength: field.int('max input tokens (longer inputs are cut, EOS kept)', 256, { min: 2 }),
  maxTargetLength: field.int('max target tokens', 128, { min: 2 }),
  padMultiple: field.int('pad batch lengths up to a multiple of this (fewer distinct kernel shapes)', 8, { min: 1 }),
  splitSeed: field.int('seed of the ATTEMPT splits', 42, { min: 0 }),
  progress: RUN_FIELDS.progress,
  out: field.dir('output directory'),
};

const EVAL: SchemaOf<EvalFields> = {
  maxEval: field.int('evaluate on at most this many validation/test examples per task; null = all', null, { min: 1 }),
  evalBatchSize: field.int('evaluation batch size', 64, { min: 1 }),
  evalMode: field.enum('evaluation: greedy generation (invalid labels count wrong) or rank classification', ['generate', 'rank'], 'generate'),
  maxNewTokens: field.int('generation length; null = longest label + 1 (span tasks: maxTargetLength)', null, { min: 1 }),
};

const TRAIN: SchemaOf<Omit<TrainOptions, keyof DataOptions>> = {
  maxTrain: field.int('use at most this many training examples per task (ATTEMPT k-shot subsample); null = all', null, { min: 1 }),
  promptLength: field.int('soft prompt length L', 100, { min: 1 }),
  seed: field.int('training seed (initialisation, data order, dropout)', 42, { min: 0 }),
  modelDropout: field.bool("apply the model's dropout while training (T5's dropout_rate)", true),
  optimizer: field.enum('optimizer', ['adamw', 'adafactor', 'sgd', 'svgd-rmsprop'], 'adamw'),
  weightDecay: field.number('decoupled weight decay (ATTEMPT: 1e-5)', 1e-5, { min: 0 }),
  warmupSteps: field.int('linear warmup steps', 500, { min: 0 }),
  schedule: field.enum('lr schedule after warmup', ['linear', 'constant'], 'linear'),
  checkpointEvery: field.int('write a resumable checkpoint every N steps; 0 = only at the end of each epoch / run', 1000, { min: 0 }),
  logEvery: field.int('write a JSONL log line (with read-back statistics) every N steps', 10, { min: 1 }),
  keepCheckpoint: RUN_FIELDS.keepCheckpoint,
  stopAfter: field.int('stop after this many steps of this invocation (a checkpoint is written; continue with --resume); null = run to the end', null, { min: 1 }),
  init: field.enum('prompt initialisation: sampled vocabulary embeddings (top 5000 ids), uniform(-0.5, 0.5), or text', ['vocab', 'uniform', 'text'], 'vocab'),
  initText: field.string("text for init 'text' (repeated to fill L tokens)", null),
  rank: field.int('rank r of the low-rank factors U (L x r), V (r x d)', 1, { min: 1 }),
};

export const SOURCE_SCHEMA: Schema = {
  ...DATA,
  ...TRAIN,
  method: field.enum('source method: BPT (SVGD particles), one prompt on the union (vanilla), one prompt per task (SPoT), shared P o U_k V_k (MPT)', SOURCE_METHODS, 'bpt'),
  lr: field.number('learning rate (svgd-rmsprop: its step size)', 0.3, { above: 0 }),
  particles: field.int('SVGD particles M', 5, { min: 1, max: 64 }),
  steps: field.int('source iterations T (our choice; the paper does not give it)', 30000, { min: 1 }),
  examplesPerTask: field.int('examples of each source task per particle per step (batch M x K x this)', 1, { min: 1 }),
  taskSampling: field.int('task sampling: kappa tasks drawn without replacement each step; null = all K', null, { min: 1 }),
  particleBatch: field.enum("particles see the same K examples ('shared', as Liu & Wang's code) or each its own ('independent')", ['shared', 'independent'], 'shared'),
  score: field.enum("particle j's score is -grad of its loss summed or averaged over its examples (sets the attraction/repulsion balance)", ['sum', 'mean'], 'sum'),
  tokenLoss: field.enum("an example's loss: mean or sum of its target tokens' NLL", ['mean', 'sum'], 'mean'),
  bandwidth: field.numberOrEnum('RBF bandwidth h: median heuristic or a fixed value', ['median'], 'median', 0),
  teachers: field.dir("MPT: a 'spot' source run whose per-task prompts are distillation teachers; null = no distillation", null),
  distillWeight: field.number('MPT: lambda, the weight of the distillation terms (KL of the outputs, MSE of the hidden states)', 1, { min: 0 }),
  distillHidden: field.bool("MPT: add the MSE between teacher's and student's decoder hidden states to the KL term", true),
};

export const TARGET_SCHEMA: Schema = {
  ...DATA,
  ...EVAL,
  ...TRAIN,
  method: field.enum('target method', TARGET_METHODS, 'bpt'),
  testRest: field.list('tasks (of --tasks) tested on their test split and every training row left out by --max-train: a few-shot protocol with a larger test set, for tasks split from one file whose training rows no earlier stage saw', []),
  source: field.dir('source stage output directory (bpt, vanilla, spot, attempt, mpt)', null),
  lr: field.number('learning rate of P (prompt methods) or of the trained weights; null = 0.3 for prompts, 3e-4 finetune, 1e-3 adapter and bitfit', null, { above: 0 }),
  bottleneck: field.int('adapter: bottleneck width of each adapter', 64, { min: 1 }),
  lrLowRank: field.number('learning rate of U, V', 0.4, { above: 0 }),
  epochs: field.int('epochs (validation after each, the best is kept)', 20, { min: 1 }),
  batchSize: field.int('training batch size', 32, { min: 1 }),
  sigma: field.number('prior scale sigma of 1/(2 sigma^2) ||. - mu||^2 (our choice)', 10, { above: 0 }),
  penalize: field.enum("the prior penalises theta = P o (U V) or P alone", ['theta', 'P'], 'theta'),
  priorScale: field.enum("add the prior to the batch loss as is ('batch') or divided by the training-set size ('dataset': the MAP objective per example)", ['batch', 'dataset'], 'batch'),
  spotProbeSteps: field.int('SPoT: steps of the briefly trained target prompt used to pick the source prompt', 500, { min: 1 }),
  attemptDim: field.int('ATTEMPT: down-projection size of the attention sub-network', 100, { min: 1 }),
  attemptTemperature: field.number('ATTEMPT: softmax temperature; null = d_model * e', null, { above: 0 }),
};

export const EVAL_SCHEMA: Schema = {
  ...DATA,
  ...EVAL,
  adapter: field.dir('a PEFT adapter directory, or a target output directory; null = the bare model', null),
  split: field.enum('which split to score', ['validation', 'test'], 'test'),
  out: field.file('results JSON file'),
};

function checkTasks(tasks: readonly string[]): void {
  const seen = new Set<string>();
  for (const t of tasks) {
    try {
      parseTaskRef(t);
    } catch (err) {
      throw new ConfigError(`'tasks': ${(err as Error).message}`);
    }
    if (seen.has(t)) throw new ConfigError(`'tasks': ${t} is listed twice`);
    seen.add(t);
  }
}

function checkInit(o: TrainOptions): void {
  if (o.init === 'text' && !o.initText) throw new ConfigError("init 'text' needs 'initText'");
}

/** Reads and validates `bpt source` options (file then flags), with the cross-field checks. */
export function sourceOptions(configFile: string | null, flags: Record<string, unknown>): SourceOptions {
  const o = resolve<SourceOptions>(SOURCE_SCHEMA, configFile, flags);
  checkTasks(o.tasks);
  checkInit(o);
  const k = o.tasks.length;
  if (o.taskSampling !== null && o.taskSampling >= k) {
    throw new ConfigError(`taskSampling (kappa = ${o.taskSampling}) must be below the number of source tasks (${k}); use null for all`);
  }
  if (o.method === 'bpt' && o.particles > 1 && o.init === 'text') {
    throw new ConfigError("init 'text' gives every particle the same prompt, where SVGD has no repulsion to separate them; use init 'vocab' or 'uniform'");
  }
  if (o.method !== 'bpt' && o.optimizer === 'svgd-rmsprop') throw new ConfigError(`optimizer 'svgd-rmsprop' is the SVGD code's rule; method '${o.method}' has no SVGD direction`);
  if (o.teachers !== null && o.method !== 'mpt') throw new ConfigError(`'teachers' (distillation) applies to method 'mpt', not '${o.method}'`);
  if (o.method === 'spot' && o.taskSampling !== null) throw new ConfigError("method 'spot' trains every task's prompt each step; taskSampling does not apply");
  return o;
}

/** Reads and validates `bpt target` options. */
export function targetOptions(configFile: string | null, flags: Record<string, unknown>): TargetOptions {
  const o = resolve<TargetOptions>(TARGET_SCHEMA, configFile, flags);
  checkTasks(o.tasks);
  checkInit(o);
  const needsSource = ['bpt', 'vanilla', 'spot', 'attempt', 'mpt'].includes(o.method);
  if (needsSource && o.source === null) throw new ConfigError(`method '${o.method}' needs 'source' (the output directory of bpt source)`);
  if (!needsSource && o.source !== null) throw new ConfigError(`method '${o.method}' does not use a source; remove 'source'`);
  if (o.optimizer === 'svgd-rmsprop') throw new ConfigError("optimizer 'svgd-rmsprop' only applies to the SVGD source stage");
  if (WEIGHT_METHODS.includes(o.method) && o.tasks.length > 1) throw new ConfigError(`${o.method} trains one model per task; give one task`);
  const stray = o.testRest.find((t) => !o.tasks.includes(t));
  if (stray !== undefined) throw new ConfigError(`testRest names '${stray}', which is not one of tasks (${o.tasks.join(', ')})`);
  return o;
}

/** Reads and validates `bpt eval` options. */
export function evalOptions(configFile: string | null, flags: Record<string, unknown>): EvalOptions {
  const o = resolve<EvalOptions>(EVAL_SCHEMA, configFile, flags);
  checkTasks(o.tasks);
  return o;
}

function resolve<T>(schema: Schema, configFile: string | null, flags: Record<string, unknown>): T {
  const file = configFile ? readConfigFile(configFile, schema) : {};
  return resolveConfig(schema, file, flags, configFile ?? 'config') as unknown as T;
}

/** The learning rate of P for a target run (0.3 for prompts, 3e-4 full fine-tuning, 1e-3 adapters and BitFit, unless set). */
export function targetLr(o: TargetOptions): number {
  return o.lr ?? ({ finetune: 3e-4, adapter: 1e-3, bitfit: 1e-3 } as Partial<Record<TargetMethod, number>>)[o.method] ?? 0.3;
}
