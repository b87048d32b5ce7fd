// `bpt pretrain`: T5 span-corruption pretraining with full weight training, run like every other
// stage (src/train): run.json with the resolved options, log.jsonl (step records with the loss and
// lr, 'eval' records with the held-out loss), an atomic checkpoint every N steps with exact
// resume, a progress bar, and at the end the model as a Hugging Face checkpoint in model/
// (config.json, model.safetensors, the tokenizer's files).
import { noGrad } from '../autograd/tape.js';
import { writeDirAtomic } from '../io/atomic.js';
import { loadHfCheckpoint, saveHfCheckpoint, type HfCheckpoint } from '../io/checkpoint.js';
import { ByT5Tokenizer } from '../io/tokenizer/byt5_tokenizer.js';
import { loadTokenizer } from '../io/tokenizer/load.js';
import { saveTokenizerFiles } from '../io/tokenizer/save.js';
import type { Tokenizer } from '../io/tokenizer/tokenizer.js';
import { makeT5Config, t5ParameterCount } from '../nn/t5/config.js';
import { capture, type CapturedInputs, type CapturedStep } from '../jit/capture.js';
import { seq2seq, type Seq2SeqBatch } from '../nn/t5/seq2seq.js';
import { disposeModel, modelFromCheckpoint, modelToHost } from '../nn/t5/weights.js';
import { tidy } from '../tensor/scope.js';
import { tensor } from '../tensor/create.js';
import { readAll, type Tensor } from '../tensor/tensor.js';
import type { Resolved } from '../train/config.js';
import { IGNORE, lossWeights, uploadBatch } from '../train/data.js';
import { disposeAll, namedToHost, restoreNamed } from '../train/host.js';
import { trainLoop } from '../train/loop.js';
import type { LoadedModel } from '../train/model.js';
import { makeOptimizer, makeSchedule } from '../train/optimizers.js';
import { Run } from '../train/run.js';
import { recordStepOn } from '../train/step.js';
import { firstNonFinite } from '../train/finite.js';
import { readCorpus, type Corpus } from './corpus.js';
import { Segments, tokenStream } from './data.js';
import { Mixture, parseMixture, unigramEntropy, type TokenPair } from './mixture.js';
import { initCheckpoint } from './init.js';
import { PRETRAIN_SCHEMA, type PretrainOptions } from './options.js';

/** Files of a pretraining run, relative to its directory. */
export const PRETRAIN_FILES = { model: 'model', snapshot: 'snapshot' } as const;

/** Where the tokenizer of the run comes from (its files are copied into the saved model), or null for ByT5. */
function tokenizerSource(o: PretrainOptions): string | null {
  return o.init ?? (o.tokenizer === 'byt5' ? null : o.tokenizer);
}

/** The starting checkpoint and its tokenizer: a fresh T5 with `o.tokenizer`'s vocabulary, or `o.init`. */
export function startingPoint(o: PretrainOptions): { ckpt: HfCheckpoint; tok: Tokenizer } {
  if (o.init !== null) return { ckpt: loadHfCheckpoint(o.init), tok: loadTokenizer(o.init) };
  const tok = o.tokenizer === 'byt5' ? new ByT5Tokenizer() : loadTokenizer(o.tokenizer);
  // The embedding and lm_head rows rounded up to a multiple of 64, as T5's 32,128 for 32,100 ids.
  const config = makeT5Config({
    vocab_size: Math.ceil(tok.vocabSize / 64) * 64, d_model: o.dModel, d_kv: o.dKv, num_heads: o.numHeads, d_ff: o.dFf,
    num_layers: o.numLayers, num_decoder_layers: o.numDecoderLayers, feed_forward_proj: o.feedForwardProj,
    relative_attention_num_buckets: o.relativeAttentionNumBuckets, relative_attention_max_distance: o.relativeAttentionMaxDistance,
    dropout_rate: o.dropoutRate, tie_word_embeddings: false,
  });
  return { ckpt: initCheckpoint(config, o.seed), tok };
}

/** The held-out loss of one batch, captured once per batch shape and replayed at every evaluation. */
type LossStep = CapturedStep<Seq2SeqBatch, Tensor>;

/** What a run trains and evaluates on: its corpora, their segments, and the mixture over them at fixed lengths. */
export function pretrainData(o: PretrainOptions, tok: Tokenizer): { corpora: Corpus[]; data: Segments; targetLength: number; mixture: Mixture } {
  const corpora = o.corpus.map(readCorpus);
  const data = new Segments(tokenStream(tok, corpora.flatMap((c) => c.documents)), tok, o);
  // Without a target length the span targets' length rounded up to 8, as batches were padded before mixtures.
  const targetLength = o.targetLength ?? Math.ceil(data.lengths.targetsLength / 8) * 8;
  const stage = o.stageSteps > 0 ? { rates: parseMixture(o.stageMixture), steps: o.stageSteps } : null;
  const mixture = new Mixture(parseMixture(o.mixture), data, tok, o.batchSize, { inputLength: o.inputLength, targetLength, evalSegments: o.evalSegments, seed: o.seed }, stage);
  return { corpora, data, targetLength, mixture };
}

