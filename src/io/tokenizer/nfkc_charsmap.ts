// Our own "nmt_nfkc" normalization map, generated from the JavaScript runtime's Unicode data
// rather than copied from a trained model: every code point that NFKC changes maps to its NFKC
// form, then SentencePiece's NMT rules apply on top (its builder's list: tabs, line breaks and
// other separators become a space, ASCII control characters are deleted), plus U+0085 NEXT LINE
// as a space, since the tokenizers library's whitespace split treats it as one. Keys are single code
// points, so the map is prefix-free: SentencePiece's longest match and the tokenizers library's
// first match agree. Unlike SentencePiece's nmt_nfkc it does not compose sequences (e + U+0301
// stays two code points); the model's vocabulary is trained on text normalized by this same map.
import { buildCharsmap } from './charsmap_builder.js';
import type { NormalizerSpec } from './sentencepiece_model.js';

/** Code points that become a space. */
const NMT_SPACES = [0x09, 0x0a, 0x0c, 0x0d, 0x85, 0x1680, 0x200b, 0x200c, 0x200e, 0x200f, 0x2028, 0x2029, 0x2581, 0xfeff, 0xfffd];
/** Code points that are deleted. */
const NMT_DELETED = [...Array.from({ length: 0x1f }, (_, i) => i + 1).filter((c) => ![0x09, 0x0a, 0x0c, 0x0d].includes(c)), 0x7f, 0x8f, 0x9f];

/** The map: single code point -> replacement. */
export function nmtNfkcMap(): Map<string, string> {
  const map = new Map<string, string>();
  for (let cp = 1; cp <= 0x10ffff; cp++) {
    if (cp >= 0xd800 && cp <= 0xdfff) continue;
    const ch = String.fromCodePoint(cp);
    const nfkc = ch.normalize('NFKC');
    if (nfkc !== ch) map.set(ch, nfkc);
  }
  for (const cp of NMT_SPACES) map.set(String.fromCodePoint(cp), ' ');
  for (const cp of NMT_DELETED) map.set(String.fromCodePoint(cp), '');
  return map;
}

let cached: Uint8Array | null = null;

/** The normalizer spec of trained vocabularies: this map plus SentencePiece's whitespace handling. */
export function nmtNfkcNormalizer(): NormalizerSpec {
  cached ??= buildCharsmap(nmtNfkcMap());
  return {
    name: 'nmt_nfkc_cp', precompiledCharsmap: cached, addDummyPrefix: true,
    removeExtraWhitespaces: true, escapeWhitespaces: true, normalizationRuleTsv: '',
  };
}
