// Viterbi segmentation of normalized text under a unigram language model, the way SentencePiece's
// unigram_model.cc EncodeOptimized does it, down to its arithmetic: scores are float32, a path's
// candidate score is formed in double and stored back as float32, the unknown piece costs
// (min score - 10) in float32, and ties keep the first candidate found (shorter pieces and
// earlier starts first). Matching that exactly is what makes the ids equal to SentencePiece's.
import { ByteTrie } from './byte_trie.js';
import { PieceType, type SentencePiece } from './sentencepiece_model.js';

const UNK_PENALTY = 10;

/** Byte length of the UTF-8 character starting with byte b (SentencePiece's OneCharLen). */
const oneCharLen = (b: number) => (b < 0xc0 ? 1 : b < 0xe0 ? 2 : b < 0xf0 ? 3 : 4);

/** One piece of a segmentation. */
export interface Segment {
  /** Byte range [start, end) of the normalized text. */
  start: number;
  end: number;
  /** Piece id; the model's unk id for a character no piece covers. */
  id: number;
}

/** The unigram model of one vocabulary; not reentrant (it reuses its lattice arrays). */
export class UnigramModel {
  readonly trie: ByteTrie;
  private readonly scores: Float32Array;
  private readonly kind: Uint8Array;
  private readonly unkScore: number;
  private readonly maxScore: number;
  private best = new Float32Array(0);
  private from = new Int32Array(0);
  private bestId = new Int32Array(0);

  constructor(pieces: readonly SentencePiece[], readonly unkId: number) {
    const keys: Uint8Array[] = [], ids: number[] = [];
    this.scores = new Float32Array(pieces.length);
    this.kind = new Uint8Array(pieces.length);
    // SentencePiece starts from FLT_MAX and FLT_MIN (the smallest positive float, not -FLT_MAX),
    // so with all-negative scores its max stays ~1e-38; the user-defined bonus depends on that.
    let min = 3.4028234663852886e38, max = 1.1754943508222875e-38;
    pieces.forEach((p, i) => {
      this.scores[i] = p.score;
      this.kind[i] = p.type;
      // Only these types are matched in text; control, unknown and byte pieces never are.
      if (p.type === PieceType.NORMAL || p.type === PieceType.USER_DEFINED || p.type === PieceType.UNUSED) {
        keys.push(p.bytes);
        ids.push(i);
      }
      if (p.type === PieceType.NORMAL) { min = Math.min(min, p.score); max = Math.max(max, p.score); }
    });
    this.trie = new ByteTrie(keys, ids);
    this.unkScore = Math.fround(Math.fround(min) - UNK_PENALTY);
    this.maxScore = Math.fround(max);
  }

  private ensure(n: number): void {
    if (this.best.length >= n) return;
    const size = Math.max(n, this.best.length * 2, 1024);
    this.best = new Float32Array(size);
    this.from = new Int32Array(size);
    this.bestId = new Int32Array(size);
  }

  /** Best segmentation of normalized UTF-8 bytes (unknown characters one segment each). */
  encode(text: Uint8Array): Segment[] {
    const size = text.length;
    this.ensure(size + 1);
    const best = this.best, from = this.from, bestId = this.bestId;
    const trie = this.trie, value = trie.value, scores = this.scores, kind = this.kind;
    from.fill(-1, 0, size + 1);
    best[0] = 0;
    for (let start = 0; start < size;) {
      const here = best[start]!;
      const mblen = Math.min(oneCharLen(text[start]!), size - start);
      let hasSingle = false;
      let node = 0;
      for (let pos = start; pos < size;) {
        node = trie.child(node, text[pos]!);
        if (node < 0) break;
        pos++;
        const id = value[node]!;
        if (id < 0 || kind[id] === PieceType.UNUSED) continue;
        const length = pos - start;
        // A user-defined symbol gets a bonus so that it always wins.
        const score = kind[id] === PieceType.USER_DEFINED ? Math.fround(length * this.maxScore) - 0.1 : scores[id]!;
        const candidate = score + here;
        if (from[pos] === -1 || candidate > best[pos]!) {
          best[pos] = candidate;
          from[pos] = start;
          bestId[pos] = id;
        }
        if (length === mblen) hasSingle = true;
      }
      if (!hasSingle) {
        const pos = start + mblen;
        const candidate = Math.fround(this.unkScore + here);
        if (from[pos] === -1 || candidate > best[pos]!) {
          best[pos] = candidate;
          from[pos] = start;
          bestId[pos] = this.unkId;
        }
      }
      start += mblen;
    }
    const out: Segment[] = [];
    for (let end = size; end > 0; end = from[end]!) out.push({ start: from[end]!, end, id: bestId[end]! });
    return out.reverse();
  }
}
