// Picking the tokenizer that belongs to a checkpoint: spiece.model means SentencePiece (T5, flan-T5,
// mT5); no spiece.model and a ByT5 tokenizer_config.json, or a 384-token config, means bytes.
import { existsSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import type { T5Config } from '../../nn/t5/config.js';
import { ByT5Tokenizer } from './byt5_tokenizer.js';
import { T5Tokenizer } from './t5_tokenizer.js';
import type { Tokenizer } from './tokenizer.js';

/** ByT5's vocabulary: 256 bytes + 3 specials + 125 extra ids. */
const BYT5_VOCAB = 384;

function readJsonIfPresent(path: string): Record<string, unknown> | null {
  if (!existsSync(path)) return null;
  try {
    const v = JSON.parse(readFileSync(path, 'utf8')) as unknown;
    return v !== null && typeof v === 'object' && !Array.isArray(v) ? (v as Record<string, unknown>) : null;
  } catch (err) {
    throw new Error(`${path}: malformed JSON: ${(err as Error).message}`);
  }
}

/**
 * The tokenizer for a checkpoint directory, a spiece.model path, or a parsed T5 config (which
 * can only identify ByT5: a SentencePiece vocabulary needs its file). extra_ids are read from
 * tokenizer_config.json when present (T5 default 100, ByT5 default 125).
 */
export function loadTokenizer(source: string | T5Config): Tokenizer {
  if (typeof source !== 'string') {
    if (source.vocab_size === BYT5_VOCAB) return new ByT5Tokenizer();
    throw new Error(`loadTokenizer: a config with vocab_size ${source.vocab_size} needs its spiece.model; pass the checkpoint directory instead`);
  }
  if (!existsSync(source)) throw new Error(`loadTokenizer: ${source} does not exist`);
  if (!statSync(source).isDirectory()) return T5Tokenizer.fromFile(source);
  const tokConfig = readJsonIfPresent(join(source, 'tokenizer_config.json'));
  const extra = tokConfig?.extra_ids;
  if (extra !== undefined && (typeof extra !== 'number' || !Number.isInteger(extra) || extra < 0)) {
    throw new Error(`${join(source, 'tokenizer_config.json')}: extra_ids must be a non-negative integer, got ${JSON.stringify(extra)}`);
  }
  const spiece = join(source, 'spiece.model');
  if (existsSync(spiece)) return T5Tokenizer.fromFile(spiece, (extra as number | undefined) ?? 100);
  const config = readJsonIfPresent(join(source, 'config.json'));
  if (tokConfig?.tokenizer_class === 'ByT5Tokenizer' || config?.vocab_size === BYT5_VOCAB) {
    return new ByT5Tokenizer((extra as number | undefined) ?? 125);
  }
  throw new Error(`loadTokenizer: ${source} has no spiece.model and is not a ByT5 checkpoint (tokenizer_config.json tokenizer_class ByT5Tokenizer, or config.json vocab_size ${BYT5_VOCAB})`);
}
