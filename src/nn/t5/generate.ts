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

/** The encoder's output for decoding: its states, the key mask (prompt included) and the decoder's cross-attention cache. */
export interface Encoded {
  hidden: Tensor;
  mask: Tensor;
  cache: DecoderCache;
}

/**
 * Encoder states for a batch, with the soft prompt in front when one is given, and the decoder's
 * cross-attention keys and values: the recorded part of generation (tensors in the caller's scope).
 */
export function encodeForDecoding(model: T5Model, ids: Tensor, mask: Tensor, prompt?: PromptInput): Encoded {
  const inputs = prompt ? prependPrompt(model, ids, mask, prompt) : { embeds: model.embed(ids), mask };
  const hidden = model.encode(inputs.embeds, inputs.mask);
  return { hidden, mask: inputs.mask === mask ? mask.view(mask.shape) : inputs.mask, cache: model.newCache(hidden) };
}

/** Frees what `encodeForDecoding` made (and the self-attention cache decoding grew). */
export function disposeEncoded(enc: Encoded): void {
  for (const l of enc.cache.layers) [l.selfK, l.selfV, l.crossK, l.crossV].forEach((t) => t?.dispose());
  enc.hidden.dispose();
  enc.mask.dispose();
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
  return greedyDecode(model, tidy(() => encodeForDecoding(model, ids, mask, opts.prompt)), opts.maxNewTokens);
}

/** The decoding loop of `greedyGenerate` from an encoded batch, which it takes over and frees. */
export async function greedyDecode(model: T5Model, enc: Encoded, maxNewTokens: number): Promise<number[][]> {
  const { decoder_start_token_id: start, eos_token_id: eos, pad_token_id: pad } = model.config;
  const b = enc.hidden.shape[0]!;
  const seqs = Array.from({ length: b }, () => [start]);
  const done = new Array<boolean>(b).fill(false);
  try {
    let current = Int32Array.from(seqs.map((s) => s[0]!));
    for (let step = 0; step < maxNewTokens && !done.every(Boolean); step++) {
      const next = tidy(() => {
        const hidden = model.decode(tensor(current, [b, 1]), enc.hidden, enc.mask, { training: false }, enc.cache);
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
    disposeEncoded(enc);
  }
  return seqs;
}

/** Rank classification's decoder rows on the host: row k * B + i scores candidate k for batch row i. */
export interface CandidateRows {
  /** Batch row of each decoder row, [B C]. */
  rows: Int32Array;
  /** Decoder inputs and labels, [B C, T] (T: the longest candidate). */
  decoderIds: Int32Array;
  labels: Int32Array;
  length: number;
}

/** The decoder rows that score every candidate (token ids, usually ending with EOS) for `b` batch rows. */
export function candidateRows(model: T5Model, b: number, candidates: number[][]): CandidateRows {
  const c = candidates.length;
  const t = Math.max(...candidates.map((x) => x.length));
  const labels = new Int32Array(b * c * t).fill(-100);
  const decoderIds = new Int32Array(b * c * t).fill(model.config.pad_token_id);
  const rows = new Int32Array(b * c);
  for (let k = 0; k < c; k++) {
    const cand = candidates[k]!;
    for (let i = 0; i < b; i++) {
      const r = k * b + i;
      rows[r] = i;
      decoderIds[r * t] = model.config.decoder_start_token_id;
      cand.forEach((tok, j) => {
        labels[r * t + j] = tok;
        if (j + 1 < t) decoderIds[r * t + j + 1] = tok;
      });
    }
  }
  return { rows, decoderIds, labels, length: t };
}

/**
 * The summed NLL [B C] of each candidate row (`candidateRows` on the GPU: rows i32 [B C],
 * decoder ids and labels i32 [B C, T]); the encoder runs once for the B batch rows.
 */
export function candidateNll(model: T5Model, ids: Tensor, mask: Tensor, cand: { rows: Tensor; decoderIds: Tensor; labels: Tensor },
  prompt?: PromptInput): Tensor {
  const inputs = prompt ? prependPrompt(model, ids, mask, prompt) : { embeds: model.embed(ids), mask };
  const enc = model.encode(inputs.embeds, inputs.mask);
  const [b, s, d] = enc.shape as [number, number, number];
  const n = cand.rows.shape[0]!;
  const hidden = reshape(gatherRows(reshape(enc, [b, s * d]), cand.rows), [n, s, d]);
  const out = model.decode(cand.decoderIds, hidden, gatherRows(inputs.mask, cand.rows));
  return sum(tokenNll(model.logits(out), cand.labels), 1);
}

/** `candidateNll`'s host values as [row][candidate]. */
export function nllByRow(nll: ArrayLike<number>, b: number, c: number): number[][] {
  return Array.from({ length: b }, (_, i) => Array.from({ length: c }, (_, k) => nll[k * b + i]!));
}

/**
 * Rank classification: the summed negative log-likelihood of each candidate (token ids, usually
 * ending with EOS) for every row, as [row][candidate]. The encoder runs once; all candidates are
 * scored in one decoder pass over B x C rows.
 */
export async function scoreCandidates(model: T5Model, ids: Tensor, mask: Tensor, candidates: number[][], prompt?: PromptInput): Promise<number[][]> {
  const b = ids.shape[0]!;
  const h = candidateRows(model, b, candidates);
  const nll = tidy(() => {
    const cand = {
      rows: tensor(h.rows, [h.rows.length], 'i32'),
      decoderIds: tensor(h.decoderIds, [h.rows.length, h.length], 'i32'),
      labels: tensor(h.labels, [h.rows.length, h.length], 'i32'),
    };
    return candidateNll(model, ids, mask, cand, prompt);
  });
  const host = await nll.toArray();
  nll.dispose();
  return nllByRow(host, b, candidates.length);
}