/** Mean NLL per target token of examples, in batches of the mixture's fixed lengths. */
async function meanNll(lm: LoadedModel, lossOf: LossStep, mixture: Mixture, examples: readonly TokenPair[], batchSize: number): Promise<number> {
  const { pad_token_id: pad, decoder_start_token_id: start } = lm.model.config;
  let total = 0;
  let tokens = 0;
  for (let at = 0; at < examples.length; at += batchSize) {
    const h = mixture.batch(examples.slice(at, at + batchSize), pad, start);
    const n = h.labels.reduce((a, l) => a + (l === IGNORE ? 0 : 1), 0);
    const loss = noGrad(() => tidy(() => lossOf(uploadBatch(h))));
    total += (await loss.item()) * n;
    tokens += n;
    loss.dispose();
  }
  return total / tokens;
}

/** Held-out losses of an evaluation: per objective, their rate-weighted mean, and what reading the input is worth. */
export interface HeldOutLosses {
  loss: number;
  objectives: Record<string, number>;
  /**
   * Per objective, the loss with every target paired with the next held-out example's input (same
   * task, other content) minus the loss with its own: zero while the decoder ignores the encoder.
   */
  inputGain: Record<string, number>;
}

async function heldOutLosses(lm: LoadedModel, lossOf: LossStep, mixture: Mixture, batchSize: number): Promise<HeldOutLosses> {
  const objectives: Record<string, number> = {};
  const inputGain: Record<string, number> = {};
  let loss = 0;
  for (const [name, rate] of mixture.rates) {
    const own = mixture.heldOut(name);
    const rotated = own.map((e, i) => ({ input: own[(i + 1) % own.length]!.input, target: e.target }));
    objectives[name] = await meanNll(lm, lossOf, mixture, own, batchSize);
    inputGain[name] = (await meanNll(lm, lossOf, mixture, rotated, batchSize)) - objectives[name]!;
    loss += rate * objectives[name]!;
  }
  return { loss, objectives, inputGain };
}

/** What a completed pretraining run produced. */
export interface PretrainOutcome {
  out: string;
  /** The Hugging Face checkpoint directory written. */
  model: string;
  steps: number;
  heldOutLoss: number;
}

/**
 * Runs (or, with `resume`, continues) span-corruption pretraining as `o` describes; null when it
 * stopped before the last step (--stop-after or a signal), leaving a checkpoint to resume from.
 */
