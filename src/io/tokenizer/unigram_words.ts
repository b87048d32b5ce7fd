// The training text of a unigram vocabulary as SentencePiece's trainer sees it: each document
// normalized as the finished model will normalize it at encoding time (so spaces are U+2581 and
// a dummy prefix starts the text), split before every U+2581 into words (split_by_whitespace),
// and counted, since the EM works on distinct words weighted by frequency. Characters are
// ranked by frequency and the most frequent ones covering `characterCoverage` of the text form
// the alphabet; the rest become U+2585, which no piece may contain.
import { Normalizer } from './normalizer.js';
import type { NormalizerSpec } from './sentencepiece_model.js';

/** Stands for every character outside the alphabet (SentencePiece's kUNKChar). */
export const UNK_CHAR = '\u2585';
export const SPACE_CHAR = '\u2581';
const TAB = '\t';

/** Distinct words of the corpus as character ids, most frequent first. */
export interface TrainingWords {
  /** Characters by id, most frequent first; id 0 is UNK_CHAR. */
  alphabet: string[];
  /** How often each alphabet character occurs (0 for UNK_CHAR). */
  charCount: Float64Array;
  /** Character ids of all words concatenated; word k is chars[start[k] .. start[k + 1]). */
  chars: Int32Array;
  start: Int32Array;
  /** Occurrences of word k. */
  freq: Float64Array;
  /** Occurrences of word k at the end of a document (its right context is then the boundary). */
  finalFreq: Float64Array;
}

/** SentencePiece's Sorted() order for strings: UTF-8 byte order, which is code point order. */
export function compareUtf8(a: string, b: string): number {
  const n = Math.min(a.length, b.length);
  for (let i = 0; i < n; i++) {
    const x = a.charCodeAt(i), y = b.charCodeAt(i);
    if (x === y) continue;
    // UTF-16 order is code point order except that surrogates (astral characters) sort above U+E000-U+FFFF.
    const sx = x >= 0xd800 && x <= 0xdfff, sy = y >= 0xd800 && y <= 0xdfff;
    return sx !== sy ? (sx ? 1 : -1) : x - y;
  }
  return a.length - b.length;
}

/** Normalizes, splits and counts the words of `documents`, and picks the alphabet. */
export function collectWords(documents: Iterable<string>, spec: NormalizerSpec, characterCoverage: number): TrainingWords {
  const normalizer = new Normalizer(spec, null);
  const enc = new TextEncoder(), dec = new TextDecoder();
  const counts = new Map<string, [number, number]>();
  const charCounts = new Map<string, number>();
  for (const doc of documents) {
    const norm = dec.decode(normalizer.normalize(enc.encode(doc)));
    if (norm === '') continue;
    const words = norm.split(/(?=\u2581)/u);
    words.forEach((w, i) => {
      let c = counts.get(w);
      if (!c) counts.set(w, (c = [0, 0]));
      c[0]++;
      if (i === words.length - 1) c[1]++;
    });
  }
  if (counts.size === 0) throw new Error('unigram trainer: the corpus has no text');
  for (const [w, [f]] of counts) for (const ch of w) charCounts.set(ch, (charCounts.get(ch) ?? 0) + f);

  // Required characters: most frequent first (ties by code point) until the coverage is reached.
  const ranked = [...charCounts].sort((a, b) => b[1] - a[1] || compareUtf8(a[0], b[0]));
  const total = ranked.reduce((s, [, n]) => s + n, 0);
  const alphabet = [UNK_CHAR];
  const charCount = [0];
  let covered = 0;
  for (const [ch, n] of ranked) {
    if (covered / total >= characterCoverage) break;
    covered += n;
    // A tab is SentencePiece's boundary marker, and U+2585 its stand-in for rare characters.
    if (ch === TAB || ch === UNK_CHAR) continue;
    alphabet.push(ch);
    charCount.push(n);
  }
  const idOf = new Map(alphabet.map((ch, i) => [ch, i]));
  idOf.set(UNK_CHAR, 0);

  const sorted = [...counts].sort((a, b) => b[1][0] - a[1][0] || compareUtf8(a[0], b[0]));
  const start = new Int32Array(sorted.length + 1);
  const ids: number[] = [];
  const freq = new Float64Array(sorted.length), finalFreq = new Float64Array(sorted.length);
  sorted.forEach(([w, [f, g]], k) => {
    for (const ch of w) ids.push(idOf.get(ch) ?? 0);
    start[k + 1] = ids.length;
    freq[k] = f;
    finalFreq[k] = g;
  });
  return { alphabet, charCount: Float64Array.from(charCount), chars: Int32Array.from(ids), start, freq, finalFreq };
}
