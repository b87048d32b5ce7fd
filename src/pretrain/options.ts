// `bpt pretrain` options, declared once with the run-config machinery of src/train/config.ts (JSON
// file, flags, help, validation and the resolved config in run.json). Defaults build the embedded
// model (models/byt5-tiny): a 2+2-layer ByT5-style T5 of width 96 trained for span corruption on
// the Brown corpus and WordNet glosses.
import { ConfigError, field, flagName, readConfigFile, resolveConfig, type Schema } from '../train/config.js';
import { RUN_FIELDS, type ProgressMode } from '../train/options.js';
import { OBJECTIVES, parseMixture } from './mixture.js';

export interface PretrainOptions {
  out: string;
  corpus: readonly string[];
  init: string | null;
  tokenizer: string;
  mixture: readonly string[];
  stageMixture: readonly string[];
  stageSteps: number;
  targetLength: number | null;
  lossPerExample: boolean;
  dModel: number;
  dKv: number;
  numHeads: number;
  dFf: number;
  numLayers: number;
  numDecoderLayers: number;
  feedForwardProj: string;
  relativeAttentionNumBuckets: number;
  relativeAttentionMaxDistance: number;
  dropoutRate: number;
  inputLength: number;
  noiseDensity: number;
  meanNoiseSpanLength: number;
  batchSize: number;
  steps: number;
  optimizer: 'adamw' | 'adafactor';
  lr: number;
  scaleParameter: boolean;
  weightDecay: number;
  warmupSteps: number;
  schedule: 'linear' | 'constant';
  seed: number;
  evalSegments: number;
  evalEvery: number;
  checkpointEvery: number;
  logEvery: number;
  keepCheckpoint: boolean;
  stopAfter: number | null;
  maxMinutes: number | null;
  progress: ProgressMode;
}

export const PRETRAIN_SCHEMA: Schema = {
  out: field.dir('output directory (run.json, log.jsonl, checkpoint, and the model in model/)'),
  corpus: field.list("pretraining text: 'brown' (Brown corpus), 'wordnet' (WordNet glosses), or text files (paragraphs = documents)", ['brown', 'wordnet']),
  init: field.dir('continue from this Hugging Face T5 checkpoint directory (its tokenizer too); null = a fresh model with the tokenizer and sizes below', null),
  tokenizer: field.path("a fresh model's vocabulary: 'byt5' (bytes), or a directory with spiece.model (e.g. from `bpt vocab`; 100 sentinels are added)", 'byt5'),
  mixture: field.list(`objectives and their rates as name=rate (${OBJECTIVES.join(', ')}; see docs/EMBEDDED_MODEL.md)`, ['span=1']),
  stageMixture: field.list('objectives and rates (as mixture) of the first stageSteps steps, e.g. copy=1 so that the decoder learns to read its input before the mixture', []),
  stageSteps: field.int('steps of stageMixture before mixture (0 = no stage)', 0, { min: 0 }),
  targetLength: field.int('target tokens of every example (EOS included); null = what span corruption needs', null, { min: 2 }),
  lossPerExample: field.bool('weigh every example alike (the mean of its target tokens\' loss) rather than every target token', false),
  dModel: field.int('d_model', 96, { min: 8 }),
  dKv: field.int('size of one attention head', 24, { min: 4 }),
  numHeads: field.int('attention heads', 4, { min: 1 }),
  dFf: field.int('feed-forward width', 256, { min: 8 }),
  numLayers: field.int('encoder layers', 2, { min: 1 }),
  numDecoderLayers: field.int('decoder layers', 2, { min: 1 }),
  feedForwardProj: field.string("feed-forward: 'gated-gelu' (T5 v1.1, ByT5) or 'relu' (T5 v1.0)", 'gated-gelu'),
  relativeAttentionNumBuckets: field.int('relative-position buckets', 32, { min: 2 }),
  relativeAttentionMaxDistance: field.int('relative-position max distance', 128, { min: 2 }),
  dropoutRate: field.number("the model's dropout_rate (applied while pretraining, and saved in config.json)", 0, { min: 0, max: 0.9 }),
  inputLength: field.int('encoder input tokens per example after corruption (EOS included); the raw segment length follows (random_spans_helper)', 128, { min: 8 }),
  noiseDensity: field.number('fraction of tokens corrupted', 0.15, { above: 0, max: 0.9 }),
  meanNoiseSpanLength: field.number('mean length of a corrupted span', 3, { min: 1 }),
  batchSize: field.int('segments per step', 16, { min: 1 }),
  steps: field.int('training steps', 1200, { min: 1 }),
  optimizer: field.enum('optimizer (full weight training)', ['adamw', 'adafactor'], 'adamw'),
  lr: field.number('peak learning rate', 2e-3, { above: 0 }),
  scaleParameter: field.bool("Adafactor only: scale each step by the parameter's RMS (T5's pretraining form); off, every step is lr-sized", false),
  weightDecay: field.number('decoupled weight decay', 0.01, { min: 0 }),
  warmupSteps: field.int('linear warmup steps', 100, { min: 0 }),
  schedule: field.enum('after warmup: linear decay to 0 at the last step, or constant', ['linear', 'constant'], 'linear'),
  seed: field.int('seed (initialisation, segment order, noise masks, held-out choice)', 42, { min: 0 }),
  evalSegments: field.int('segments held out for the evaluation loss', 128, { min: 1 }),
  evalEvery: field.int('evaluate the held-out loss every N steps (and at the end); 0 = only at the end', 200, { min: 0 }),
  checkpointEvery: field.int('write a resumable checkpoint every N steps (and at the end)', 200, { min: 0 }),
  logEvery: field.int('write a JSONL step record every N steps', 10, { min: 1 }),
  keepCheckpoint: RUN_FIELDS.keepCheckpoint,
  stopAfter: field.int('stop after this many steps of this invocation (continue with --resume); null = run to the end', null, { min: 1 }),
  maxMinutes: field.number('stop after the first step that ends this many minutes into this invocation, with a checkpoint and a held-out evaluation (continue with --resume); null = no time limit', null, { above: 0 }),
  progress: RUN_FIELDS.progress,
};

/** Reads and validates `bpt pretrain` options (defaults < JSON file < flags). */
export function pretrainOptions(configFile: string | null, flags: Record<string, unknown>): PretrainOptions {
  const file = configFile ? readConfigFile(configFile, PRETRAIN_SCHEMA) : {};
  const o = resolveConfig(PRETRAIN_SCHEMA, file, flags, configFile ?? 'config') as unknown as PretrainOptions;
  try {
    parseMixture(o.mixture);
    if (o.stageMixture.length) parseMixture(o.stageMixture);
  } catch (e) {
    throw new ConfigError((e as Error).message);
  }
  if ((o.stageMixture.length > 0) !== (o.stageSteps > 0)) {
    throw new ConfigError(`stageMixture and stageSteps go together: got ${o.stageMixture.length} stage objectives and stageSteps ${o.stageSteps}`);
  }
  if (o.init !== null) {
    const sizes = ['dModel', 'dKv', 'numHeads', 'dFf', 'numLayers', 'numDecoderLayers', 'feedForwardProj'] as const;
    const set = sizes.filter((k) => k in file || flags[flagName(k).slice(2)] !== undefined);
    if (set.length) throw new ConfigError(`'init' takes the sizes from ${o.init}/config.json; remove ${set.join(', ')}`);
    if (o.tokenizer !== 'byt5') throw new ConfigError(`'init' takes the tokenizer from ${o.init}; remove tokenizer`);
  }
  return o;
}