export async function runPretrain(o: PretrainOptions, resume: boolean): Promise<PretrainOutcome | null> {
  Run.check(o.out, resume);
  const { ckpt, tok } = startingPoint(o);
  const { corpora, data, targetLength, mixture } = pretrainData(o, tok);
  const run = Run.open(o.out, 'pretrain', 'span-corruption', o as unknown as Resolved, resume, PRETRAIN_SCHEMA);
  const lm: LoadedModel = { model: modelFromCheckpoint(ckpt, { arena: true }), tokenizer: tok, dir: o.init ?? '(fresh)' };
  const params = [...lm.model.params.values()];
  const opt = makeOptimizer(o.optimizer, [{ name: 'model', params, lr: o.lr }], o.weightDecay, o.scaleParameter);
  const target = { prompt: () => undefined, penalty: null, params: lm.model.params };
  // Captured once per batch shape, then replayed: the host only encodes the step's dispatches.
  // The checked tensors' names come from the eager and captured calls (a replay checks the same).
  let checked: string[] = [];
  const step = capture(({ seed, ...batch }: CapturedInputs<Seq2SeqBatch & { seed: number }>) => {
    const recorded = recordStepOn(lm, batch, () => undefined, target, opt, { training: lm.model.config.dropout_rate > 0, seed });
    checked = recorded.checked;
    return { loss: recorded.values.loss, check: recorded.values.check };
  });
  const heldOutLoss: LossStep = capture((batch: CapturedInputs<Seq2SeqBatch>) => seq2seq(lm.model, batch).loss);
  try {
    const c = lm.model.config;
    if (!run.resumed) {
      run.setInfo({
        model: { ...c, extra: undefined, parameters: t5ParameterCount(c) },
        tokenizer: tok instanceof ByT5Tokenizer ? 'ByT5 bytes' : 'SentencePiece',
        corpora: corpora.map((k) => ({ name: k.name, source: k.source, documents: k.documents.length })),
        tokens: data.tokens.length,
        unigram_entropy: unigramEntropy(data.tokens),
        mixture: Object.fromEntries([...mixture.composition].map(([name, rows]) => [name, { rate: mixture.rates.get(name), rows_per_batch: rows, held_out: mixture.heldOut(name).length }])),
        ...(mixture.stage ? { stage: { steps: mixture.stage.steps, rows_per_batch: Object.fromEntries(mixture.stage.composition) } } : {}),
        lengths: { input: o.inputLength, target: targetLength },
        segments: { tokens_per_segment: data.lengths.tokensLength, inputs_length: data.lengths.inputsLength, targets_length: data.lengths.targetsLength, train: data.train.length, held_out: data.heldOut.length },
      });
    }
    const resumed = run.resumed;
    if (resumed) {
      restoreNamed(lm.model.params, resumed.tensors, run.checkpointPath);
      if (resumed.optimizer) opt.loadState(resumed.optimizer);
    }
    const schedule = makeSchedule(o.schedule, o.warmupSteps, o.steps);
    const evaluate = async (done: number, say: (m: string) => void): Promise<number> => {
      const { loss, objectives, inputGain } = await heldOutLosses(lm, heldOutLoss, mixture, o.batchSize);
      run.log.write({ kind: 'eval', step: done, split: 'held-out', loss, objectives, input_gain: inputGain });
      const each = ` (${Object.entries(objectives).map(([k, v]) => `${k} ${v.toFixed(3)}, input gain ${inputGain[k]!.toFixed(3)}`).join('; ')})`;
      say(`step ${done}: held-out loss ${loss.toFixed(4)}${each}`);
      return loss;
    };
    let saved = resumed?.step ?? 0;
    const started = performance.now();
    const finished = await trainLoop(run, {
      label: 'pretrain',
      totalSteps: o.steps,
      startStep: resumed?.step ?? 0,
      settings: o,
      step: async (s, log) => {
        const h = mixture.batch(mixture.trainRows(s), c.pad_token_id, c.decoder_start_token_id);
        opt.setLrScale(schedule(s));
        const out = tidy(() => {
          const batch = uploadBatch(h);
          const weights = o.lossPerExample ? { weights: tensor(lossWeights(h, new Array<number>(h.rows).fill(1 / h.rows), 'mean'), [h.rows, h.targetLength]) } : {};
          return { ...step({ ...batch, ...weights, seed: s }), penalty: null };
        });
        try {
          const host = await readAll(out);
          const loss = host.loss[0]!;
          const nonFinite = firstNonFinite(host.check as Int32Array, checked);
          // Wall and CPU seconds of this invocation (a resumed run starts both again): the provenance of a model.
          const cpu = process.cpuUsage();
          const fields = { lr: o.lr * schedule(s), seconds: (performance.now() - started) / 1000, cpu_seconds: (cpu.user + cpu.system) / 1e6 };
          return log ? { loss, nonFinite, fields } : { loss, nonFinite };
        } finally {
          disposeAll(out);
        }
      },
      after: async (done, progress) => {
        if (o.evalEvery > 0 && done % o.evalEvery === 0 && done < o.steps) await evaluate(done, (m) => progress.log(m));
        return false;
      },
      checkpoint: async (done) => {
        saved = done;
        const tensors = await namedToHost(lm.model.params);
        run.saveCheckpoint({ step: done, tensors, optimizer: await opt.state(), extra: {} });
        // The weights of the last checkpoint as a Hugging Face directory, for probing a run in flight.
        writeDirAtomic(run.path(PRETRAIN_FILES.snapshot), (tmp) => {
          saveHfCheckpoint(tmp, c, tensors);
          saveTokenizerFiles(tmp, tok, tokenizerSource(o));
        });
      },
    });
    if (!finished) {
      // An invocation that ran out of its time (a budgeted GPU call) reports where it got; the
      // loop stops only at a step it checkpoints, so `saved` is that step.
      const outOfTime = o.maxMinutes !== null && performance.now() - started >= o.maxMinutes * 60_000;
      if (outOfTime && !(o.evalEvery > 0 && saved % o.evalEvery === 0)) await evaluate(saved, (m) => process.stderr.write(`${m}\n`));
      return null;
    }
    const loss = await evaluate(o.steps, (m) => (o.progress === 'none' ? undefined : process.stderr.write(`${m}\n`)));
    const host = await modelToHost(lm.model);
    writeDirAtomic(run.path(PRETRAIN_FILES.model), (tmp) => {
      saveHfCheckpoint(tmp, c, host);
      saveTokenizerFiles(tmp, tok, tokenizerSource(o));
    });
    run.complete({ files: PRETRAIN_FILES }, o.keepCheckpoint);
    return { out: o.out, model: run.path(PRETRAIN_FILES.model), steps: o.steps, heldOutLoss: loss };
  } finally {
    heldOutLoss.dispose();
    step.dispose();
    opt.dispose();
    disposeModel(lm.model);
    run.close();
  }
}
