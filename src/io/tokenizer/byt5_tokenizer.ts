// Hugging Face's ByT5Tokenizer: UTF-8 bytes shifted by 3 (pad 0, eos 1, unk 2), then 125 extra
// ids after the 259 byte ids in ascending order: <extra_id_n> = 259 + n, 384 ids in all. (HF's
// docstring says <extra_id_0> is the last token; its code, which fixed the released checkpoints'
// ids, assigns them ascending, and that is what we follow.)
import { addEosIfAbsent, splitOnSpecialTokens } from './special_tokens.js';
import type { DecodeOptions, EncodeOptions, Tokenizer } from './tokenizer.js';

const OFFSET = 3;
const utf8 = new TextEncoder();

/**
 * UTF-8 decoding that drops malformed bytes, as Python's bytes.decode('utf-8', errors='ignore')
 * does (HF decodes ByT5 output that way, since a model can emit any byte sequence).
 */
export function decodeUtf8Ignoring(bytes: Uint8Array): string {
  const strict = new TextDecoder('utf-8', { fatal: true });
  try {
    return strict.decode(bytes);
  } catch {
    // Malformed input: keep only the well-formed characters.
  }
  const kept: number[] = [];
  for (let i = 0; i < bytes.length;) {
    const c = bytes[i]!;
    const need = c < 0x80 ? 1 : c >= 0xc2 && c <= 0xdf ? 2 : c >= 0xe0 && c <= 0xef ? 3 : c >= 0xf0 && c <= 0xf4 ? 4 : 0;
    let ok = need > 0 && i + need <= bytes.length;
    if (ok && need > 1) {
      try { strict.decode(bytes.subarray(i, i + need)); } catch { ok = false; }
    }
    if (ok) { for (let k = 0; k < need; k++) kept.push(bytes[i + k]!); i += need; } else i++;
  }
  return strict.decode(Uint8Array.from(kept));
}

/** HF ByT5Tokenizer ids: 384 = 3 specials + 256 bytes + 125 sentinels. */
export class ByT5Tokenizer implements Tokenizer {
  readonly padId = 0;
  readonly eosId = 1;
  readonly unkId = 2;
  readonly vocabSize: number;

  constructor(readonly extraIds = 125) {
    if (!Number.isInteger(extraIds) || extraIds < 0) throw new RangeError(`extraIds must be a non-negative integer, got ${extraIds}`);
    this.vocabSize = 256 + OFFSET + extraIds;
  }

  sentinel(n: number): number {
    if (!Number.isInteger(n) || n < 0 || n >= this.extraIds) throw new RangeError(`sentinel ${n} is out of range [0, ${this.extraIds})`);
    return 256 + OFFSET + n;
  }

  private specialId(token: string): number | null {
    if (token === '<pad>') return this.padId;
    if (token === '</s>') return this.eosId;
    if (token === '<unk>') return this.unkId;
    const m = /^<extra_id_(\d+)>$/.exec(token);
    return m && Number(m[1]) < this.extraIds ? this.sentinel(Number(m[1])) : null;
  }

  private tokenText(id: number): string {
    return id === 0 ? '<pad>' : id === 1 ? '</s>' : id === 2 ? '<unk>' : `<extra_id_${id - 256 - OFFSET}>`;
  }

  encode(text: string, { addEos = true, specialTokens = true }: EncodeOptions = {}): number[] {
    const ids: number[] = [];
    const parts = specialTokens ? splitOnSpecialTokens(text, (t) => this.specialId(t)) : [{ text }];
    for (const part of parts) {
      if ('id' in part) ids.push(part.id);
      else for (const b of utf8.encode(part.text)) ids.push(b + OFFSET);
    }
    return addEos ? addEosIfAbsent(ids, this.eosId) : ids;
  }

  /** Bytes back to text (malformed UTF-8 dropped); special ids print as their token text unless skipped. */
  decode(ids: readonly number[], { skipSpecial = false }: DecodeOptions = {}): string {
    const bytes: number[] = [];
    for (const id of ids) {
      if (!Number.isInteger(id) || id < 0 || id >= this.vocabSize) throw new RangeError(`token id ${id} is out of range [0, ${this.vocabSize})`);
      if (id >= OFFSET && id < 256 + OFFSET) { bytes.push(id - OFFSET); continue; }
      if (!skipSpecial) for (const b of utf8.encode(this.tokenText(id))) bytes.push(b);
    }
    return decodeUtf8Ignoring(Uint8Array.from(bytes));
  }
}
