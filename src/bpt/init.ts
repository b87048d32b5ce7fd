// Prompt initialisations of Lester et al. (2021): rows of the frozen embedding table for tokens
// sampled from the 5000 most frequent (SentencePiece ids are ordered by frequency; specials are
// skipped), uniform(-0.5, 0.5), or the embeddings of a text repeated to fill L tokens (as PEFT's
// TEXT init). Each of `count` prompts gets its own seeded draw.
import type { Tokenizer } from '../io/tokenizer/tokenizer.js';
import type { T5Model } from '../nn/t5/model.js';
import { gatherRows } from '../ops/layout.js';
import { tensor } from '../tensor/create.js';
import { tidy } from '../tensor/scope.js';
import type { Tensor } from '../tensor/tensor.js';
import { mixSeed, STREAM } from '../train/sampler.js';
import { rng } from '../util/random.js';
import type { PromptInit } from './options.js';
import { reshape } from '../ops/reshape.js';

/** The first token id after T5's specials (pad 0, eos 1, unk 2). */
const FIRST_ID = 3;
/** Lester et al.'s "sampled vocab": the 5000 most common tokens. */
const TOP_TOKENS = 5000;

export interface InitOptions {
  init: PromptInit;
  initText: string | null;
  promptLength: number;
  /** Number of prompts (particles, tasks). */
  count: number;
  seed: number;
}

/** Token ids for prompt `k`: sampled without replacement while the pool allows it. */
function vocabIds(pool: number, length: number, seed: number): number[] {
  const u = rng(seed);
  const ids = Array.from({ length: pool }, (_, i) => FIRST_ID + i);
  const out: number[] = [];
  for (let i = 0; i < length; i++) {
    const left = pool - (i % pool);
    const j = Math.floor(u() * left);
    out.push(ids[j]!);
    [ids[j], ids[left - 1]] = [ids[left - 1]!, ids[j]!];
  }
  return out;
}

/** Prompts [count, L, d] initialised as `opts.init` says (a tensor of the current scope). */
export function initPrompts(model: T5Model, tok: Tokenizer, opts: InitOptions): Tensor {
  const { promptLength: l, count } = opts;
  const d = model.config.d_model;
  if (opts.init === 'uniform') {
    const data = new Float32Array(count * l * d);
    for (let k = 0; k < count; k++) {
      const u = rng(mixSeed(opts.seed, STREAM.init, k));
      for (let i = 0; i < l * d; i++) data[k * l * d + i] = u() - 0.5;
    }
    return tensor(data, [count, l, d]);
  }
  let ids: number[];
  if (opts.init === 'text') {
    const text = tok.encode(opts.initText ?? '', { addEos: false });
    if (text.length === 0) throw new Error('prompt init: initText has no tokens');
    const one = Array.from({ length: l }, (_, i) => text[i % text.length]!);
    ids = Array.from({ length: count }, () => one).flat();
  } else {
    const pool = Math.min(TOP_TOKENS, Math.min(tok.vocabSize, model.config.vocab_size) - FIRST_ID);
    if (pool < 1) throw new Error(`prompt init: the vocabulary (${tok.vocabSize}) has no ordinary tokens to sample`);
    ids = Array.from({ length: count }, (_, k) => vocabIds(pool, l, mixSeed(opts.seed, STREAM.init, k))).flat();
  }
  return tidy(() => reshape(gatherRows(model.p('shared.weight'), tensor(Int32Array.from(ids), [ids.length], 'i32')), [count, l, d]));
}
