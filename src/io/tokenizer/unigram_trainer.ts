// SentencePiece's unigram trainer (unigram_model_trainer.cc) in TypeScript, producing a T5-style
// spiece.model (<pad>=0, </s>=1, <unk>=2, no <s>):
//   1. the corpus is normalized, split into words and counted; the alphabet is the characters
//      covering `characterCoverage` of the text (unigram_words.ts);
//   2. seeds: the alphabet plus the most frequent substrings (unigram_seeds.ts);
//   3. EM: `subIterations` rounds of an E step (expected piece counts by forward-backward) and
//      the Bayesian M step (score = digamma(count) - digamma(total), pieces expected less than
//      0.5 times dropped), then pruning: each piece whose best segmentation is itself is scored by
//      how much the likelihood would drop if its occurrences were segmented its second-best way,
//      and the `shrinkingFactor` most valuable survive; repeated until the vocabulary is within
//      1.1 x the size asked for;
//   4. the alphabet is added back if the EM dropped any character, and the best-scoring pieces
//      fill the vocabulary to exactly the size asked for, sorted by score (log probability).
// Same input, same bytes: every ordering breaks ties explicitly and nothing is random.
import { nmtNfkcNormalizer } from './nfkc_charsmap.js';
import { lowest, UNK_PENALTY, type Lattices } from './unigram_lattice.js';
import { makeSeeds } from './unigram_seeds.js';
import { collectWords, compareUtf8, type TrainingWords } from './unigram_words.js';
import { PieceType, type NormalizerSpec, type SentencePiece, type SentencePieceModelProto } from './sentencepiece_model.js';

/** Options of trainUnigram; the defaults are SentencePiece's. */
export interface UnigramTrainerOptions {
  /** Pieces in the model, the three special pieces included. */
  vocabSize: number;
  characterCoverage?: number;
  maxPieceLength?: number;
  seedSize?: number;
  shrinkingFactor?: number;
  subIterations?: number;
  /** How text is normalized, at training and in the written model; default nmtNfkcNormalizer(). */
  normalizer?: NormalizerSpec;
  /** Called with the seeds, after every EM step and after every pruning. */
  onStep?: (step: TrainerStep) => void;
}

/** Progress of training. */
export interface TrainerStep {
  kind: 'seed' | 'em' | 'prune';
  /** Pieces after the step. */
  size: number;
  /** For EM steps: minus the log likelihood per word under the pieces before the step. */
  objective?: number;
}

/** T5's special pieces, at these ids. */
const SPECIALS: readonly { piece: string; type: PieceType }[] = [
  { piece: '<pad>', type: PieceType.CONTROL },
  { piece: '</s>', type: PieceType.CONTROL },
  { piece: '<unk>', type: PieceType.UNKNOWN },
];
const MIN_EXPECTED = 0.5;
const REQUIRED_PENALTY_STEP = 0.0001;

/** SentencePiece's digamma approximation. */
export function digamma(x: number): number {
  let r = 0;
  for (; x < 7; x++) r -= 1 / x;
  x -= 0.5;
  const xx = 1 / x, xx2 = xx * xx, xx4 = xx2 * xx2;
  return r + Math.log(x) + xx2 / 24 - (7 / 960) * xx4 + (31 / 8064) * xx4 * xx2 - (127 / 30720) * xx4 * xx4;
}

/** The vocabulary being trained: pieces as character ids and their scores. */
interface Model {
  pieces: Int32Array[];
  scores: Float64Array;
}

/** Keeps the pieces listed in `keep` (in that order) and renumbers the lattice edges. */
function select(model: Model, lattices: Lattices, keep: readonly number[], scores: ArrayLike<number>): Model {
  const newId = new Int32Array(model.pieces.length).fill(-1);
  keep.forEach((old, i) => { newId[old] = i; });
  lattices.remap(newId);
  return { pieces: keep.map((i) => model.pieces[i]!), scores: Float64Array.from(keep, (_, i) => Math.fround(scores[i]!)) };
}

/** Bayesian M step: drops rarely expected pieces, scores the rest digamma(count) - digamma(total). */
function maximize(model: Model, lattices: Lattices, expected: Float64Array): Model {
  const keep: number[] = [];
  let sum = 0;
  expected.forEach((c, i) => { if (c >= MIN_EXPECTED) { keep.push(i); sum += c; } });
  const logSum = digamma(sum);
  return select(model, lattices, keep, keep.map((i) => digamma(expected[i]!) - logSum));
}

