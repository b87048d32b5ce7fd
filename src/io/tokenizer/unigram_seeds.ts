// Seed vocabulary of unigram training (SentencePiece's MakeSeedSentencePieces): every alphabet
// character, plus the most frequent substrings scored by frequency x length. SentencePiece takes
// the substrings from the internal nodes of a suffix tree, i.e. those seen at least twice and
// followed by at least two different characters (right-branching). We count the same substrings
// exactly in a trie of word substrings up to the maximum piece length, recording for each what
// follows it (the next character, the next word's U+2581 or the end of the document) to keep the
// right-branching ones. A piece must be valid as SentencePiece defines it: no U+2585, U+2581 only
// first, and one Unicode script (Hiragana and Katakana count as Han, combining marks take their
// base's script; digits and punctuation are Common, so "1990." is one piece and "cat." is not).
// The same pass lists, for every word, where each seed occurs: the lattice edges of the EM.
import { Lattices } from './unigram_lattice.js';
import { SPACE_CHAR, type TrainingWords } from './unigram_words.js';

/** Scripts told apart; a character in none of them counts as one further script. */
const SCRIPTS = [
  'Common', 'Inherited', 'Latin', 'Greek', 'Cyrillic', 'Armenian', 'Hebrew', 'Arabic', 'Syriac', 'Thaana',
  'Devanagari', 'Bengali', 'Gurmukhi', 'Gujarati', 'Oriya', 'Tamil', 'Telugu', 'Kannada', 'Malayalam',
  'Sinhala', 'Thai', 'Lao', 'Tibetan', 'Myanmar', 'Georgian', 'Hangul', 'Ethiopic', 'Cherokee', 'Khmer',
  'Mongolian', 'Han', 'Hiragana', 'Katakana', 'Bopomofo',
].map((name) => ({ name, re: new RegExp(`^\\p{Script=${name}}$`, 'u') }));
const ANY = -1, INHERITED = 1, SPACE = -2;
const HAN = SCRIPTS.findIndex((s) => s.name === 'Han');

function scriptOf(ch: string): number {
  if (ch === SPACE_CHAR) return SPACE;
  // SentencePiece counts kana, and the prolonged sound mark, as Han.
  if (ch === '\u30fc') return HAN;
  const i = SCRIPTS.findIndex((s) => s.re.test(ch));
  if (i < 0) return SCRIPTS.length;
  const name = SCRIPTS[i]!.name;
  return name === 'Hiragana' || name === 'Katakana' ? HAN : i;
}

/** A seed piece: its character ids and its initial score (a log probability). */
export interface Seeds {
  pieces: Int32Array[];
  scores: Float64Array;
  lattices: Lattices;
}

/** Growable per-node arrays of the substring trie. */
class SubstringTrie {
  private readonly children = new Map<number, number>();
  size = 1;
  count = new Float64Array(1 << 16);
  /** The one symbol seen after the substring so far, -1 none yet, -2 two or more (branching). */
  next = new Int32Array(1 << 16).fill(-1);
  depth = new Uint8Array(1 << 16);
  parent = new Int32Array(1 << 16);
  last = new Int32Array(1 << 16);

  constructor(private readonly symbols: number) {}

  child(node: number, c: number): number {
    return this.children.get(node * this.symbols + c) ?? -1;
  }

  addChild(node: number, c: number): number {
    const key = node * this.symbols + c;
    const found = this.children.get(key);
    if (found !== undefined) return found;
    if (this.size === this.count.length) this.grow();
    const id = this.size++;
    this.children.set(key, id);
    this.depth[id] = this.depth[node]! + 1;
    this.parent[id] = node;
    this.last[id] = c;
    return id;
  }

  follow(node: number, symbol: number): void {
    const n = this.next[node]!;
    if (n === -1) this.next[node] = symbol;
    else if (n !== symbol) this.next[node] = -2;
  }

