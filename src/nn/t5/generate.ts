// Inference: greedy decoding with a key/value cache (the encoder runs once), and rank
// classification (score every label string, pick the most likely), which never produces an
// invalid label.
import { tensor } from '../../tensor/create.js';
import { tidy } from '../../tensor/scope.js';
import type { Tensor } from '../../tensor/tensor.js';
import { gatherRows } from '../../ops/layout.js';
import { argmax } from '../../ops/reduce.js';
import { prependPrompt, type PromptInput } from '../prompt.js';
import type { DecoderCache, T5Model } from './model.js';
import { tokenNll } from './seq2seq.js';
import { sum } from '../../ops/sum.js';
import { reshape } from '../../ops/reshape.js';

/** Encoder states for a batch, with the soft prompt in front when one is given. */
function encodeBatch(model: T5Model, ids: Tensor, mask: Tensor, prompt?: PromptInput): { hidden: Tensor; mask: Tensor } {
  return tidy(() => {
    const inputs = prompt ? prependPrompt(model, ids, mask, prompt) : { embeds: model.embed(ids), mask };
    return { hidden: model.encode(inputs.embeds, inputs.mask), mask: inputs.mask === mask ? mask.view(mask.shape) : inputs.mask };
  });
}

function disposeCache(cache: DecoderCache): void {
  for (const l of cache.layers) [l.selfK, l.selfV, l.crossK, l.crossV].forEach((t) => t?.dispose());
}

export interface GenerateOptions {
  maxNewTokens: number;
  prompt?: PromptInput;
}

/**
 * Greedy decoding. Returns one token list per row, starting with the decoder start token; after
 * a row emits EOS it is padded with the pad id, and decoding stops early once every row has
 * finished (as Hugging Face's generate does).
 */
export async function greedyGenerate(model: T5Model, ids: Tensor, mask: Tensor, opts: GenerateOptions): Promise<number[][]> {
  const { decoder_start_token_id: start, eos_token_id: eos, pad_token_id: pad } = model.config;
  const b = ids.shape[0]!;
  const enc = encodeBatch(model, ids, mask, opts.prompt);
  const cache = tidy(() => model.newCache(enc.hidden));
  const seqs = Array.from({ length: b }, () => [start]);
  const done = new Array<boolean>(b).fill(false);
  try {
    let current = Int32Array.from(seqs.map((s) => s[0]!));
    for (let step = 0; step < opts.maxNewTokens && !done.every(Boolean); step++) {
      const next = tidy(() => {
        const hidden = model.decode(tensor(current, [b, 1]), enc.hidden, enc.mask, { training: false }, cache);
        return argmax(reshape(model.logits(hidden), [b, -1]), 1);
      });
      const tokens = (await next.toArray()) as Int32Array;
      next.dispose();
      for (let i = 0; i < b; i++) {
        const tok = done[i] ? pad : tokens[i]!;
        seqs[i]!.push(tok);
        if (tok === eos) done[i] = true;
      }
      current = Int32Array.from(seqs.map((s) => s[s.length - 1]!));
    }
  } finally {
    disposeCache(cache);
    enc.hidden.dispose();
    enc.mask.dispose();
  }
  return seqs;
}

/**
 * Rank classification: the summed negative log-likelihood of each candidate (token ids, usually
 * ending with EOS) for every row, as [row][candidate]. The encoder runs once; all candidates are
 * scored in one decoder pass over B x C rows.
 */
export async function scoreCandidates(model: T5Model, ids: Tensor, mask: Tensor, candidates: number[][], prompt?: PromptInput): Promise<number[][]> {
  const b = ids.shape[0]!;
  const c = candidates.length;
  const t = Math.max(...candidates.map((x) => x.length));
  const labels = new Int32Array(b * c * t).fill(-100);
  const decoderIn = new Int32Array(b * c * t).fill(model.config.pad_token_id);
  const rowOf = new Int32Array(b * c);
  for (let k = 0; k < c; k++) {
    const cand = candidates[k]!;
    for (let i = 0; i < b; i++) {
      const r = k * b + i;
      rowOf[r] = i;
      decoderIn[r * t] = model.config.decoder_start_token_id;
      cand.forEach((tok, j) => {
        labels[r * t + j] = tok;
        if (j + 1 < t) decoderIn[r * t + j + 1] = tok;
      });
    }
  }
  const enc = encodeBatch(model, ids, mask, prompt);
  const nll = tidy(() => {
    const [, s, d] = enc.hidden.shape as [number, number, number];
    const rows = tensor(rowOf, [b * c], 'i32');
    const hidden = reshape(gatherRows(reshape(enc.hidden, [b, s * d]), rows), [b * c, s, d]);
    const m = gatherRows(enc.mask, rows);
    const out = model.decode(tensor(decoderIn, [b * c, t], 'i32'), hidden, m);
    return sum(tokenNll(model.logits(out), tensor(labels, [b * c, t], 'i32')), 1);
  });
  const host = await nll.toArray();
  nll.dispose();
  enc.hidden.dispose();
  enc.mask.dispose();
  return Array.from({ length: b }, (_, i) => Array.from({ length: c }, (_, k) => host[k * b + i]!));
}
