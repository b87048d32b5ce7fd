// The tokenizer files of a checkpoint directory that we write, so that transformers' AutoTokenizer
// loads the tokenizer the model was trained with: ByT5's tokenizer_config.json, or T5's
// spiece.model with the tokenizer files that came with it (or a tokenizer_config.json naming it).
import { copyFileSync, existsSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { pythonJson } from '../../util/py_json.js';
import { writeFileAtomic } from '../atomic.js';
import { ByT5Tokenizer } from './byt5_tokenizer.js';
import { T5Tokenizer } from './t5_tokenizer.js';
import type { Tokenizer } from './tokenizer.js';

/** Files beside spiece.model that describe the same tokenizer; copied when the source has them. */
const COMPANIONS = ['tokenizer_config.json', 'special_tokens_map.json', 'added_tokens.json', 'tokenizer.json'];

function writeTokenizerConfig(dir: string, tokenizerClass: string, extraIds: number): void {
  const config = { tokenizer_class: tokenizerClass, extra_ids: extraIds, eos_token: '</s>', pad_token: '<pad>', unk_token: '<unk>' };
  writeFileAtomic(join(dir, 'tokenizer_config.json'), [`${pythonJson(config)}\n`]);
}

/**
 * Writes the files of `tok` into the checkpoint directory `dir`. `source` is what it was loaded
 * from (a checkpoint directory or a spiece.model file): a SentencePiece vocabulary is copied from
 * there; ByT5 needs no file but its tokenizer_config.json.
 */
export function saveTokenizerFiles(dir: string, tok: Tokenizer, source: string | null): void {
  if (tok instanceof ByT5Tokenizer) {
    writeTokenizerConfig(dir, 'ByT5Tokenizer', tok.extraIds);
    return;
  }
  if (!(tok instanceof T5Tokenizer)) throw new Error(`saveTokenizerFiles(${dir}): no file layout for a ${tok.constructor.name}`);
  if (source === null) throw new Error(`saveTokenizerFiles(${dir}): a SentencePiece tokenizer needs the spiece.model it was loaded from`);
  const sourceDir = statSync(source).isDirectory() ? source : null;
  copyFileSync(sourceDir ? join(sourceDir, 'spiece.model') : source, join(dir, 'spiece.model'));
  const companions = sourceDir ? COMPANIONS.filter((f) => existsSync(join(sourceDir, f))) : [];
  for (const f of companions) copyFileSync(join(sourceDir!, f), join(dir, f));
  if (!companions.includes('tokenizer_config.json')) writeTokenizerConfig(dir, 'T5Tokenizer', tok.extraIds);
}
