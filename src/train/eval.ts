// Scoring a prompt (or a fine-tuned model) on a task's examples, the way the protocol does:
// greedy generation whose text is mapped back to a label (a text that is no label counts as wrong),
// or rank classification (the label string with the lowest NLL wins; never invalid). Metrics come
// from src/tasks' evaluate(). Rows are batched by input length (less padding) and put back in order.
import type { Tokenizer } from '../io/tokenizer/tokenizer.js';
import type { PromptInput } from '../nn/prompt.js';
import { greedyGenerate, scoreCandidates } from '../nn/t5/generate.js';
import type { T5Model } from '../nn/t5/model.js';
import type { Seq2SeqBatch } from '../nn/t5/seq2seq.js';
import { evaluate, labelStrings, taskSpec, type EvalResult, type FormatStyle, type TaskId } from '../tasks/index.js';
import { tidy } from '../tensor/scope.js';
import { collate, encodeText, uploadBatch, type Encoded, type HostBatch } from './data.js';
import { disposeAll } from './host.js';

/** Greedy generation mapped back to labels, or rank classification over the label strings. */
export type EvalMode = 'generate' | 'rank';

/** The prompt for a batch (fresh tensors the caller frees), or undefined for no prompt. */
export type PromptFor = (h: HostBatch, batch: Seq2SeqBatch) => PromptInput | undefined;

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

/**
 * Predicts and scores `rows` (all of one task, labeled). `onBatch` receives the number of rows
 * done so far (for progress displays).
 */
export async function evaluateRows(model: T5Model, tok: Tokenizer, rows: readonly Encoded[], s: EvalSettings,
  promptFor: PromptFor, onBatch?: (done: number) => void): Promise<TaskEval> {
  if (rows.length === 0) throw new Error('evaluate: no examples');
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
    const inputs = tidy(() => {
      const batch = uploadBatch(h);
      return { batch, prompt: promptFor(h, batch) };
    });
    try {
      const { inputIds, attentionMask } = inputs.batch;
      if (mode === 'rank') {
        const nll = await scoreCandidates(model, inputIds, attentionMask, cands!.ids, inputs.prompt);
        nll.forEach((scores, k) => {
          const best = scores.indexOf(Math.min(...scores));
          predictions[idx[k]!] = taskSpec(task).kind === 'regression' ? Number(cands!.text[best]) : best;
        });
      } else {
        const seqs = await greedyGenerate(model, inputIds, attentionMask, { maxNewTokens: maxNew, ...(inputs.prompt ? { prompt: inputs.prompt } : {}) });
        seqs.forEach((seq, k) => {
          predictions[idx[k]!] = tok.decode(seq.slice(1), { skipSpecial: true });
        });
      }
    } finally {
      disposeAll(inputs);
    }
    onBatch?.(Math.min(at + s.batchSize, rows.length));
  }
  const result = evaluate(task, predictions, rows.map((r) => r.example), { format: s.format });
  return { result, predictions, mode };
}
