// From documents to span-corruption batches. As T5's span_corruption: documents are tokenised
// (no EOS), concatenated and cut into segments of random_spans_helper's raw length; each segment
// is corrupted with its own noise mask. We end every document with a newline so that document
// boundaries stay visible in the stream, and drop the tail shorter than one segment. A seeded
// choice of `evalSegments` segments is held out. Which segments a step draws, and their masks,
// are pure functions of (seed, step), so a checkpoint needs no data state to resume exactly.
import type { Tokenizer } from '../io/tokenizer/tokenizer.js';
import { collate, type HostBatch } from '../train/data.js';
import { epochOrder, mixSeed } from '../train/sampler.js';
import { randomSpansHelper, randomSpansNoiseMask, spanCorrupt, type CorruptedExample, type SpanLengths } from './span_corruption.js';

/** Purposes of derived seeds (distinct from src/train/sampler.ts' streams). */
const STREAM = { order: 101, noise: 102, heldOut: 103, evalNoise: 104 } as const;

export interface SegmentOptions {
  inputLength: number;
  noiseDensity: number;
  meanNoiseSpanLength: number;
  evalSegments: number;
  seed: number;
}

/** The token stream cut into segments, split into training and held-out segments. */
export class Segments {
  readonly lengths: SpanLengths;
  /** Segment indices used for training / held out for evaluation. */
  readonly train: Int32Array;
  readonly heldOut: Int32Array;
  private orderEpoch = -1;
  private order: number[] = [];

  constructor(readonly tokens: Int32Array, readonly tok: Tokenizer, readonly o: SegmentOptions) {
    this.lengths = randomSpansHelper(o.inputLength, o.noiseDensity, o.meanNoiseSpanLength);
    const count = Math.floor(tokens.length / this.lengths.tokensLength);
    if (count < o.evalSegments + 1) {
      throw new Error(`pretrain: the corpus makes ${count} segments of ${this.lengths.tokensLength} tokens; ${o.evalSegments} are held out and at least one must remain`);
    }
    const perm = epochOrder(count, o.seed, 0, STREAM.heldOut);
    this.heldOut = Int32Array.from(perm.slice(0, o.evalSegments)).sort();
    this.train = Int32Array.from(perm.slice(o.evalSegments)).sort();
  }

  /** Tokens of segment `i`. */
  segment(i: number): number[] {
    const n = this.lengths.tokensLength;
    return Array.from(this.tokens.subarray(i * n, (i + 1) * n));
  }

  private corrupt(i: number, maskSeed: number): CorruptedExample {
    const tokens = this.segment(i);
    const mask = randomSpansNoiseMask(tokens.length, this.o.noiseDensity, this.o.meanNoiseSpanLength, maskSeed);
    return spanCorrupt(tokens, mask, (k) => this.tok.sentinel(k), this.tok.eosId);
  }

  /** The segment of the `g`-th training draw: the training segments reshuffled each pass. */
  trainSegment(g: number): number {
    const n = this.train.length;
    const epoch = Math.floor(g / n);
    if (epoch !== this.orderEpoch) {
      this.order = epochOrder(n, this.o.seed, epoch, STREAM.order);
      this.orderEpoch = epoch;
    }
    return this.train[this.order[g % n]!]!;
  }

  /** The `g`-th training example of the run (g = step * batch + row): a fresh mask per draw. */
  trainExample(g: number): CorruptedExample {
    return this.corrupt(this.trainSegment(g), mixSeed(this.o.seed, STREAM.noise, g));
  }

  /** Held-out example `j` with its fixed mask. */
  heldOutExample(j: number): CorruptedExample {
    return this.corrupt(this.heldOut[j]!, mixSeed(this.o.seed, STREAM.evalNoise, j));
  }
}

/** Tokenises documents into one stream, each document followed by a newline. */
export function tokenStream(tok: Tokenizer, documents: readonly string[]): Int32Array {
  const parts = documents.map((d) => tok.encode(`${d}\n`, { addEos: false, specialTokens: false }));
  const out = new Int32Array(parts.reduce((a, p) => a + p.length, 0));
  let at = 0;
  for (const p of parts) {
    out.set(p, at);
    at += p.length;
  }
  return out;
}

/**
 * Input/target rows padded to exactly `lengths` (one step shape for every batch of a run), labels =
 * targets and decoder inputs shifted right.
 */
export function corruptedBatchRows(rows: readonly { input: number[]; target: number[] }[], padId: number, decoderStartId: number,
  lengths: { input: number; target: number }): HostBatch {
  return collate(rows.map((r) => ({ task: 0, ...r })), { padId, decoderStartId, padMultiple: 1, lengths });
}
