// Scoring a prompt (or a fine-tuned model) on a task's examples, the way the protocol does:
// greedy generation whose text is mapped back to a label (a text that is no label counts as wrong),
// or rank classification (the label string with the lowest NLL wins; never invalid). Metrics come
// from src/tasks' evaluate(). Rows are batched by input length (less padding) and put back in order.
// The recorded part of each batch (rank classification whole; for generation the encoder, the
// prompt and the cross-attention cache) is a captured step (src/jit) replayed for every batch of
// the same shape; the token-by-token decoding that reads each token back runs eagerly.
import type { Tokenizer } from '../io/tokenizer/tokenizer.js';
import { capture, type CapturedInputs, type CapturedStep, type CaptureStats } from '../jit/capture.js';
import type { PromptInput } from '../nn/prompt.js';
import { candidateNll, candidateRows, encodeForDecoding, greedyDecode, nllByRow, type Encoded as EncodedBatch } from '../nn/t5/generate.js';
import type { T5Model } from '../nn/t5/model.js';
import { evaluate, labelStrings, taskSpec, type EvalResult, type FormatStyle, type TaskId } from '../tasks/index.js';
import { tensor } from '../tensor/create.js';
import { tidy } from '../tensor/scope.js';
import type { Tensor } from '../tensor/tensor.js';
import { collate, encodeText, type Encoded, type HostBatch, type PromptBatch } from './data.js';

/** Greedy generation mapped back to labels, or rank classification over the label strings. */
export type EvalMode = 'generate' | 'rank';

/**
 * The prompt for a batch, made by recorded ops from the batch's tensors and the prompt's
 * parameters (in the caller's scope), or undefined for no prompt.
 */
export type PromptFor = (batch: PromptBatch) => PromptInput | undefined;

export interface EvalSettings {
  mode: EvalMode;
  batchSize: number;
  /** null: longest label + EOS, or maxTargetLength for span tasks. */
  maxNewTokens: number | null;
  maxTargetLength: number;
  format: FormatStyle;
  padMultiple: number;
}

/** A task's scores and its predictions in example order. */
export interface TaskEval {
  result: EvalResult;
  predictions: Array<string | number>;
  /** How predictions were made (span tasks always generate). */
  mode: EvalMode;
}

/** Label strings as token ids (with EOS), or null when the task has no fixed label set. */
function candidates(tok: Tokenizer, task: TaskId, s: EvalSettings): { text: readonly string[]; ids: number[][] } | null {
  const text = labelStrings(task, s.format);
  return text ? { text, ids: text.map((t) => encodeText(tok, t, s.maxTargetLength)) } : null;
}

type ScoreInputs = PromptBatch & { rows: Tensor; decoderIds: Tensor; labels: Tensor };

/** What evaluation uploads of a batch: what its prompt is made from (tensors in the caller's scope). */
function promptInputs(h: HostBatch): PromptBatch {
  const shape = [h.rows, h.inputLength];
  return { inputIds: tensor(h.inputIds, shape, 'i32'), attentionMask: tensor(h.attentionMask, shape), promptIndex: tensor(h.promptIndex, [h.rows], 'i32') };
}

/** The captured encoder of a batch for decoding: its states, its mask unless it is the input's, and `k<i>`, `v<i>` per decoder layer. */
type EncodeStep = CapturedStep<PromptBatch, Record<string, Tensor>>;

/**
 * Scores rows of tasks with one model and prompt. Its captured steps (one plan per batch shape)
 * live as long as it does, so every evaluation of a run replays them; `dispose` frees them.
 */
export class Evaluator {
  private readonly encode: EncodeStep;
  private readonly score: CapturedStep<ScoreInputs, Tensor>;

