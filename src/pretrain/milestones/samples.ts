// `bpt generate`, the milestone "does the output depend on the input?": greedy decoding of a
// checkpoint on given texts, or on span-corrupted texts (T5's objective: spans hidden behind
// sentinels <extra_id_k>, which a model that reads fills from the context), and the number of
// DISTINCT outputs among them. A decoder that ignores its encoder (the first plateau of seq2seq
// pretraining) gives one output for every input, or outputs that differ only in frequent words
// (cross-attention passes on a little, such as the input's length); for span corruption the
// share of hidden tokens recovered, beside the same share scored against another input's output,
// tells those apart from outputs that use the input.
import type { Tokenizer } from '../../io/tokenizer/tokenizer.js';
import { greedyGenerate } from '../../nn/t5/generate.js';
import type { T5Model } from '../../nn/t5/model.js';
import { permutation } from '../../tasks/random.js';
import { encodeText } from '../../train/data.js';
import { mixSeed } from '../../train/sampler.js';
import { randomSpansHelper, randomSpansNoiseMask, spanCorrupt } from '../span_corruption.js';
import { forEachLengthBatch } from './batches.js';

/** One encoder input, with what span corruption hid in it (null for a plain text). */
export interface SampleInput {
  input: number[];
  target: number[] | null;
}

export interface CorruptionSettings {
  /** Encoder tokens after corruption, EOS included; the raw text is cut to fit. */
  maxLength: number;
  noiseDensity: number;
  meanNoiseSpanLength: number;
  seed: number;
}

/** Seed stream of the draw of texts and of their masks. */
const STREAM = { draw: 201, mask: 202 } as const;

/** Plain texts as encoder inputs (cut to `maxLength` tokens, EOS kept). */
export function plainInputs(tok: Tokenizer, texts: readonly string[], maxLength: number): SampleInput[] {
  return texts.map((t) => ({ input: encodeText(tok, t, maxLength), target: null }));
}

/**
 * `n` texts drawn without replacement (seeded) among those with at least 8 tokens, each cut to
 * the raw length whose corruption fits `maxLength` and corrupted with its own seeded noise mask.
 */
export function spanCorruptedInputs(tok: Tokenizer, texts: readonly string[], n: number, s: CorruptionSettings): SampleInput[] {
  const raw = randomSpansHelper(s.maxLength, s.noiseDensity, s.meanNoiseSpanLength).tokensLength;
  const out: SampleInput[] = [];
  for (const i of permutation(texts.length, mixSeed(s.seed, STREAM.draw))) {
    if (out.length === n) break;
    const tokens = tok.encode(texts[i]!, { addEos: false, specialTokens: false }).slice(0, raw);
    if (tokens.length < 8) continue;
    const mask = randomSpansNoiseMask(tokens.length, s.noiseDensity, s.meanNoiseSpanLength, mixSeed(s.seed, STREAM.mask, out.length));
    const c = spanCorrupt(tokens, mask, (k) => tok.sentinel(k), tok.eosId);
    out.push({ input: c.inputs, target: c.targets });
  }
  if (out.length < n) throw new RangeError(`span corruption: ${n} texts asked for, only ${out.length} of the ${texts.length} have 8 tokens or more`);
  return out;
}

/** Greedy outputs (token ids after the decoder start, up to and without EOS), in input order. */
export async function greedyOutputs(model: T5Model, inputs: readonly number[][], maxNewTokens: number, batchSize: number): Promise<number[][]> {
  const { eos_token_id: eos } = model.config;
  const out = new Array<number[]>(inputs.length);
  await forEachLengthBatch(model, inputs, batchSize, async ({ inputIds, attentionMask }, index) => {
    const seqs = await greedyGenerate(model, inputIds, attentionMask, { maxNewTokens });
    seqs.forEach((seq, k) => {
      const body = seq.slice(1);
      const end = body.indexOf(eos);
      out[index[k]!] = end < 0 ? body : body.slice(0, end);
    });
  });
  return out;
}

/** One decoded sample: the input, what span corruption hid (if any) and the model's output. */
export interface Sample {
  input: string;
  target: string | null;
  output: string;
}

export interface SamplesReport {
  n: number;
  /** Different outputs among the n (token sequences compared). */
  distinct: number;
  /** How many inputs share the most frequent output. */
  mostCommon: number;
  /**
   * Span corruption: the share of hidden (non-sentinel) target tokens that the output has at the
   * same position, the content beside the distinct count (a model that only learnt the sentinel
   * layout scores near 0); null for plain texts.
   */
  recovered: number | null;
  /**
   * The same share with each input scored against the next input's output (a rotation): what
   * recovery owes to outputs that ignore the input. Null for plain texts or a single sample.
   */
  recoveredByOthers: number | null;
  samples: Sample[];
}

/**
 * The share of hidden target tokens (sentinels excepted) that the outputs repeat at the same
 * position. A target is <extra_id_0> span <extra_id_1> span ... EOS, so its sentinels are found
 * in order; text never encodes to a sentinel id (span corruption encodes it as plain text).
 */
function recoveredShare(tok: Tokenizer, inputs: readonly SampleInput[], outputs: readonly number[][]): number | null {
  let hidden = 0, right = 0;
  inputs.forEach((x, i) => {
    let next = 0;
    x.target?.slice(0, -1).forEach((id, j) => {
      if (id === tok.sentinel(next)) next++;
      else {
        hidden++;
        if (outputs[i]![j] === id) right++;
      }
    });
  });
  return hidden > 0 ? right / hidden : null;
}

/** Decodes `inputs` and their `outputs` (sentinels shown, EOS dropped) and counts distinct outputs. */
export function samplesReport(tok: Tokenizer, inputs: readonly SampleInput[], outputs: readonly number[][]): SamplesReport {
  const show = (ids: readonly number[]): string => tok.decode(ids[ids.length - 1] === tok.eosId ? ids.slice(0, -1) : ids);
  if (inputs.length !== outputs.length) throw new RangeError(`samples: ${inputs.length} inputs but ${outputs.length} outputs`);
  const counts = new Map<string, number>();
  for (const key of outputs.map((o) => o.join(','))) counts.set(key, (counts.get(key) ?? 0) + 1);
  return {
    n: outputs.length,
    distinct: counts.size,
    mostCommon: Math.max(0, ...counts.values()),
    recovered: recoveredShare(tok, inputs, outputs),
    recoveredByOthers: outputs.length > 1 ? recoveredShare(tok, inputs, outputs.map((_, i) => outputs[(i + 1) % outputs.length]!)) : null,
    samples: inputs.map((x, i) => ({ input: show(x.input), target: x.target && show(x.target), output: show(outputs[i]!) })),
  };
}

/** The samples as lines for people: `input -> output` (and what was hidden), then the count. */
export function formatSamples(r: SamplesReport): string {
  const lines = r.samples.map((s) => `${JSON.stringify(s.input)}\n  -> ${JSON.stringify(s.output)}${s.target === null ? '' : `   (hidden: ${JSON.stringify(s.target)})`}`);
  const pct = (x: number | null): string => (x === null ? '-' : `${(100 * x).toFixed(1)}%`);
  const recovered = r.recovered === null ? '' : `; hidden tokens recovered in place: ${pct(r.recovered)} (by the next input's output: ${pct(r.recoveredByOthers)})`;
  return [...lines, `distinct outputs: ${r.distinct} of ${r.n} (the most common output for ${r.mostCommon})${recovered}`].join('\n');
}