/** A trie over the pieces (by character id) for segmenting the pieces themselves. */
function pieceTrie(model: Model, symbols: number): { child: Map<number, number>; value: Int32Array } {
  const child = new Map<number, number>();
  let nodes = 1;
  const value: number[] = [-1];
  model.pieces.forEach((chars, id) => {
    let node = 0;
    for (const c of chars) {
      const key = node * symbols + c;
      let next = child.get(key);
      if (next === undefined) { child.set(key, (next = nodes++)); value.push(-1); }
      node = next;
    }
    value[node] = id;
  });
  return { child, value: Int32Array.from(value) };
}

/**
 * The best segmentation of piece `id` that does not use the piece itself: its pieces, or null
 * when it needs an unknown character or scores no better than the piece (the piece is then kept
 * unconditionally, or dropped as redundant, by the caller's rule).
 */
function alternative(model: Model, trie: ReturnType<typeof pieceTrie>, symbols: number, id: number, unk: number): { pieces: number[]; score: number; usesUnk: boolean } {
  const chars = model.pieces[id]!, n = chars.length;
  const best = new Float64Array(n + 1).fill(-Infinity), backFrom = new Int32Array(n + 1), backId = new Int32Array(n + 1);
  best[0] = 0;
  for (let p = 0; p < n; p++) {
    let node = 0, single = false;
    for (let q = p; q < n; q++) {
      const next = trie.child.get(node * symbols + chars[q]!);
      if (next === undefined) break;
      node = next;
      const v = trie.value[node]!;
      if (v < 0 || (p === 0 && q === n - 1)) continue;
      if (q === p) single = true;
      const c = best[p]! + model.scores[v]!;
      if (c > best[q + 1]!) { best[q + 1] = c; backFrom[q + 1] = p; backId[q + 1] = v; }
    }
    if (!single && best[p]! + unk > best[p + 1]!) { best[p + 1] = best[p]! + unk; backFrom[p + 1] = p; backId[p + 1] = -1; }
  }
  const pieces: number[] = [];
  let usesUnk = false;
  for (let q = n; q > 0; q = backFrom[q]!) {
    if (backId[q]! < 0) usesUnk = true;
    else pieces.push(backId[q]!);
  }
  return { pieces: pieces.reverse(), score: best[n]!, usesUnk };
}

/** SentencePiece's PruneSentencePieces: keeps max(desired, shrinking x size) pieces. */
function prune(model: Model, lattices: Lattices, symbols: number, desired: number, shrinkingFactor: number): Model {
  const size = model.pieces.length;
  const trie = pieceTrie(model, symbols);
  const unk = lowest(model.scores) - UNK_PENALTY;
  const freq = lattices.viterbiCounts(model.scores);
  const total = freq.reduce((a, b) => a + b, 0), logTotal = Math.log(total);
  const words = lattices.words.freq.reduce((a, b) => a + b, 0);
  const keep: number[] = [];
  const candidates: { id: number; loss: number }[] = [];
  for (let i = 0; i < size; i++) {
    if (model.pieces[i]!.length === 1) { if (freq[i]! > 0) keep.push(i); continue; }
    const alt = alternative(model, trie, symbols, i, unk);
    // Its own best segmentation splits it: the piece is never used, drop it.
    if (alt.score > model.scores[i]! || freq[i] === 0) continue;
    if (alt.usesUnk) { keep.push(i); continue; }
    // Likelihood lost if every occurrence of piece i were replaced by its alternative.
    const logProb = Math.log(freq[i]!) - logTotal;
    const logTotalAlt = Math.log(total + freq[i]! * (alt.pieces.length - 1));
    let logProbAlt = 0;
    for (const a of alt.pieces) logProbAlt += Math.log(freq[a]! + freq[i]!) - logTotalAlt;
    candidates.push({ id: i, loss: (freq[i]! / words) * (logProb - logProbAlt) });
  }
  candidates.sort((a, b) => b.loss - a.loss || a.id - b.id);
  const target = Math.max(desired, Math.trunc(shrinkingFactor * size));
  for (const c of candidates) {
    if (keep.length >= target) break;
    keep.push(c.id);
  }
  return select(model, lattices, keep, keep.map((i) => model.scores[i]!));
}

