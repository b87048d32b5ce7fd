// The lattices of unigram training: for every distinct word, the places where a current piece
// occurs (edges from, to, piece; sorted by from, then to). They are found once for the seeds and
// then only filtered as pieces are dropped, so an EM step never searches for pieces again. As in
// SentencePiece's lattice, a position that no one-character piece starts gets an unknown edge
// scored (lowest piece score - 10), which counts toward the likelihood but toward no piece.
import type { TrainingWords } from './unigram_words.js';

/** An unknown character scores this far below the lowest piece. */
export const UNK_PENALTY = 10;

/** The lowest score (a loop: spreading a million scores into Math.min overflows the stack). */
export function lowest(scores: ArrayLike<number>): number {
  let min = Infinity;
  for (let i = 0; i < scores.length; i++) min = Math.min(min, scores[i]!);
  return min;
}

/** log(exp(a) + exp(b)) without overflow; -Infinity is the empty sum. */
function logAdd(a: number, b: number): number {
  if (a === -Infinity) return b;
  if (b === -Infinity) return a;
  return a > b ? a + Math.log1p(Math.exp(b - a)) : b + Math.log1p(Math.exp(a - b));
}

/** Result of an E step. */
export interface Expectation {
  /** Expected occurrences of each piece in the corpus. */
  expected: Float64Array;
  /** Minus the corpus log likelihood per word: SentencePiece's EM objective (lower is better). */
  objective: number;
}

/** The edges of every training word's lattice, with the E step and Viterbi counts over them. */
export class Lattices {
  private from = new Int32Array(1 << 16);
  private to = new Int32Array(1 << 16);
  private piece = new Int32Array(1 << 16);
  private edges = 0;
  /** Word k's edges are [wordEdges[k], wordEdges[k + 1]). */
  private wordEdges: number[] = [0];
  private alpha = new Float64Array(0);
  private beta = new Float64Array(0);
  private back = new Int32Array(0);

  constructor(readonly words: TrainingWords) {}

  /** Adds an edge to the word being built; edges must come sorted by from, then to. */
  push(from: number, to: number, piece: number): void {
    if (this.edges === this.from.length) {
      const grow = (a: Int32Array) => { const b = new Int32Array(a.length * 2); b.set(a); return b; };
      this.from = grow(this.from); this.to = grow(this.to); this.piece = grow(this.piece);
    }
    this.from[this.edges] = from; this.to[this.edges] = to; this.piece[this.edges++] = piece;
  }

  endWord(): void {
    this.wordEdges.push(this.edges);
  }

  /** Renumbers pieces after a model change; edges of pieces mapped to -1 are removed. */
  remap(newId: Int32Array): void {
    let out = 0, k = 1;
    const starts = this.wordEdges;
    for (let e = 0; e < this.edges; e++) {
      while (starts[k]! <= e) starts[k++] = out;
      const p = newId[this.piece[e]!]!;
      if (p < 0) continue;
      this.from[out] = this.from[e]!; this.to[out] = this.to[e]!; this.piece[out++] = p;
    }
    while (k < starts.length) starts[k++] = out;
    this.edges = out;
  }

  private prepare(n: number): void {
    if (this.alpha.length > n) return;
    this.alpha = new Float64Array(2 * n + 2);
    this.beta = new Float64Array(2 * n + 2);
    this.back = new Int32Array(2 * n + 2);
  }

  private unkScore(scores: Float64Array): number {
    return lowest(scores) - UNK_PENALTY;
  }

  /** Whether position p of a word (its edges from e on) lacks a one-character piece. */
  private needsUnk(e: number, end: number, p: number): boolean {
    for (; e < end && this.from[e] === p; e++) if (this.to[e] === p + 1) return false;
    return true;
  }

  /** Forward-backward over every word: expected piece counts and the objective. */
  expectation(scores: Float64Array): Expectation {
    const { start, freq } = this.words;
    const { from, to, piece } = this;
    const unk = this.unkScore(scores);
    const expected = new Float64Array(scores.length);
    let objective = 0, total = 0;
    for (let k = 0; k < freq.length; k++) {
      const n = start[k + 1]! - start[k]!, e0 = this.wordEdges[k]!, e1 = this.wordEdges[k + 1]!, f = freq[k]!;
      this.prepare(n);
      const alpha = this.alpha.fill(-Infinity, 0, n + 1), beta = this.beta.fill(-Infinity, 0, n + 1);
      alpha[0] = 0;
      for (let p = 0, e = e0; p < n; p++) {
        if (this.needsUnk(e, e1, p)) alpha[p + 1] = logAdd(alpha[p + 1]!, alpha[p]! + unk);
        for (; e < e1 && from[e] === p; e++) alpha[to[e]!] = logAdd(alpha[to[e]!]!, alpha[p]! + scores[piece[e]!]!);
      }
      beta[n] = 0;
      for (let p = n - 1, e = e1 - 1; p >= 0; p--) {
        let b = -Infinity;
        const last = e;
        for (; e >= e0 && from[e] === p; e--) b = logAdd(b, scores[piece[e]!]! + beta[to[e]!]!);
        if (this.needsUnk(e + 1, last + 1, p)) b = logAdd(b, unk + beta[p + 1]!);
        beta[p] = b;
      }
      const z = alpha[n]!;
      for (let e = e0; e < e1; e++) {
        expected[piece[e]!] += f * Math.exp(alpha[from[e]!]! + scores[piece[e]!]! + beta[to[e]!]! - z);
      }
      objective -= f * z;
      total += f;
    }
    return { expected, objective: objective / total };
  }

  /** Occurrences of each piece in the best segmentations of all words. */
  viterbiCounts(scores: Float64Array): Float64Array {
    const { start, freq } = this.words;
    const { from, to, piece } = this;
    const unk = this.unkScore(scores);
    const counts = new Float64Array(scores.length);
    for (let k = 0; k < freq.length; k++) {
      const n = start[k + 1]! - start[k]!, e0 = this.wordEdges[k]!, e1 = this.wordEdges[k + 1]!;
      this.prepare(n);
      const best = this.alpha.fill(-Infinity, 0, n + 1), back = this.back;
      best[0] = 0;
      for (let p = 0, e = e0; p < n; p++) {
        if (this.needsUnk(e, e1, p) && best[p]! + unk > best[p + 1]!) { best[p + 1] = best[p]! + unk; back[p + 1] = -1; }
        for (; e < e1 && from[e] === p; e++) {
          const c = best[p]! + scores[piece[e]!]!;
          if (c > best[to[e]!]!) { best[to[e]!] = c; back[to[e]!] = e; }
        }
      }
      for (let p = n; p > 0;) {
        const e = back[p]!;
        if (e < 0) { p--; continue; }
        counts[piece[e]!] += freq[k]!;
        p = from[e]!;
      }
    }
    return counts;
  }
}
