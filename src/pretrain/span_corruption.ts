// T5's span-corruption objective (google-research/text-to-text-transfer-transformer,
// t5/data/preprocessors.py: random_spans_helper, random_spans_noise_mask,
// noise_span_to_unique_sentinel, nonnoise_span_to_unique_sentinel), re-implemented on plain arrays.
// A segment of tokens gets a noise mask of round(n * density) tokens in round(noise / meanSpan)
// spans; spans alternate non-noise, noise, ... starting with non-noise (random_roll = false), and
// every such mask is equally likely. The inputs keep the non-noise tokens and replace each noise
// span by one sentinel; the targets are each sentinel followed by the tokens it hid. Both end
// with EOS (T5's output features append it). Rounding is half-to-even, as tf.round and Python's
// round. The shuffles use our seeded generator instead of TensorFlow's stateless one, so masks
// follow T5's distribution, not its exact random stream.
import { rng } from '../util/random.js';

/** Round half to even (tf.round, Python 3 round). */
export function roundHalfEven(x: number): number {
  const r = Math.round(x);
  return Math.abs(x % 1) === 0.5 && r % 2 !== 0 ? r - 1 : r;
}

/** Segment sizes for span corruption: raw tokens per segment and the resulting input/target lengths (EOS included). */
export interface SpanLengths {
  /** Raw tokens per segment (split_tokens' max_tokens_per_segment). */
  tokensLength: number;
  inputsLength: number;
  targetsLength: number;
}

function lengthsFor(tokens: number, density: number, meanSpan: number): { inputs: number; targets: number } {
  const noise = roundHalfEven(tokens * density);
  const spans = roundHalfEven(noise / meanSpan);
  return { inputs: tokens - noise + spans + 1, targets: noise + spans + 1 };
}

/**
 * random_spans_helper with one sentinel per span on each side: the longest raw segment whose
 * corrupted inputs (plus EOS) fit `inputsLength`, and the length of its targets.
 */
export function randomSpansHelper(inputsLength: number, noiseDensity: number, meanNoiseSpanLength: number): SpanLengths {
  if (!Number.isInteger(inputsLength) || inputsLength < 2) throw new RangeError(`span corruption: inputsLength must be an integer >= 2, got ${inputsLength}`);
  checkNoise(noiseDensity, meanNoiseSpanLength);
  let tokens = inputsLength - 1;
  while (lengthsFor(tokens + 1, noiseDensity, meanNoiseSpanLength).inputs <= inputsLength) tokens++;
  let { inputs, targets } = lengthsFor(tokens, noiseDensity, meanNoiseSpanLength);
  if (noiseDensity === 0.5 && targets > inputs) {
    tokens--;
    targets--;
  }
  return { tokensLength: tokens, inputsLength: inputs, targetsLength: targets };
}

function checkNoise(density: number, meanSpan: number): void {
  if (!(density > 0 && density < 1)) throw new RangeError(`span corruption: noise density must be in (0, 1), got ${density}`);
  if (!(meanSpan >= 1)) throw new RangeError(`span corruption: mean noise span length must be >= 1, got ${meanSpan}`);
}

/** Fisher-Yates shuffle in place with uniform draws from `u`. */
function shuffle<T>(xs: T[], u: () => number): T[] {
  for (let i = xs.length - 1; i > 0; i--) {
    const j = Math.floor(u() * (i + 1));
    [xs[i], xs[j]] = [xs[j]!, xs[i]!];
  }
  return xs;
}

/** `items` split into `segments` non-empty parts, every split equally likely (_random_segmentation). */
function randomSegmentation(items: number, segments: number, u: () => number): number[] {
  const first = shuffle(Array.from({ length: items - 1 }, (_, i) => (i < segments - 1 ? 1 : 0)), u);
  const lengths = new Array<number>(segments).fill(0);
  let id = 0;
  lengths[0] = 1;
  for (const f of first) {
    id += f;
    lengths[id]!++;
  }
  return lengths;
}

/**
 * random_spans_noise_mask: a boolean mask of `length` tokens (true = noise) drawn with `seed`.
 * Lengths below 2 are computed as 2 and cut, as T5 does.
 */
export function randomSpansNoiseMask(length: number, noiseDensity: number, meanNoiseSpanLength: number, seed: number): boolean[] {
  if (!Number.isInteger(length) || length < 1) throw new RangeError(`span corruption: length must be a positive integer, got ${length}`);
  checkNoise(noiseDensity, meanNoiseSpanLength);
  const n = Math.max(length, 2);
  // T5 computes these two in float32.
  const f = Math.fround;
  const noise = Math.min(Math.max(roundHalfEven(f(f(n) * f(noiseDensity))), 1), n - 1);
  const spans = Math.max(roundHalfEven(f(f(noise) / f(meanNoiseSpanLength))), 1);
  const u = rng(seed);
  const noiseLengths = randomSegmentation(noise, spans, u);
  const keepLengths = randomSegmentation(n - noise, spans, u);
  const mask: boolean[] = [];
  for (let s = 0; s < spans; s++) {
    for (let i = 0; i < keepLengths[s]!; i++) mask.push(false);
    for (let i = 0; i < noiseLengths[s]!; i++) mask.push(true);
  }
  return mask.slice(0, length);
}

/**
 * noise_span_to_unique_sentinel: each run of masked tokens becomes one sentinel, the k-th run
 * `sentinel(k)`; unmasked tokens stay.
 */
export function maskedSpansToSentinels(tokens: readonly number[], mask: readonly boolean[], sentinel: (k: number) => number): number[] {
  if (tokens.length !== mask.length) throw new RangeError(`span corruption: ${tokens.length} tokens but a mask of ${mask.length}`);
  const out: number[] = [];
  let k = 0;
  tokens.forEach((t, i) => {
    if (!mask[i]) out.push(t);
    else if (i === 0 || !mask[i - 1]) out.push(sentinel(k++));
  });
  return out;
}

/** A corrupted segment: encoder inputs and decoder targets, both ending with EOS. */
export interface CorruptedExample {
  inputs: number[];
  targets: number[];
}

/**
 * span_corruption of one segment: inputs = the segment with noise spans replaced by sentinels,
 * targets = the noise spans each behind its sentinel (non-noise spans replaced), plus EOS each.
 * `sentinel(k)` is the id of <extra_id_k> (T5 counts down from the vocabulary's last id, which
 * is <extra_id_0> in T5's SentencePiece vocabulary; the tokenizer's own sentinel() keeps that
 * meaning for any vocabulary).
 */
export function spanCorrupt(tokens: readonly number[], mask: readonly boolean[], sentinel: (k: number) => number, eos: number): CorruptedExample {
  return {
    inputs: [...maskedSpansToSentinels(tokens, mask, sentinel), eos],
    targets: [...maskedSpansToSentinels(tokens, mask.map((m) => !m), sentinel), eos],
  };
}
