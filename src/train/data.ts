// From examples to the tensors of a seq2seq step: tokenise (input truncated to the max length with
// EOS kept, as HF's truncation does), pad to the longest row (rounded up to a multiple, so a run
// meets few distinct shapes and compiles few pipelines), labels padded with -100, decoder inputs
// = labels shifted right behind the decoder start token. A batch can carry a per-row prompt
// index (a batch over several prompts: row r uses prompt promptIndex[r]) and per-row loss weights.
import type { Tokenizer } from '../io/tokenizer/tokenizer.js';
import type { Seq2SeqBatch } from '../nn/t5/seq2seq.js';
import { formatExample, type Example, type FormatStyle } from '../tasks/index.js';
import { tensor } from '../tensor/create.js';
import type { Tensor } from '../tensor/tensor.js';

/** Ignored label positions (Hugging Face / PyTorch convention). */
export const IGNORE = -100;

/** One tokenised example. `target` is empty for unlabeled examples. */
export interface Encoded {
  example: Example;
  /** Index of the example's task in the run's task list. */
  task: number;
  input: number[];
  target: number[];
}

export interface EncodeOptions {
  format: FormatStyle;
  maxInputLength: number;
  maxTargetLength: number;
}

/** Token ids of `text` with EOS, cut to `max` tokens keeping EOS last. */
export function encodeText(tok: Tokenizer, text: string, max: number): number[] {
  const ids = tok.encode(text, { addEos: false });
  return [...ids.slice(0, max - 1), tok.eosId];
}

/** Tokenises examples of one task (formatted with `format`). */
export function encodeExamples(tok: Tokenizer, examples: readonly Example[], task: number, opts: EncodeOptions): Encoded[] {
  return examples.map((example) => {
    const f = formatExample(example, opts.format);
    return {
      example,
      task,
      input: encodeText(tok, f.input, opts.maxInputLength),
      target: f.target === null ? [] : encodeText(tok, f.target, opts.maxTargetLength),
    };
  });
}

/** A collated batch on the host; arrays are row-major [B, S] and [B, T]. */
export interface HostBatch {
  rows: number;
  inputLength: number;
  targetLength: number;
  inputIds: Int32Array;
  attentionMask: Float32Array;
  decoderInputIds: Int32Array;
  labels: Int32Array;
  /** Task index of each row. */
  tasks: Int32Array;
  /** Prompt (particle / task prompt) of each row. */
  promptIndex: Int32Array;
}

export interface CollateOptions {
  padId: number;
  decoderStartId: number;
  /** Lengths are rounded up to a multiple of this. */
  padMultiple: number;
  /** Row -> prompt index; defaults to each row's task index. */
  promptIndex?: readonly number[];
  /** Pad to exactly these lengths instead (a row longer than them is an error). */
  lengths?: { input: number; target: number };
  /** How many prompts the indices choose from: an index outside [0, promptCount) throws (null, absent: not checked). */
  promptCount?: number | null;
}

const roundUp = (n: number, m: number): number => Math.max(m, Math.ceil(n / m) * m);

/** Pads rows into a batch (see the file comment). */
export function collate(rows: readonly Pick<Encoded, 'task' | 'input' | 'target'>[], opts: CollateOptions): HostBatch {
  if (rows.length === 0) throw new Error('collate: empty batch');
  if (opts.promptIndex && opts.promptIndex.length !== rows.length) {
    throw new Error(`collate: ${opts.promptIndex.length} prompt indices for ${rows.length} rows`);
  }
  const promptIndex = Int32Array.from(opts.promptIndex ?? rows.map((r) => r.task));
  // Checked here on the host: a replayed step runs no host code that could check them.
  const count = opts.promptCount ?? null;
  const bad = count === null ? -1 : promptIndex.findIndex((i) => i < 0 || i >= count);
  if (bad >= 0) throw new Error(`collate: row ${bad}'s prompt index ${promptIndex[bad]} is outside [0, ${opts.promptCount})`);
  const b = rows.length;
  const longest = { input: Math.max(...rows.map((r) => r.input.length)), target: Math.max(1, ...rows.map((r) => r.target.length)) };
  if (opts.lengths && (longest.input > opts.lengths.input || longest.target > opts.lengths.target)) {
    throw new Error(`collate: a row of ${longest.input} input / ${longest.target} target tokens exceeds the fixed ${opts.lengths.input} / ${opts.lengths.target}`);
  }
  const s = opts.lengths?.input ?? roundUp(longest.input, opts.padMultiple);
  const t = opts.lengths?.target ?? roundUp(longest.target, opts.padMultiple);
  const inputIds = new Int32Array(b * s).fill(opts.padId);
  const attentionMask = new Float32Array(b * s);
  const decoderInputIds = new Int32Array(b * t).fill(opts.padId);
  const labels = new Int32Array(b * t).fill(IGNORE);
  rows.forEach((r, i) => {
    r.input.forEach((id, j) => {
      inputIds[i * s + j] = id;
      attentionMask[i * s + j] = 1;
    });
    decoderInputIds[i * t] = opts.decoderStartId;
    r.target.forEach((id, j) => {
      labels[i * t + j] = id;
      if (j + 1 < t) decoderInputIds[i * t + j + 1] = id;
    });
  });
  return {
    rows: b,
    inputLength: s,
    targetLength: t,
    inputIds,
    attentionMask,
    decoderInputIds,
    labels,
    tasks: Int32Array.from(rows, (r) => r.task),
    promptIndex,
  };
}

/** Uploads a host batch as the model's Seq2SeqBatch (tensors belong to the current scope). */
export function uploadBatch(h: HostBatch): Seq2SeqBatch {
  return {
    inputIds: tensor(h.inputIds, [h.rows, h.inputLength], 'i32'),
    attentionMask: tensor(h.attentionMask, [h.rows, h.inputLength]),
    decoderInputIds: tensor(h.decoderInputIds, [h.rows, h.targetLength], 'i32'),
    labels: tensor(h.labels, [h.rows, h.targetLength], 'i32'),
  };
}

/** What a prompt is made from on the GPU: the inputs and each row's prompt index (i32 [B]). */
export interface PromptBatch {
  inputIds: Tensor;
  attentionMask: Tensor;
  promptIndex: Tensor;
}

/** A batch as a captured training step takes it: the model's tensors and the rows' prompt indices. */
export interface StepBatch extends Seq2SeqBatch, PromptBatch {}

/** `uploadBatch` with the rows' prompt indices. */
export function uploadStepBatch(h: HostBatch): StepBatch {
  return { ...uploadBatch(h), promptIndex: tensor(h.promptIndex, [h.rows], 'i32') };
}

/**
 * Token weights [B, T] that turn per-token NLL into a weighted sum of per-example losses:
 * example r's loss is the mean (or sum) of its target tokens' NLL, times `rowScale[r]`.
 * sum(nll * weights) is then sum_r rowScale[r] * loss_r.
 */
export function lossWeights(h: HostBatch, rowScale: ArrayLike<number>, tokenLoss: 'mean' | 'sum'): Float32Array {
  const t = h.targetLength;
  const w = new Float32Array(h.rows * t);
  for (let r = 0; r < h.rows; r++) {
    let n = 0;
    for (let j = 0; j < t; j++) if (h.labels[r * t + j] !== IGNORE) n++;
    if (n === 0) continue;
    const per = rowScale[r]! * (tokenLoss === 'mean' ? 1 / n : 1);
    for (let j = 0; j < t; j++) if (h.labels[r * t + j] !== IGNORE) w[r * t + j] = per;
  }
  return w;
}