  /** `replay: false` records every batch eagerly (for comparisons). */
  constructor(readonly model: T5Model, readonly tok: Tokenizer, readonly settings: EvalSettings, promptFor: PromptFor,
    { replay = true }: { replay?: boolean } = {}) {
    this.encode = capture((b: CapturedInputs<PromptBatch>) => {
      const enc = encodeForDecoding(model, b.inputIds, b.attentionMask, promptFor(b));
      const out: Record<string, Tensor> = { hidden: enc.hidden };
      // Without a prompt the mask is the input's: the caller keeps its own (a step returns what it made).
      if (enc.mask.sharesStorage(b.attentionMask)) enc.mask.dispose();
      else out.mask = enc.mask;
      enc.cache.layers.forEach((l, i) => Object.assign(out, { [`k${i}`]: l.crossK, [`v${i}`]: l.crossV }));
      return out;
    }, { enabled: replay });
    this.score = capture((b: CapturedInputs<ScoreInputs>) => candidateNll(model, b.inputIds, b.attentionMask, b, promptFor(b)), { enabled: replay });
  }

  /** Calls of the captured steps by how they ran (encoder + prompt, rank scoring). */
  get stats(): { encode: Readonly<CaptureStats>; score: Readonly<CaptureStats> } {
    return { encode: this.encode.stats, score: this.score.stats };
  }

  /** The encoder states and cross-attention cache of a batch, for decoding. */
  private encoded(b: PromptBatch): EncodedBatch {
    const out = this.encode(b);
    const layers = Array.from({ length: this.model.config.num_decoder_layers }, (_, i) =>
      ({ selfK: null, selfV: null, crossK: out[`k${i}`]!, crossV: out[`v${i}`]! }));
    return { hidden: out.hidden!, mask: out.mask ?? b.attentionMask.ref(), cache: { layers, length: 0 } };
  }

  /**
   * Predicts and scores `rows` (all of one task, labeled). `onBatch` receives the number of rows
   * done so far (for progress displays).
   */
  async evaluate(rows: readonly Encoded[], onBatch?: (done: number) => void): Promise<TaskEval> {
    if (rows.length === 0) throw new Error('evaluate: no examples');
    const { model, tok, settings: s } = this;
    const task = rows[0]!.example.task;
    const cands = candidates(tok, task, s);
    const mode: EvalMode = s.mode === 'rank' && cands && taskSpec(task).kind !== 'span' ? 'rank' : 'generate';
    const maxNew = s.maxNewTokens ?? (cands ? Math.max(...cands.ids.map((c) => c.length)) : s.maxTargetLength);
    const order = rows.map((_, i) => i).sort((a, b) => rows[b]!.input.length - rows[a]!.input.length);
    const predictions = new Array<string | number>(rows.length);
    const { pad_token_id: padId, decoder_start_token_id: startId } = model.config;
    for (let at = 0; at < order.length; at += s.batchSize) {
      const idx = order.slice(at, at + s.batchSize);
      const h = collate(idx.map((i) => rows[i]!), { padId, decoderStartId: startId, padMultiple: s.padMultiple });
      if (mode === 'rank') {
        const c = candidateRows(model, h.rows, cands!.ids);
        const nll = tidy(() => {
          const n = c.rows.length;
          return this.score({
            ...promptInputs(h), rows: tensor(c.rows, [n], 'i32'),
            decoderIds: tensor(c.decoderIds, [n, c.length], 'i32'), labels: tensor(c.labels, [n, c.length], 'i32'),
          });
        });
        const host = await nll.toArray();
        nll.dispose();
        nllByRow(host, h.rows, cands!.ids.length).forEach((scores, k) => {
          const best = scores.indexOf(Math.min(...scores));
          predictions[idx[k]!] = taskSpec(task).kind === 'regression' ? Number(cands!.text[best]) : best;
        });
      } else {
        const enc = tidy(() => this.encoded(promptInputs(h)));
        const seqs = await greedyDecode(model, enc, maxNew);
        seqs.forEach((seq, k) => {
          predictions[idx[k]!] = tok.decode(seq.slice(1), { skipSpecial: true });
        });
      }
      onBatch?.(Math.min(at + s.batchSize, rows.length));
    }
    const result = evaluate(task, predictions, rows.map((r) => r.example), { format: s.format });
    return { result, predictions, mode };
  }

  dispose(): void {
    this.encode.dispose();
    this.score.dispose();
  }
}
