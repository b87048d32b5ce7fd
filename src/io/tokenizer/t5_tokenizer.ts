// Hugging Face's T5Tokenizer (the slow, SentencePiece-based one, in its default legacy mode) on
// top of our SentencePiece processor:
//   - special-token text (<pad>, </s>, <unk>, <extra_id_N>) is split out first and each run of
//     text in between is encoded separately, so each run gets its own dummy-prefix space. E.g.
//     "a<extra_id_0>b" is [a] [32099] [b], with "b" encoded as "▁b". HF's non-legacy mode
//     (legacy=False) would encode "b" without the prefix space; we follow the default, legacy=True;
//   - </s> is appended unless the ids already end with it;
//   - the extra ids come after the SentencePiece vocabulary in reverse: <extra_id_0> is the last id.
// Decoding follows T5Tokenizer.convert_tokens_to_string: special tokens are printed as their text
// (preceded by a space unless the previous token was special too) and the result is stripped. HF's
// optional clean_up_tokenization_spaces post-pass (" ." -> ".", whose default changed across
// versions) is not applied.
import { SentencePieceProcessor } from './sentencepiece.js';
import { addEosIfAbsent, splitOnSpecialTokens } from './special_tokens.js';
import type { DecodeOptions, EncodeOptions, Tokenizer } from './tokenizer.js';

/** Python's str.strip() whitespace, which differs from String.prototype.trim's set. */
const PY_STRIP = /^[\t\n\v\f\r\x1c-\x1f \x85\xa0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000]+|[\t\n\v\f\r\x1c-\x1f \x85\xa0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000]+$/g;

/** HF T5Tokenizer ids and text (legacy mode) for T5, flan-T5 and mT5 vocabularies. */
export class T5Tokenizer implements Tokenizer {
  readonly vocabSize: number;
  readonly padId: number;
  readonly eosId: number;
  readonly unkId: number;

  constructor(readonly sp: SentencePieceProcessor, readonly extraIds = 100) {
    if (!Number.isInteger(extraIds) || extraIds < 0) throw new RangeError(`extraIds must be a non-negative integer, got ${extraIds}`);
    this.vocabSize = sp.size + extraIds;
    this.padId = sp.pieceToId('<pad>');
    this.eosId = sp.pieceToId('</s>');
    this.unkId = sp.unkId;
  }

  /** Loads spiece.model; T5, flan-T5 and mT5 all use 100 extra ids. */
  static fromFile(path: string, extraIds = 100): T5Tokenizer {
    return new T5Tokenizer(SentencePieceProcessor.fromFile(path), extraIds);
  }

  sentinel(n: number): number {
    if (!Number.isInteger(n) || n < 0 || n >= this.extraIds) throw new RangeError(`sentinel ${n} is out of range [0, ${this.extraIds})`);
    return this.vocabSize - 1 - n;
  }

  /** Id of a special-token string, or null if it is not one of this tokenizer's. */
  private specialId(token: string): number | null {
    if (token === '<pad>') return this.padId;
    if (token === '</s>') return this.eosId;
    if (token === '<unk>') return this.unkId;
    const m = /^<extra_id_(\d+)>$/.exec(token);
    if (m && Number(m[1]) < this.extraIds) return this.sentinel(Number(m[1]));
    return null;
  }

  /** Pad, eos, unk and sentinels: HF's all_special_ids. */
  isSpecial(id: number): boolean {
    return id === this.padId || id === this.eosId || id === this.unkId || (id >= this.sp.size && id < this.vocabSize);
  }

  /** The token string of an id: a piece, or <extra_id_N>. */
  idToToken(id: number): string {
    if (!Number.isInteger(id) || id < 0 || id >= this.vocabSize) throw new RangeError(`token id ${id} is out of range [0, ${this.vocabSize})`);
    return id < this.sp.size ? this.sp.idToPiece(id) : `<extra_id_${this.vocabSize - 1 - id}>`;
  }

  encode(text: string, { addEos = true, specialTokens = true }: EncodeOptions = {}): number[] {
    const ids: number[] = [];
    const parts = specialTokens ? splitOnSpecialTokens(text, (t) => this.specialId(t)) : [{ text }];
    for (const part of parts) {
      if ('id' in part) ids.push(part.id);
      else for (const id of this.sp.encodeIds(part.text)) ids.push(id);
    }
    return addEos ? addEosIfAbsent(ids, this.eosId) : ids;
  }

  decode(ids: readonly number[], { skipSpecial = false }: DecodeOptions = {}): string {
    let out = '';
    let run: number[] = [];
    let prevSpecial = false;
    for (const id of ids) {
      if (!Number.isInteger(id) || id < 0 || id >= this.vocabSize) throw new RangeError(`token id ${id} is out of range [0, ${this.vocabSize})`);
      if (!this.isSpecial(id)) { run.push(id); prevSpecial = false; continue; }
      if (skipSpecial) continue;
      if (!prevSpecial) out += ' ';
      out += this.sp.decodeIds(run) + this.idToToken(id);
      run = [];
      prevSpecial = true;
    }
    out += this.sp.decodeIds(run);
    return out.replace(PY_STRIP, '');
  }
}