/** The alphabet, then the best-scoring pieces, to exactly `size` pieces sorted by score. */
function finalize(model: Model, words: TrainingWords, size: number): { piece: string; score: number }[] {
  const text = (chars: Int32Array) => Array.from(chars, (c) => words.alphabet[c]!).join('');
  const scoreOf = new Map(model.pieces.map((p, i) => [text(p), model.scores[i]!]));
  const minScore = lowest(model.scores);
  const final = new Map<string, number>();
  let penalty = 0;
  for (const ch of words.alphabet.slice(1)) {
    const s = scoreOf.get(ch);
    // A character the EM dropped comes back just above the lowest score, rarer ones higher, as SentencePiece does.
    if (s === undefined) { final.set(ch, Math.fround(minScore + penalty)); penalty += REQUIRED_PENALTY_STEP; }
    else final.set(ch, s);
  }
  const byScore = (a: [string, number], b: [string, number]) => b[1] - a[1] || compareUtf8(a[0], b[0]);
  for (const [piece, score] of [...scoreOf].sort(byScore)) {
    if (final.size >= size) break;
    if (!final.has(piece)) final.set(piece, score);
  }
  if (final.size < size) {
    throw new Error(`unigram trainer: the corpus supports only ${final.size + SPECIALS.length} pieces, not ${size + SPECIALS.length}`);
  }
  return [...final].sort(byScore).map(([piece, score]) => ({ piece, score }));
}

/** Trains a unigram vocabulary of exactly `vocabSize` pieces on `documents`. */
export function trainUnigram(documents: Iterable<string>, opts: UnigramTrainerOptions): SentencePieceModelProto {
  const {
    vocabSize, characterCoverage = 0.9995, maxPieceLength = 16, seedSize = 1_000_000,
    shrinkingFactor = 0.75, subIterations = 2, normalizer = nmtNfkcNormalizer(), onStep,
  } = opts;
  if (!Number.isInteger(vocabSize) || vocabSize <= SPECIALS.length) throw new RangeError(`vocabSize must be an integer above ${SPECIALS.length}, got ${vocabSize}`);
  if (!(characterCoverage > 0 && characterCoverage <= 1)) throw new RangeError(`characterCoverage must be in (0, 1], got ${characterCoverage}`);
  if (!Number.isInteger(maxPieceLength) || maxPieceLength < 1 || maxPieceLength > 255) throw new RangeError(`maxPieceLength must be an integer in [1, 255], got ${maxPieceLength}`);
  if (!(shrinkingFactor > 0 && shrinkingFactor < 1)) throw new RangeError(`shrinkingFactor must be in (0, 1), got ${shrinkingFactor}`);
  if (!Number.isInteger(subIterations) || subIterations < 1) throw new RangeError(`subIterations must be a positive integer, got ${subIterations}`);
  const size = vocabSize - SPECIALS.length;

  const words = collectWords(documents, normalizer, characterCoverage);
  if (words.alphabet.length - 1 > size) {
    throw new Error(`unigram trainer: ${words.alphabet.length - 1} characters are needed for coverage ${characterCoverage}; ask for at least ${words.alphabet.length - 1 + SPECIALS.length} pieces or lower the coverage`);
  }
  const symbols = words.alphabet.length;
  const seeds = makeSeeds(words, maxPieceLength, seedSize);
  const lattices = seeds.lattices;
  let model: Model = { pieces: seeds.pieces, scores: seeds.scores };
  onStep?.({ kind: 'seed', size: model.pieces.length });
  const desired = Math.trunc(size * 1.1);
  for (;;) {
    for (let it = 0; it < subIterations; it++) {
      const { expected, objective } = lattices.expectation(model.scores);
      model = maximize(model, lattices, expected);
      onStep?.({ kind: 'em', size: model.pieces.length, objective });
    }
    if (model.pieces.length <= desired) break;
    model = prune(model, lattices, symbols, desired, shrinkingFactor);
    onStep?.({ kind: 'prune', size: model.pieces.length });
  }

  const enc = new TextEncoder();
  const pieces: SentencePiece[] = [
    ...SPECIALS.map((s) => ({ piece: s.piece, bytes: enc.encode(s.piece), score: 0, type: s.type })),
    ...finalize(model, words, size).map(({ piece, score }) => ({ piece, bytes: enc.encode(piece), score, type: PieceType.NORMAL })),
  ];
  return {
    pieces,
    trainer: { modelType: 1, byteFallback: false, treatWhitespaceAsSuffix: false, unkId: 2, bosId: -1, eosId: 1, padId: 0, unkSurface: ' \u2047 ' },
    normalizer,
    denormalizer: null,
  };
}
