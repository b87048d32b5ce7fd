// The frozen model and its tokenizer, loaded once per stage.
import { loadHfCheckpoint } from '../io/checkpoint.js';
import { loadTokenizer } from '../io/tokenizer/load.js';
import type { Tokenizer } from '../io/tokenizer/tokenizer.js';
import type { T5Model } from '../nn/t5/model.js';
import { disposeModel, modelFromCheckpoint } from '../nn/t5/weights.js';

export interface LoadedModel {
  model: T5Model;
  tokenizer: Tokenizer;
  /** Where it came from, for adapter configs and run metadata. */
  dir: string;
}

/**
 * Loads a Hugging Face T5 checkpoint directory and its tokenizer (`tokenizer` overrides where
 * from); `arena` when every weight is trained (see modelFromCheckpoint).
 */
export function loadModel(dir: string, tokenizer: string | null, options: { arena?: boolean } = {}): LoadedModel {
  const ckpt = loadHfCheckpoint(dir);
  const tok = loadTokenizer(tokenizer ?? dir);
  if (tok.vocabSize > ckpt.config.vocab_size) {
    throw new Error(`${tokenizer ?? dir}: the tokenizer has ${tok.vocabSize} ids but the model's vocab_size is ${ckpt.config.vocab_size}`);
  }
  return { model: modelFromCheckpoint(ckpt, options), tokenizer: tok, dir };
}

/** What run metadata records about the model. */
export function modelSummary(m: LoadedModel): Record<string, unknown> {
  const c = m.model.config;
  return {
    dir: m.dir,
    model_type: c.model_type,
    d_model: c.d_model,
    num_layers: c.num_layers,
    num_decoder_layers: c.num_decoder_layers,
    num_heads: c.num_heads,
    vocab_size: c.vocab_size,
    feed_forward_proj: c.feed_forward_proj,
    dropout_rate: c.dropout_rate,
    tokenizer_vocab: m.tokenizer.vocabSize,
  };
}

/** Frees the model's parameters. */
export function releaseModel(m: LoadedModel): void {
  disposeModel(m.model);
}
