// `bpt probe`, the milestone "does the encoder read?": a linear probe on FROZEN mean-pooled encoder
// states. Each text is encoded alone (no prompt, no task prefix); its feature vector is the mean of
// the encoder's final states over its non-pad positions (EOS included), computed on the GPU. The
// default protocol trains on the demo's Amazon + Yelp sentiment sentences and tests on IMDb's,
// with the classifier of linear_probe.ts. The same architecture with freshly initialised weights
// is always probed beside the checkpoint: a probe above chance can come from token identity
// alone, and only the margin over random weights says that pretraining taught the encoder anything.
import { noGrad } from '../../autograd/tape.js';
import type { Tokenizer } from '../../io/tokenizer/tokenizer.js';
import type { T5Model } from '../../nn/t5/model.js';
import { disposeModel, modelFromCheckpoint } from '../../nn/t5/weights.js';
import { div, mul } from '../../ops/elementwise.js';
import { reshape } from '../../ops/reshape.js';
import { sum } from '../../ops/sum.js';
import { loadSentiment, type SentimentSource } from '../../tasks/demo_data.js';
import { tidy } from '../../tensor/scope.js';
import { encodeText } from '../../train/data.js';
import { loadModel, releaseModel } from '../../train/model.js';
import { initCheckpoint } from '../init.js';
import { forEachLengthBatch } from './batches.js';
import { linearProbe, majorityShare, type GridPoint, type Labelled } from './linear_probe.js';
import type { Matrix } from './logistic.js';

/** A text and its 0/1 label. */
export interface LabelledText {
  text: string;
  label: number;
}

export interface FeatureOptions {
  /** Tokens per text (longer texts are cut, EOS kept). */
  maxLength: number;
  batchSize: number;
}

/** The mean of the encoder's final states over each text's non-pad positions: one row per text. */
export async function meanEncoderStates(model: T5Model, tok: Tokenizer, texts: readonly string[], opts: FeatureOptions): Promise<Matrix> {
  const d = model.config.d_model;
  const rows = texts.map((t) => encodeText(tok, t, opts.maxLength));
  const data = new Float64Array(texts.length * d);
  await forEachLengthBatch(model, rows, opts.batchSize, async ({ inputIds, attentionMask }, index) => {
    const pooled = noGrad(() => tidy(() => {
      const [b, s] = inputIds.shape as [number, number];
      const hidden = model.encode(model.embed(inputIds), attentionMask);
      const summed = sum(mul(hidden, reshape(attentionMask, [b, s, 1])), 1);
      return div(summed, reshape(sum(attentionMask, 1), [b, 1]));
    }));
    const host = await pooled.toArray();
    pooled.dispose();
    index.forEach((r, i) => data.set(host.subarray(i * d, (i + 1) * d), r * d));
  });
  return { rows: texts.length, cols: d, data };
}

export interface ProbeSettings extends FeatureOptions {
  seed: number;
  /** Share of the train texts held out to choose the L2 strength. */
  heldOut: number;
  l2Grid: readonly number[];
}

/** What one set of weights scores. */
export interface ProbeLine {
  testAccuracy: number;
  trainAccuracy: number;
  /** The L2 strength the held-out part of the train texts chose. */
  l2: number;
  grid: GridPoint[];
}

async function features(model: T5Model, tok: Tokenizer, items: readonly LabelledText[], s: FeatureOptions): Promise<Labelled> {
  return { x: await meanEncoderStates(model, tok, items.map((e) => e.text), s), y: Uint8Array.from(items, (e) => e.label) };
}

/** Probes one model's frozen encoder: features of train and test texts, then linear_probe.ts' protocol. */
export async function probeModel(model: T5Model, tok: Tokenizer, train: readonly LabelledText[], test: readonly LabelledText[], s: ProbeSettings): Promise<ProbeLine> {
  for (const e of [...train, ...test]) if (e.label !== 0 && e.label !== 1) throw new RangeError(`probe: label ${e.label} of "${e.text}" is not 0 or 1`);
  const r = linearProbe(await features(model, tok, train, s), await features(model, tok, test, s), { grid: s.l2Grid, heldOut: s.heldOut, seed: s.seed });
  return { testAccuracy: r.testAccuracy, trainAccuracy: r.trainAccuracy, l2: r.l2, grid: r.grid };
}

export interface ProbeOptions extends ProbeSettings {
  model: string;
  tokenizer: string | null;
  train: readonly SentimentSource[];
  test: readonly SentimentSource[];
}

export interface ProbeReport {
  model: string;
  train: readonly SentimentSource[];
  test: readonly SentimentSource[];
  nTrain: number;
  nTest: number;
  /** Share of the test set's most frequent label. */
  majority: number;
  maxLength: number;
  seed: number;
  trained: ProbeLine;
  /** The same config.json with weights from initCheckpoint(config, seed). */
  random: ProbeLine;
  seconds: number;
}

const labelled = (sources: readonly SentimentSource[]): LabelledText[] =>
  loadSentiment(sources).map((e) => ({ text: e.fields.review!, label: e.label as number }));

/** The probe of the file comment on the checkpoint in `o.model` and on random weights of its architecture. */
export async function runProbe(o: ProbeOptions): Promise<ProbeReport> {
  const t0 = performance.now();
  const train = labelled(o.train);
  const test = labelled(o.test);
  const loaded = loadModel(o.model, o.tokenizer);
  let trained: ProbeLine;
  try {
    trained = await probeModel(loaded.model, loaded.tokenizer, train, test, o);
  } finally {
    releaseModel(loaded);
  }
  const fresh = modelFromCheckpoint(initCheckpoint(loaded.model.config, o.seed));
  let random: ProbeLine;
  try {
    random = await probeModel(fresh, loaded.tokenizer, train, test, o);
  } finally {
    disposeModel(fresh);
  }
  return {
    model: o.model, train: o.train, test: o.test, nTrain: train.length, nTest: test.length,
    majority: majorityShare(test.map((e) => e.label)), maxLength: o.maxLength, seed: o.seed,
    trained, random, seconds: (performance.now() - t0) / 1000,
  };
}

const pct = (x: number): string => (100 * x).toFixed(1).padStart(5);

/** The report as a small table for people. */
export function formatProbe(r: ProbeReport): string {
  const line = (name: string, p: ProbeLine): string => `${name.padEnd(8)} ${pct(p.testAccuracy)}  ${pct(p.trainAccuracy)}  ${p.l2.toExponential(0)}`;
  return [
    `linear probe on mean-pooled encoder states of ${r.model}: train ${r.train.join('+')} (${r.nTrain}), test ${r.test.join('+')} (${r.nTest}), max ${r.maxLength} tokens, seed ${r.seed}`,
    'weights   test%  train%  L2',
    line('trained', r.trained),
    line('random', r.random),
    `majority ${pct(r.majority)}   (test set)`,
    `trained - random: ${(100 * (r.trained.testAccuracy - r.random.testAccuracy)).toFixed(1)} points; ${r.seconds.toFixed(0)} s`,
  ].join('\n');
}