  chars(node: number): Int32Array {
    const out = new Int32Array(this.depth[node]!);
    for (let i = out.length - 1; i >= 0; i--, node = this.parent[node]!) out[i] = this.last[node]!;
    return out;
  }

  private grow(): void {
    const n = this.count.length * 2;
    const count = new Float64Array(n), next = new Int32Array(n).fill(-1), depth = new Uint8Array(n);
    const parent = new Int32Array(n), last = new Int32Array(n);
    count.set(this.count); next.set(this.next); depth.set(this.depth); parent.set(this.parent); last.set(this.last);
    Object.assign(this, { count, next, depth, parent, last });
  }
}

/**
 * Seeds for `words`: all alphabet characters (score: their count) and up to `seedSize` valid
 * right-branching substrings of 2 to `maxLength` characters (score: count x length), turned
 * into log probabilities; ties keep the substring found first (words are sorted).
 */
export function makeSeeds(words: TrainingWords, maxLength: number, seedSize: number): Seeds {
  const { alphabet, chars, start, freq, finalFreq } = words;
  const nWords = freq.length;
  const endOfDoc = alphabet.length, space = alphabet.indexOf(SPACE_CHAR);
  const trie = new SubstringTrie(alphabet.length + 1);
  const scripts = alphabet.map((ch, i) => (i === 0 ? ANY : scriptOf(ch)));

  // Walks the valid substrings starting at each position of word k; `visit` sees each node.
  const walk = (k: number, create: boolean, visit: (node: number, from: number, to: number) => void): void => {
    const s = start[k]!, e = start[k + 1]!;
    for (let i = s; i < e; i++) {
      let node = 0, prev = ANY, j = i;
      for (; j < e; j++) {
        const c = chars[j]!;
        if (create && node !== 0) trie.follow(node, c);
        if (j - i >= maxLength || c === 0) break;
        let sc = scripts[c]!;
        if (sc === SPACE) { if (j > i) break; }
        else {
          if (sc === INHERITED) sc = prev;
          if (sc !== ANY && prev !== ANY && sc !== prev) break;
          prev = sc;
        }
        node = create ? trie.addChild(node, c) : trie.child(node, c);
        if (node < 0) break;
        visit(node, i - s, j + 1 - s);
      }
      if (create && j === e && node !== 0) {
        if (freq[k]! > finalFreq[k]!) trie.follow(node, space);
        if (finalFreq[k]! > 0) trie.follow(node, endOfDoc);
      }
    }
  };
  for (let k = 0; k < nWords; k++) {
    const f = freq[k]!;
    walk(k, true, (node) => { trie.count[node] += f; });
  }

  const candidates: number[] = [];
  for (let n = 1; n < trie.size; n++) if (trie.depth[n]! >= 2 && trie.next[n] === -2) candidates.push(n);
  const score = (n: number) => trie.count[n]! * trie.depth[n]!;
  candidates.sort((a, b) => score(b) - score(a) || a - b);
  candidates.length = Math.min(candidates.length, seedSize);

  const pieceOf = new Int32Array(trie.size).fill(-1);
  const pieces: Int32Array[] = [];
  const raw: number[] = [];
  for (let c = 1; c < alphabet.length; c++) {
    const node = trie.child(0, c);
    if (node < 0) continue;
    pieceOf[node] = pieces.length;
    pieces.push(Int32Array.of(c));
    raw.push(words.charCount[c]!);
  }
  for (const n of candidates) {
    pieceOf[n] = pieces.length;
    pieces.push(trie.chars(n));
    raw.push(score(n));
  }
  const logSum = Math.log(raw.reduce((a, b) => a + b, 0));
  const scores = Float64Array.from(raw, (v) => Math.log(v) - logSum);

  const lattices = new Lattices(words);
  for (let k = 0; k < nWords; k++) {
    walk(k, false, (node, from, to) => { if (pieceOf[node]! >= 0) lattices.push(from, to, pieceOf[node]!); });
    lattices.endWord();
  }
  return { pieces, scores, lattices };
}
